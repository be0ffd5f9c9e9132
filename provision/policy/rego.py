"""Rego rules evaluated in-process with ``regopy`` (rego-cpp).

Conventions for a pack's ``*.rego`` files (``*_test.rego`` are tests, not rules):

* a rule is one package; its identity is a constant ``metadata := {...}``
  object (id, title, severity, phase, resource_types, remediation, reads), or an
  entry for the package in the manifest's ``rules:`` list;
* violations are ``deny`` (failures, enforced as configured) and ``warn`` (always
  ``warn``) set members: an object ``{"resource": <id>, "message": <text>}`` or
  a plain string (matched to a resource by its id / Terraform address inside it);
* a package without metadata is a helper library -- except in packs whose
  manifest says ``input: terraform``, where every package with ``deny``/``warn``
  is a rule, so a conftest-style Terraform-plan policy runs unchanged.

Querying a rule whose body is false yields *undefined*, not ``false``; so each
rule package is queried whole (``data.<package>``) and its ``deny``/``warn``
keys read from the object. One input document per pack and check is set once.
Pack parameters (per environment) are ``data.params``.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import regopy
from regopy import rego_shared as rs

from provision.errors import PolicyError
from provision.policy.model import RuleMeta
from provision.policy.opa import OpaBundle

regopy.set_default_log_level("None")

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)
_ERRMSG = re.compile(r"\(errormsg \d+:([^)]*)\)")
_ERRLOC = re.compile(r"\(error \d+:([^|]*)\|(\d+)\|")


def error_text(exc: BaseException | str) -> str:
    """A one-line message from a RegoError's (or an error output's) S-expression."""
    text = str(exc)
    messages = _ERRMSG.findall(text)
    return "; ".join(dict.fromkeys(m.strip() for m in messages)) or text.strip().splitlines()[0]


def line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


@dataclass
class RegoModule:
    path: Path
    source: str
    package: str

    @property
    def is_test(self) -> bool:
        return self.path.name.endswith("_test.rego")

    def test_names(self) -> list[str]:
        return _TEST_RULE.findall(self.source)

    @classmethod
    def read(cls, path: Path) -> "RegoModule":
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read Rego module: {exc}") from None
        return cls.from_source(path, source)

    @classmethod
    def from_source(cls, path: Path, source: str) -> "RegoModule":
        match = _PACKAGE.search(source)
        if not match:
            raise PolicyError(f"{path}: no 'package' declaration",
                              hint="start every Rego file with 'package <name>'")
        return cls(path, source, match.group(1))


def new_interpreter(modules: list[RegoModule], data: dict[str, Any]) -> regopy.Interpreter:
    """An interpreter with ``modules`` and ``data`` loaded; PolicyError names the bad file."""
    rego = regopy.Interpreter()
    rego.log_level = regopy.LogLevel.NONE
    rego.add_data(data)
    for module in modules:
        try:
            rego.add_module(str(module.path), module.source)
        except regopy.RegoError as exc:
            loc = _ERRLOC.search(str(exc))
            where = str(module.path)
            if loc:
                where += f":{line_of(module.source, int(loc.group(2)))}"
            raise PolicyError(f"{where}: Rego error: {error_text(exc)}",
                              hint="check the module with the Rego test runner: provision policy test") from None
    return rego


def query_value(rego: regopy.Interpreter, query: str) -> tuple[bool, Any]:
    """(defined, value) of a query's first expression; PolicyError on evaluation errors.

    Uses the low-level calls: rego-cpp may answer an evaluation error as an
    ``(error ...)`` term with ``ok`` still true, which ``regopy.Output`` cannot parse.
    """
    try:
        impl = rs.rego_query(rego._impl, query)
    except regopy.RegoError as exc:
        raise PolicyError(f"Rego query '{query}' failed: {error_text(exc)}") from None
    try:
        ok = rs.rego_output_ok(impl)
        text = rs.rego_output_string(impl)
    finally:
        rs.rego_free_output(impl)
    if text.strip() == "undefined":
        return False, None
    try:
        data = json.loads(text) if ok else None
    except ValueError:
        data = None
    if data is None:
        raise PolicyError(f"Rego query '{query}' failed: {error_text(text)}")
    first = data[0] if isinstance(data, list) and data else data
    expressions = first.get("expressions") if isinstance(first, dict) else None
    if not expressions:
        return False, None
    return True, expressions[0]


@dataclass
class RegoRule:
    meta: RuleMeta
    package: str
    module: RegoModule


@dataclass
class RegoPack:
    """The Rego half of a pack: one interpreter, its rules, and which input shape it wants."""

    name: str
    modules: list[RegoModule]
    params: dict[str, Any]
    terraform: bool = False
    manifest_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: list[RegoRule] = field(default_factory=list)
    # Evaluate checks with this OPA binary (provision.policy.opa) instead of regopy.
    opa: Path | None = None
    _rego: regopy.Interpreter | None = None
    _bundle: OpaBundle | None = None
    # One interpreter holds one input: checks of parallel stages take turns.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        """Compile the modules and read every rule's metadata; PolicyError if broken."""
        self._rego = new_interpreter(self.modules, {"params": self.params})
        if self.opa is not None:
            self._bundle = OpaBundle(self.opa, [(m.path, m.source) for m in self.modules],
                                     {"params": self.params})
        seen: set[str] = set()
        for module in self.modules:
            if module.package in seen:
                continue
            seen.add(module.package)
            defined, meta = query_value(self._rego, f"data.{module.package}.metadata")
            listed = self.manifest_rules.get(module.package)
            if defined and not isinstance(meta, dict):
                raise PolicyError(f"{module.path}: 'metadata' must be an object")
            if defined or listed is not None:
                data = {**(listed or {}), **(meta if defined else {})}
                self.rules.append(RegoRule(RuleMeta.from_dict(data), module.package, module))
            elif self.terraform and re.search(r"^\s*(deny|warn|violation)\b", module.source,
                                              re.MULTILINE):
                default = {"id": f"{self.name}/{module.package}", "title": module.package}
                self.rules.append(RegoRule(RuleMeta.from_dict(default), module.package, module))

    @staticmethod
    def _query_all(query: Callable[[str], tuple[bool, Any]],
                   rules: list[RegoRule]) -> dict[str, tuple[bool, Any] | str]:
        """Every rule package in one query (each query costs a fixed compile); one by one
        when that fails, so a broken rule is an error of its own and not of its pack."""
        answers: dict[str, tuple[bool, Any] | str] = {}
        if len(rules) > 1:
            try:
                defined, values = query("[" + ", ".join(f"data.{r.package}" for r in rules) + "]")
            except PolicyError:
                defined, values = False, None
            if defined and isinstance(values, list) and len(values) == len(rules):
                return {r.meta.id: (True, v) for r, v in zip(rules, values)}
        for r in rules:
            try:
                answers[r.meta.id] = query(f"data.{r.package}")
            except PolicyError as exc:
                answers[r.meta.id] = exc.message
        return answers

    def types(self) -> set[str] | None:
        """The resource types the rules read (None: some rule reads every type)."""
        out: set[str] = set()
        for r in self.rules:
            if not r.meta.resource_types:
                return None
            out.update(r.meta.resource_types)
        return out

    def evaluate(self, document: dict[str, Any],
                 rules: list[RegoRule]) -> dict[str, tuple[list[Any], list[Any]] | str]:
        """Per rule id: (deny members, warn members), or an error message."""
        rego = self._rego
        assert rego is not None, "RegoPack.load() first"
        bundle = self._bundle
        if bundle is not None:      # one `opa eval` per query; the input is sent once each
            answers = self._query_all(lambda q: bundle.query(q, document), rules)
        else:
            with self._lock:
                set_input(rego, document)
                answers = self._query_all(lambda q: query_value(rego, q), rules)
        out: dict[str, tuple[list[Any], list[Any]] | str] = {}
        for r in rules:
            answer = answers[r.meta.id]
            if isinstance(answer, str):
                out[r.meta.id] = answer
                continue
            defined, value = answer
            value = value if defined and isinstance(value, dict) else {}
            deny = list(_members(value.get("deny"))) + list(_members(value.get("violation")))
            out[r.meta.id] = (deny, list(_members(value.get("warn"))))
        return out


_lib = rs.rego


def _add(handle: Any, value: Any) -> None:
    """Append ``value`` to a rego-cpp input under construction (JSON-like values only).

    The same C calls as ``regopy.Input`` without its per-value Python overhead
    (ABC isinstance checks, string buffers): converting the input document is
    most of a Rego check's cost.
    """
    kind = type(value)
    if kind is str:
        code = _lib.regoInputString(handle, value.encode("utf-8"))
    elif kind is dict:
        for key, item in value.items():
            _add(handle, str(key))
            _add(handle, item)
            if _lib.regoInputObjectItem(handle):
                raise regopy.RegoError("Unable to create input object item", 1)
        code = _lib.regoInputObject(handle, len(value))
    elif kind is list or kind is tuple:
        for item in value:
            _add(handle, item)
        code = _lib.regoInputArray(handle, len(value))
    elif kind is bool:
        code = _lib.regoInputBoolean(handle, value)
    elif kind is int:
        code = _lib.regoInputInt(handle, value)
    elif kind is float:
        code = _lib.regoInputFloat(handle, value)
    elif value is None:
        code = _lib.regoInputNull(handle)
    else:
        raise TypeError(f"cannot pass {kind.__name__} to Rego")
    if code:
        raise regopy.RegoError(f"Unable to create input ({kind.__name__})", code)


def set_input(rego: regopy.Interpreter, document: Any) -> None:
    """Set ``input`` for the next queries (the document converted once)."""
    handle = rs.rego_new_input()
    try:
        _add(handle, document)
        rs.rego_set_input(rego._impl, handle)
    finally:
        rs.rego_free_input(handle)


def _members(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, dict):
        # v0 ``deny[msg] { ... }`` evaluates as an object {msg: true} in rego-cpp:
        # its keys are the messages; otherwise ``deny[key] := msg`` objects: the values.
        if all(v is True for v in value.values()):
            return list(value)
        return list(value.values())
    return [value]
