"""Read a YAML spec into plain data plus the source location of every map key.

Scalars follow the YAML 1.2 core schema (see docs/spec.md, "YAML semantics"):
only ``true``/``false`` (any case variant the schema lists) are booleans, so
``NO``, ``off`` and ``yes`` stay strings; dates, times and base-60 numbers stay
strings; ``0o17`` and ``0x1F`` are integers. One deliberate step further than the
core schema: a decimal number written with a leading zero (``01234``) stays a
string, because reading it as 1234 would drop what the user wrote.

PyYAML (with libyaml) composes the node tree with a resolver configured for
those rules (:class:`CoreResolver`); we walk the nodes ourselves so that
locations survive, duplicate keys are reported (PyYAML's constructor would keep
the last one), an explicit key wins over one merged from an alias (``<<``), and
the input limits of :mod:`provision.spec.limits` hold while aliases expand.
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any, Callable

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import BaseResolver

from provision.errors import Diagnostic
from provision.spec.document import Document, Path
from provision.spec.limits import MAX_ALIAS_VALUES, MAX_DEPTH

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class CoreResolver(BaseResolver):
    """PyYAML's resolver configured with the YAML 1.2 core schema's implicit tags.

    The expressions are those of YAML 1.2.2, section 10.3.2, except that a
    decimal integer may not start with ``0`` unless it is ``0`` (it then stays
    a string), and a float's integer part follows the same rule.
    """


for _tag, _regexp, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_INT, r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (_FLOAT, r"^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
             r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    (_MERGE, r"^(?:<<)$", "<"),
):
    CoreResolver.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))

_BaseParser: Any
try:
    from yaml._yaml import CParser as _BaseParser  # libyaml
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyParser(Reader, Scanner, Parser, Composer):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    _BaseParser = _PyParser  # noqa: F811

_SCALAR_NODE = yaml.ScalarNode


class _Loader(_BaseParser, SafeConstructor, CoreResolver):  # type: ignore[misc]
    """libyaml's parser, PyYAML's safe constructor and the core-schema resolver."""

    # Plain scalars whose tag a loader remembers (the same few recur: ``true``, ``1``,
    # a team name): up to this many, of at most 32 characters each.
    TAGS_KEPT = 65536

    def __init__(self, stream: str) -> None:
        _BaseParser.__init__(self, stream)
        SafeConstructor.__init__(self)
        CoreResolver.__init__(self)
        self.resolve = self._resolver()  # type: ignore[method-assign]

    # The composer calls these around every node for path resolvers, and none are
    # registered (``resolve`` relies on that too), so they do nothing: builtins
    # that ignore what they are given cost a fraction of a Python call (200k nodes).
    descend_resolver = staticmethod(operator.is_)  # type: ignore[assignment]
    ascend_resolver = staticmethod(tuple)  # type: ignore[assignment]

    def _resolver(self) -> Callable[[Any, Any, Any], Any]:
        """This loader's ``resolve(kind, value, implicit) -> tag``, remembering the tags of
        plain scalars. A closure: its cache and the base resolver are local variables,
        read faster than attributes of this (C-based) parser, once per node."""
        tags: dict[str, str] = {}
        tag_of = tags.get
        # A resolver of its own, not this loader's: the closure must not hold the loader
        # (which holds the closure), or the pair would wait for the cycle collector.
        base: Callable[[Any, Any, Any], Any] = CoreResolver().resolve
        path_resolvers = self.yaml_path_resolvers
        kept = self.TAGS_KEPT

        def resolve(kind: Any, value: Any, implicit: Any) -> Any:
            if kind is _SCALAR_NODE:
                if not implicit[0]:
                    return _STR  # quoted, untagged: always a string
                tag = tag_of(value)
                if tag is None:
                    tag = base(kind, value, implicit)
                    if len(value) <= 32 and len(tags) < kept:
                        tags[value] = tag
                return tag
            if not path_resolvers:   # none are registered: the default tags
                if kind is yaml.MappingNode:
                    return _MAP
                if kind is yaml.SequenceNode:
                    return _SEQ
            return base(kind, value, implicit)

        return resolve


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse_yaml(text: str, file: str) -> Document:
    # The YAML reader refuses raw control characters other than tab, CR, LF and NEL.
    controls = any(c in text for c in ("\\", "\t", "\r", "\x85"))
    doc = Document(file=file, controls=controls)
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
            problem = exc.problem or "invalid YAML"
            hint = "check indentation, colons and quotes near this line"
            opened = exc.context_mark
            if (exc.context and exc.context.startswith("while parsing a flow") and opened
                    and exc.problem_mark and opened.line != exc.problem_mark.line):
                # An unclosed [ or { is noticed lines later: point at where it opened.
                kind = exc.context.removeprefix("while parsing a ")
                problem = (f"the {kind} opened here is not closed: {problem} "
                           f"(noticed at line {line}, column {col})")
                line, col = opened.line + 1, opened.column + 1
                hint = "close it on this line: ']' ends a list, '}' a map"
            elif exc.context:
                problem = f"{exc.context}, {problem}"
            if "nesting depth" in problem:
                hint = f"a spec may nest at most {MAX_DEPTH} levels"
            doc.diagnostics.append(Diagnostic(
                f"YAML syntax error: {problem}", file=file, line=line, column=col, hint=hint))
            return doc
        except yaml.YAMLError as exc:
            doc.diagnostics.append(Diagnostic(f"YAML syntax error: {exc}", file=file))
            return doc
        if root is None:
            doc.data = {}
            return doc
        doc.locations[()] = _mark(root)
        walker = _Walker(doc)
        try:
            doc.data = walker.convert(root, (), 0)
        except _Refused as exc:
            doc.data = None  # nothing half-read is built
            doc.duplicates.clear()
            doc.diagnostics.append(exc.diagnostic)
    finally:
        loader.dispose()
    return doc


class _Walker:
    """Turns composed nodes into plain data, once per path, within the input limits.

    An alias is the same node object as its anchor, so a node met a second time
    is being expanded through an alias: every value produced inside such an
    expansion counts against :data:`MAX_ALIAS_VALUES`.
    """

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.seen: set[int] = set()
        self.expanding = 0        # > 0 while inside an alias expansion
        self.alias_values = 0
        self.alias_path: Path = ()  # where the outermost expansion under way was written

    def limit(self, node: yaml.Node, message: str, hint: str) -> _Refused:
        line, col = _mark(node)
        return _Refused(Diagnostic(message, file=self.doc.file, line=line, column=col,
                                         hint=hint))

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if node.__class__ is yaml.ScalarNode and not self.expanding:
            return node.value if node.tag == _STR else self.scalar(node)
        if depth > MAX_DEPTH:
            raise self.limit(node, f"maps and lists nest deeper than {MAX_DEPTH} levels",
                             f"input limit: at most {MAX_DEPTH} levels of maps and lists")
        key = id(node)
        alias = key in self.seen and not isinstance(node, yaml.ScalarNode)
        if self.expanding or alias:
            self.alias_values += 1
            if self.alias_values > MAX_ALIAS_VALUES:
                line, col = self.doc.where(self.alias_path)
                raise _Refused(Diagnostic(
                    f"YAML aliases expand to more than {MAX_ALIAS_VALUES:,} values",
                    file=self.doc.file, line=line, column=col,
                    hint=f"input limit: aliases may expand to at most {MAX_ALIAS_VALUES:,} "
                         "values; write the repeated data out or use variables"))
        elif not isinstance(node, yaml.ScalarNode):
            self.seen.add(key)
        if alias:
            if not self.expanding:
                self.alias_path = path
            self.expanding += 1
            try:
                return self.collection(node, path, depth)
            finally:
                self.expanding -= 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        return self.collection(node, path, depth)

    def collection(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            self.check_tag(node, _SEQ)
            doc = self.doc
            items = []
            for index, item in enumerate(node.value):
                if (not isinstance(item, yaml.ScalarNode) and not self.expanding
                        and id(item) not in self.seen):  # an alias has no mark of its own
                    doc.locations[path + (index,)] = _mark(item)
                items.append(self.convert(item, path + (index,), depth + 1))
            return items
        return self.scalar(node)

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise self.unsupported(node)
        doc = self.doc
        locations = doc.locations
        scalar_node, mapping_node = yaml.ScalarNode, yaml.MappingNode
        seen = self.seen
        expanding = self.expanding      # not changed by the calls below once they return
        result: dict[Any, Any] = {}
        merged: list[Any] = []
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag == _MERGE:
                merged.append(self.convert(value_node, path, depth))
                continue
            if key_node.__class__ is not scalar_node:
                line, col = _mark(key_node)
                doc.diagnostics.append(Diagnostic(
                    "map keys must be plain strings", file=doc.file, line=line, column=col))
                continue
            # Keys are names: keep them as written (YAML 1.1 would turn `on:` into True).
            key = key_node.value
            sub = path + (key,)
            if key in result:  # merged keys are added after the loop: this one is written
                if not expanding:
                    line, col = _mark(key_node)
                    first = locations.get(sub, (0, 0))
                    doc.duplicates.append((sub, line, col, first[0]))
                continue
            if expanding:
                result[key] = self.convert(value_node, sub, depth + 1)
                continue
            mark = key_node.start_mark
            locations[sub] = (mark.line + 1, mark.column + 1)
            if value_node.__class__ is scalar_node:   # convert()'s first case, inline
                result[key] = (value_node.value if value_node.tag == _STR
                               else self.scalar(value_node))
            elif (value_node.__class__ is mapping_node and depth < MAX_DEPTH
                  and id(value_node) not in seen):
                seen.add(id(value_node))    # convert()'s path for a map met the first time
                result[key] = self.mapping(value_node, sub, depth + 1)
            else:
                result[key] = self.convert(value_node, sub, depth + 1)
        # `<<: *base` (or a list of them): keys written here win, then earlier merges.
        for source in merged:
            for part in source if isinstance(source, list) else [source]:
                if isinstance(part, dict):
                    for k, v in part.items():
                        result.setdefault(k, v)
        return result

    def check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise self.unsupported(node)

    def unsupported(self, node: yaml.Node) -> _Refused:
        line, col = _mark(node)
        return _Refused(Diagnostic(
            f"unsupported YAML tag '{node.tag}'", file=self.doc.file, line=line, column=col,
            hint="specs use plain YAML values; remove the tag or quote the value"))

    def scalar(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _INT:
            text = value.replace("_", "")
            if text.startswith(("0o", "0x")):
                return int(text[2:], 8 if text[1] == "o" else 16)
            try:
                return int(text)
            except ValueError:
                raise self.invalid(node, "integer") from None
        if tag == _FLOAT:
            text = value.lower()
            if text.endswith(".inf"):
                return -math.inf if text.startswith("-") else math.inf
            if text == ".nan":
                return math.nan
            try:
                return float(text)
            except ValueError:
                raise self.invalid(node, "number") from None
        if tag == _BOOL:
            text = value.lower()
            if text not in ("true", "false"):
                raise self.invalid(node, "boolean")
            return text == "true"
        if tag == _NULL:
            return None
        raise self.unsupported(node)

    def invalid(self, node: yaml.Node, what: str) -> _Refused:
        line, col = _mark(node)
        return _Refused(Diagnostic(
            f"{node.value!r} is not a valid {what}", file=self.doc.file, line=line,
            column=col, hint="remove the explicit tag or quote the value"))
