"""Read an HCL spec into the same plain data shape as YAML, with key locations.

python-hcl2 (8.x) parses into a tree of rule objects that keep Lark's position
metadata; its ``with_meta`` serialisation option is not implemented in this
version, so we walk bodies, blocks, objects and tuples ourselves and let the
library serialise only leaf expressions. Blocks map onto the YAML shape::

    variable "owner" { ... }      ->  variables: {owner: {...}}
    environment "prod" { ... }    ->  environments: {prod: {...}}
    resource "logs" { ... }       ->  resources: {logs: {...}}
    properties { ... } / aws { }  ->  properties: {...} / aws: {...}  (unlabelled block = map)
"""

from __future__ import annotations

from typing import Any

import hcl2
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule
from hcl2.rules.containers import ObjectRule, TupleRule
from hcl2.rules.expressions import ExprTermRule
from hcl2.utils import SerializationContext, SerializationOptions
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from provision.errors import Diagnostic
from provision.spec.document import Document, Path, may_hold_controls
from provision.spec.hcl_brackets import unclosed
from provision.spec.limits import MAX_DEPTH

_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True,
    preserve_heredocs=False,
)
# Top-level block type -> the YAML key it fills.
_TOP_BLOCKS = {"variable": "variables", "environment": "environments", "resource": "resources"}


def _pos(node: Any) -> tuple[int, int]:
    meta = getattr(node, "_meta", None)
    return (getattr(meta, "line", 0) or 0, getattr(meta, "column", 0) or 0)


def parse_hcl(text: str, file: str) -> Document:
    """Parse HCL text; a UTF-8 byte-order mark and CRLF line endings read like plain LF text."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    doc = Document(file=file, form="hcl", controls=may_hold_controls(text))
    try:
        tree = hcl2.parses(text, discard_comments=True)
    except RecursionError:
        doc.diagnostics.append(_too_deep(file, 1, 1))
        return doc
    except UnexpectedInput as exc:
        doc.diagnostics.append(_syntax_error(exc, text, file))
        return doc
    except Exception as exc:  # the library raises plain errors for some bad input
        doc.diagnostics.append(Diagnostic(f"HCL syntax error: {exc}", file=file))
        return doc
    doc.locations[()] = (1, 1)
    try:
        data = _body(tree.body, (), doc, top=True)
    except RecursionError:
        doc.diagnostics.append(_too_deep(file, 1, 1))
        return doc
    deepest = max(doc.locations, key=len)
    if len(deepest) > MAX_DEPTH:
        doc.diagnostics.append(_too_deep(file, *doc.locations[deepest[:MAX_DEPTH + 1]]))
        return doc
    doc.data = data
    return doc


def _too_deep(file: str, line: int, column: int) -> Diagnostic:
    return Diagnostic(f"maps and lists nest deeper than {MAX_DEPTH} levels", file=file, line=line,
                      column=column,
                      hint=f"input limit: at most {MAX_DEPTH} levels of blocks, maps and lists")


def _syntax_error(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    if _at_end(exc) and (opened := unclosed(text)):
        # Noticed only at the end of the file: point at where it was left open.
        char, at_line, at_column = opened
        what = "string" if char == '"' else "heredoc" if char == "<<" else f"'{char}'"
        closer = _CLOSE_WITH[char]
        return Diagnostic(
            f"HCL syntax error: the {what} opened here is not closed (noticed at the end "
            f"of the file, line {line or text.count(chr(10)) + 1})", file=file,
            line=at_line, column=at_column, hint=f"close it with {closer}")
    return Diagnostic(f"HCL syntax error: {_describe(exc)}", file=file, line=line,
                      column=column, hint="check braces, '=' between names and values, and "
                                          "quotes near this line")


_CLOSE_WITH = {'"': "'\"'", "<<": "its end marker on a line of its own", "{": "'}'",
               "[": "']'", "(": "')'"}


def _at_end(exc: UnexpectedInput) -> bool:
    return isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END")


def _describe(exc: UnexpectedInput) -> str:
    if _at_end(exc):
        return "unexpected end of file (is a '{', '[' or '\"' left open?)"
    if isinstance(exc, UnexpectedToken):
        token = str(exc.token).strip() or repr(str(exc.token))
        return f"unexpected {token!r}"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r}"
    return str(exc).splitlines()[0]


def _put(result: dict[str, Any], key: str, value: Any, path: Path, pos: tuple[int, int],
         doc: Document) -> None:
    sub = path + (key,)
    if key in result:
        doc.duplicates.append((sub, pos[0], pos[1], doc.locations.get(sub, (0, 0))[0]))
        return
    doc.locations[sub] = pos
    result[key] = value


def _body(body: BodyRule, path: Path, doc: Document, top: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for child in body.children:
        if isinstance(child, AttributeRule):
            key = str(child.identifier.serialize(_OPTIONS))
            pos = _pos(child)
            if key in result:
                _put(result, key, None, path, pos, doc)
                continue
            doc.locations[path + (key,)] = pos
            result[key] = _expr(child.expression, path + (key,), doc)
        elif isinstance(child, BlockRule):
            _block(child, result, path, doc, top)
    return result


def _block(block: BlockRule, result: dict[str, Any], path: Path, doc: Document,
           top: bool) -> None:
    labels = [str(label.serialize(_OPTIONS)) for label in block.labels]
    kind, names = labels[0], labels[1:]
    pos = _pos(block)
    key = _TOP_BLOCKS.get(kind, kind) if top else kind
    if top and kind in _TOP_BLOCKS and len(names) != 1:
        doc.diagnostics.append(Diagnostic(
            f"'{kind}' block needs exactly one label, got {len(names)}", file=doc.file,
            line=pos[0], column=pos[1], hint=f'write {kind} "<name>" {{ ... }}'))
        return
    if len(names) > 1:
        doc.diagnostics.append(Diagnostic(
            f"block '{kind}' has {len(names)} labels; at most one is allowed",
            file=doc.file, line=pos[0], column=pos[1]))
        return
    if not names:
        if key in result:
            _put(result, key, None, path, pos, doc)
            return
        doc.locations[path + (key,)] = pos
        result[key] = _body(block.body, path + (key,), doc)
        return
    group = result.setdefault(key, {})
    if not isinstance(group, dict):
        _put(result, key, None, path, pos, doc)
        return
    doc.locations.setdefault(path + (key,), pos)
    _put(group, names[0], _body(block.body, path + (key, names[0]), doc), path + (key,), pos, doc)


def _expr(node: Any, path: Path, doc: Document) -> Any:
    inner = node
    while isinstance(inner, ExprTermRule) and not inner.parentheses:
        inner = inner.expression
    if isinstance(inner, ObjectRule):
        obj: dict[str, Any] = {}
        for element in inner.elements:
            key = str(element.key.serialize(_OPTIONS, SerializationContext()))
            pos = _pos(element)
            if key in obj:
                _put(obj, key, None, path, pos, doc)
                continue
            doc.locations[path + (key,)] = pos
            obj[key] = _expr(element.expression, path + (key,), doc)
        return obj
    if isinstance(inner, TupleRule):
        items = []
        for index, item in enumerate(inner.elements):
            doc.locations[path + (index,)] = _pos(item)
            items.append(_expr(item, path + (index,), doc))
        return items
    return node.serialize(_OPTIONS, SerializationContext())
