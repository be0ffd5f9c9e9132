"""Where an HCL text leaves a bracket or a string open, for the syntax error the parser
reports only at the end of the file.

The scan knows HCL's lexical forms that can hold a bracket without opening one (HCL
native syntax, hashicorp/hcl ``hclsyntax/spec.md``): quoted strings (a backslash
escapes the next character; ``${ ... }`` inside one is part of the string), heredocs
(``<<ID`` / ``<<-ID`` up to a line holding only ``ID``) and comments (``#`` and ``//``
to the end of the line, ``/* ... */``).
"""

from __future__ import annotations

import re

_OPENERS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\n")


def unclosed(text: str) -> tuple[str, int, int] | None:
    """The innermost bracket (or quote) still open at the end of ``text``, as
    ``(char, line, column)`` (1-based); None when every one is closed, or when a closer
    does not match its opener (then the parser's own position is the better one)."""
    stack: list[tuple[str, int, int]] = []
    i, line, start = 0, 1, 0          # start: offset of the current line's first char
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, start = line + 1, i + 1
        elif c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return None
            line += text.count("\n", i, end)
            if "\n" in text[i:end]:
                start = text.rfind("\n", i, end) + 1
            i = end + 2
            continue
        elif c == '"':
            opened = (c, line, i - start + 1)
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":          # a quoted string ends on its line
                    return opened
                i += 1
            if i >= n:
                return opened
        elif c == "<" and (m := _HEREDOC.match(text, i)):
            closing = re.compile(rf"^[ \t]*{re.escape(m.group(1))}[ \t]*$", re.M)
            marker = closing.search(text, m.end())
            if marker is None:
                return ("<<", line, i - start + 1)
            line += text.count("\n", i, marker.end())
            start = text.rfind("\n", 0, marker.end()) + 1
            i = marker.end()
            continue
        elif c in _OPENERS:
            stack.append((c, line, i - start + 1))
        elif c in _CLOSERS:
            if not stack or stack[-1][0] != _CLOSERS[c]:
                return None
            stack.pop()
        i += 1
    return stack[-1] if stack else None
