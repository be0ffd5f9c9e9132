"""References inside spec values: parsing ``${...}``, walking and substituting them.

A string that is exactly one reference (``"${logs.arn}"``) becomes a
:class:`Reference`; a string with references inside (``"logs-${var.owner}"``)
becomes a :class:`Template`; ``$${`` is an escaped literal ``${``. The grammar
inside ``${...}`` is deliberately small: dotted names only.

    ${var.<name>}                 a spec variable
    ${env.name}                   the environment's name
    ${env.<cloud>.<key>}          a per-cloud environment setting (region, project, ...)
    ${<resource>.<output>[...]}   an output or input of another resource
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterator

from provision.spec.model import Reference, Template, Value

_REF = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class RefSyntaxError(ValueError):
    """A ``${...}`` that does not follow the reference grammar."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@lru_cache(maxsize=65536)
def parse_reference(expr: str, raw: str) -> Reference:
    """Parse the inside of ``${...}`` (cached: References are immutable)."""
    parts = expr.strip().split(".")
    if not all(_SEGMENT.match(p) for p in parts):
        raise RefSyntaxError(
            f"unsupported expression {raw!r}",
            "references are dotted names: ${var.x}, ${env.aws.region}, ${resource.output}",
        )
    head, rest = parts[0], parts[1:]
    if head == "var":
        if len(rest) != 1:
            raise RefSyntaxError(f"bad variable reference {raw!r}", "write ${var.<name>}")
        return Reference("var", rest[0], "", raw)
    if head == "env":
        if rest == ["name"]:
            return Reference("env", "name", "", raw)
        if len(rest) != 2:
            raise RefSyntaxError(
                f"bad environment reference {raw!r}", "write ${env.name} or ${env.<cloud>.<key>}"
            )
        return Reference("env", rest[0], rest[1], raw)
    if not rest:
        raise RefSyntaxError(
            f"reference {raw!r} names no output", f"write ${{{head}.<output>}}, e.g. ${{{head}.id}}"
        )
    return Reference("resource", head, ".".join(rest), raw)


_CALL = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _check_plain(segment: str, text: str) -> None:
    if "${" in segment:
        call = _CALL.search(segment)
        if call:        # e.g. HCL's jsonencode({...}), whose braces hide the closing }
            raise RefSyntaxError(
                f"unsupported expression: a function call ({call.group(1)}(...)) in {text!r}",
                "write the value itself (a map or a list: provision encodes a JSON "
                "property from it), or a reference such as ${resource.attr}")
        raise RefSyntaxError(f"unterminated or nested reference in {text!r}",
                             "close each ${ with }; write $${ for a literal ${")


def parse_string(text: str) -> Value:
    """Turn a string into a str, Reference or Template."""
    if "${" not in text:
        return text
    # _REF.split gives the literal text between matches and, for each match, its group:
    # None for an escaped "$${", else the inside of "${...}".
    pieces = _REF.split(text)
    parts: list[str | Reference] = []
    buf = pieces[0]
    _check_plain(buf, text)
    for i in range(1, len(pieces), 2):
        inner, literal = pieces[i], pieces[i + 1]
        if inner is None:
            buf += "${"
        else:
            if buf:
                parts.append(buf)
            parts.append(parse_reference(inner, "${" + inner + "}"))
            buf = ""
        _check_plain(literal, text)     # in order: the first problem in the text is reported
        buf += literal
    if buf:
        parts.append(buf)
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return parts[0]
    if all(isinstance(p, str) for p in parts):
        return "".join(p for p in parts if isinstance(p, str))
    return Template(tuple(parts))


class RefParser:
    """Parses the references in spec values, remembering each text it parsed.

    One parser serves one spec build (:class:`provision.spec.build`'s builder owns
    it), so what it remembers lives as long as that build: a spec's texts recur
    (the same ``"${var.owner}"`` in many resources), and a result is immutable, so
    sharing it between them is safe. At most ``limit`` texts are remembered.
    """

    def __init__(self, limit: int = 65536) -> None:
        self._parsed: dict[str, Value] = {}
        self._limit = limit

    def text(self, text: str) -> Value:
        """:func:`parse_string` of ``text``. Raises :class:`RefSyntaxError`."""
        if "${" not in text:
            return text
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = parse_string(text)
            if len(self._parsed) < self._limit:
                self._parsed[text] = parsed
        return parsed

    def value(self, value: Any, on_error: Callable[[RefSyntaxError, tuple[Any, ...]], None],
              path: tuple[Any, ...] = ()) -> Value:
        """Every string in a nested value parsed; a syntax error is reported to
        ``on_error`` with the path below ``value`` where it is (that string stays as
        written), and parsing goes on."""
        if isinstance(value, str):
            if "${" not in value:
                return value
            try:
                return self.text(value)
            except RefSyntaxError as exc:
                on_error(exc, path)
                return value
        if isinstance(value, dict):
            return {k: self.value(v, on_error, path + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, on_error, path + (i,)) for i, v in enumerate(value)]
        return value


def iter_references(value: Value) -> Iterator[Reference]:
    """Every reference in a nested value, in order of appearance."""
    found: list[Reference] = []
    _collect(value, found)
    return iter(found)


def located_references(value: Value, path: str) -> list[tuple[str, Reference]]:
    """Every reference in a nested value with its dotted path (``tags.owner``, ``list.0``)."""
    found: list[tuple[str, Reference]] = []
    _collect_at(value, path, found)
    return found


def _collect_at(value: Value, path: str, found: list[tuple[str, Reference]]) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, Reference):
        found.append((path, value))
    elif isinstance(value, Template):
        found.extend((path, p) for p in value.parts if isinstance(p, Reference))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, str):   # a plain string holds none: no path for it
                _collect_at(item, f"{path}.{key}", found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                _collect_at(item, f"{path}.{index}", found)


def _collect(value: Value, found: list[Reference]) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, Reference):
        found.append(value)
    elif isinstance(value, Template):
        found.extend(p for p in value.parts if isinstance(p, Reference))
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)


def format_scalar(value: Any) -> str:
    """How a non-string value is written when interpolated into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def substitute(value: Value, lookup: Callable[[Reference], tuple[bool, Any]]) -> Value:
    """Replace references for which ``lookup`` returns ``(True, value)``; keep the others."""
    if isinstance(value, Reference):
        found, result = lookup(value)
        return result if found else value
    if isinstance(value, Template):
        parts: list[str | Reference] = []
        for part in value.parts:
            if isinstance(part, Reference):
                found, result = lookup(part)
                if not found:
                    parts.append(part)
                    continue
                part = result if isinstance(result, (str, Reference)) else format_scalar(result)
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            elif not (isinstance(part, str) and part == ""):
                parts.append(part)
        if all(isinstance(p, str) for p in parts):
            return "".join(p for p in parts if isinstance(p, str))
        return Template(tuple(parts))
    if isinstance(value, dict):
        return {k: v if v.__class__ is str else substitute(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [v if v.__class__ is str else substitute(v, lookup) for v in value]
    return value
