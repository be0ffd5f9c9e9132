"""What rules see: one :class:`Subject` per resource, and the Rego input documents.

Pre phase: every resource a stage keeps, changed or not (``after`` properties with
the adapter schema's defaults and the environment's cloud settings -- region,
location -- filled in, action, the paths known only after apply). Post phase: the live properties adapters' ``read``
returned. Values known only after apply (:data:`UNKNOWN`, or a resource
reference not yet substituted) are *absent* from ``properties`` and listed in
``unknown`` -- never a made-up value.

Native Rego packs get the subjects grouped by type as ``input.by_type[<type>]``
(a rule iterates only the types it targets; ``some t, rs in input.by_type``
walks all of them), or, for packs whose manifest says ``input: terraform``, the
``terraform show -json`` document of :func:`provision.plan.terraform.to_terraform_plan`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from provision.plan.model import (Action, LiveResource, Plan, StagePlan, is_unknown, join_path,
                                  split_path)
from provision.plan.terraform import terraform_type, to_terraform_plan
from provision.provider import AdapterRegistry
from provision.vocabulary import Phase

_MISSING: Any = object()


_SCALARS = (str, int, float, bool, type(None))


# What a value known only after apply reads as in a subject's ``marked`` properties.
UNKNOWN_MARK = "(known after apply)"


def _clean(value: Any, path: str, unknown: list[str], mark: Any = _MISSING) -> Any:
    """A JSON-able copy of ``value`` without unknown leaves (their paths go to ``unknown``),
    or with ``mark`` in their place."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or (isinstance(value, Mapping) and not is_unknown(value)):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(item) in _SCALARS:
                out[str(key)] = item
                continue
            cleaned = _clean(item, join_path(path, str(key)), unknown, mark)
            if cleaned is not _MISSING:
                out[str(key)] = cleaned
        return out
    if is_unknown(value):
        unknown.append(path)
        return mark
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_clean(item, join_path(path, str(i)), unknown, mark)
                 for i, item in enumerate(value)]
        return [i for i in items if i is not _MISSING]
    if isinstance(value, (str, int, float, bool)):     # subclasses (e.g. str enums)
        return value
    return str(value)


def _drop(props: dict[str, Any], path: str) -> None:
    parts = split_path(path)
    node: Any = props
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def _put(props: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path where its parents exist (a map key or a list index)."""
    parts = split_path(path)
    node: Any = props
    for part in parts[:-1]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return
    last = parts[-1] if parts else ""
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value


def paths_overlap(a: str, b: str) -> bool:
    """True if one dotted path is the other or lies inside it; a ``*`` segment (in either)
    stands for any one map key or list index (``inline_policies.*.Statement.*.Action``)."""
    if a == b or a.startswith(b + ".") or b.startswith(a + "."):
        return True
    if "*" not in a and "*" not in b:
        return False
    return all(x == y or x == "*" or y == "*" for x, y in zip(split_path(a), split_path(b)))


@dataclass
class Subject:
    """One resource as a rule sees it."""

    id: str
    type: str
    properties: dict[str, Any]
    stage: str = ""
    action: str = "create"            # plan action; "read" in the post phase
    before: dict[str, Any] | None = None
    unknown: tuple[str, ...] = ()     # dotted paths known only after apply
    # Pre phase, with ``unknown``: the properties with each value known only after apply
    # as UNKNOWN_MARK instead of absent. A rule that declares no ``reads`` is judged on
    # both; when the two results differ it depends on those values and is deferred.
    marked: dict[str, Any] | None = None
    file: str = ""
    line: int = 0
    terraform_address: str = ""

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (``tags.owner``), or ``default``."""
        node: Any = self.properties
        for part in split_path(path):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def is_unknown(self, path: str) -> bool:
        """True if any part of the value at ``path`` (``*`` segments: at any key or index)
        is known only after apply."""
        return any(paths_overlap(path, u) for u in self.unknown)

    def unknown_at(self, path: str) -> bool:
        """True if the value at ``path`` itself (or a map holding it) is known only after apply."""
        return any(path == u or path.startswith(u + ".") for u in self.unknown)

    def with_marks(self) -> "Subject":
        """This subject with its ``marked`` properties (itself when it has none)."""
        if self.marked is None:
            return self
        return dataclasses.replace(self, properties=self.marked, marked=None)

    def to_input(self) -> dict[str, Any]:
        """The resource as Rego sees it; lean, since converting input dominates Rego's cost."""
        doc: dict[str, Any] = {"id": self.id, "type": self.type, "action": self.action,
                               "properties": self.properties}
        if self.unknown:
            doc["unknown"] = list(self.unknown)
        if self.before is not None:
            doc["before"] = self.before
        return doc


@dataclass
class Inputs:
    """The subjects of one check and, lazily, their Rego input documents."""

    subjects: list[Subject]
    phase: Phase
    stage: str
    env: str
    terraform_factory: Callable[[], dict[str, Any]] | None = None
    _terraform: dict[str, Any] | None = None
    _by_type: dict[str, list[Subject]] = field(default_factory=dict)
    index: dict[str, Subject] = field(default_factory=dict)          # by resource id
    by_address: dict[str, Subject] = field(default_factory=dict)     # by Terraform address

    def __post_init__(self) -> None:
        for s in self.subjects:
            self._by_type.setdefault(s.type, []).append(s)
            self.index[s.id] = s
            self.by_address[s.terraform_address] = s

    def of_types(self, types: Iterable[str]) -> list[Subject]:
        wanted = tuple(types)
        if not wanted:
            return list(self.subjects)
        return [s for t in wanted for s in self._by_type.get(t, [])]

    def terraform_document(self) -> dict[str, Any]:
        """The ``terraform show -json`` shaped input, built on first use."""
        if self._terraform is None:
            self._terraform = self.terraform_factory() if self.terraform_factory else {}
        return self._terraform

    def types(self) -> set[str]:
        return set(self._by_type)

    def marked(self) -> bool:
        """True when some subject has values known only after apply (``Subject.marked``)."""
        return any(s.marked is not None for s in self.subjects)

    def native_document(self, types: set[str] | None, *, marked: bool = False) -> dict[str, Any]:
        """``input`` for native Rego packs, restricted to ``types`` (None: all); with
        ``marked``, values known only after apply read as UNKNOWN_MARK."""
        chosen = self.subjects if types is None else self.of_types(sorted(types))
        by_type: dict[str, list[dict[str, Any]]] = {}
        for s in chosen:
            by_type.setdefault(s.type, []).append((s.with_marks() if marked else s).to_input())
        return {"phase": self.phase.value, "stage": self.stage, "env": self.env, "by_type": by_type}


class _Addresses:
    """Terraform addresses, the type part computed once per type."""

    def __init__(self, registry: AdapterRegistry) -> None:
        self.registry = registry
        self.types: dict[str, str] = {}

    def __call__(self, type_name: str, rid: str) -> str:
        tf = self.types.get(type_name)
        if tf is None:
            tf = self.types[type_name] = terraform_type(type_name, self.registry)
        return f"{tf}.{rid}"


def pre_inputs(stage_plan: StagePlan, plan: Plan, env: str, registry: AdapterRegistry,
               settings: Mapping[str, Mapping[str, Any]] | None = None) -> Inputs:
    """Subjects for every resource the stage keeps: what it creates, updates or replaces,
    and what it leaves unchanged (judged on its desired state, so a resource that already
    violates a rule is reported on every plan, not only the one that changed it).

    ``settings`` are the environment's cloud settings (``{cloud: {key: value}}``, e.g.
    ``{"aws": {"region": "eu-west-1"}}``): a property the spec leaves out whose value is a
    setting (the adapter schema's ``setting_defaults``) takes it, as the create will."""
    subjects: list[Subject] = []
    address = _Addresses(registry)
    for change in stage_plan.changes:
        desired = change.after if change.after is not None else change.before
        if change.action is Action.DELETE or (change.action is Action.NOOP and desired is None):
            continue
        unknown: list[str] = []
        props = _clean(desired or {}, "", unknown)
        for path in change.unknown:
            _drop(props, path)
        unknown.extend(p for p in change.unknown if p not in unknown)
        _fill_defaults(props, change.type, registry)
        _fill_settings(props, unknown, change.type, registry, settings or {})
        marked = None
        if unknown:
            marked = _clean(desired or {}, "", [], UNKNOWN_MARK)
            for path in change.unknown:
                _put(marked, path, UNKNOWN_MARK)
            _fill_defaults(marked, change.type, registry)
            _fill_settings(marked, unknown, change.type, registry, settings or {})
        before = None if change.before is None else _clean(change.before, "", [])
        subjects.append(Subject(
            id=change.id, type=change.type, properties=props, stage=stage_plan.name,
            action=change.action.value, before=before, unknown=tuple(unknown), marked=marked,
            file=change.file, line=change.line,
            terraform_address=address(change.type, change.id)))
    single = dataclasses.replace(plan, stages=[stage_plan])
    return Inputs(subjects, Phase.PRE, stage_plan.name, env,
                  terraform_factory=lambda: to_terraform_plan(single, registry))


def _fill_defaults(props: dict[str, Any], type_name: str, registry: AdapterRegistry) -> None:
    """Planned properties left out take the adapter schema's default, as the create will."""
    if type_name not in registry:
        return
    for name, schema in registry.schema(type_name).properties.items():
        if name not in props and schema.default is not None:
            props[name] = schema.default


def _fill_settings(props: dict[str, Any], unknown: list[str], type_name: str,
                   registry: AdapterRegistry, settings: Mapping[str, Mapping[str, Any]]) -> None:
    """Properties left out whose value is a cloud setting of the environment (the schema's
    ``setting_defaults``) take that setting; without the setting they stay absent."""
    if type_name not in registry:
        return
    schema = registry.schema(type_name)
    cloud = settings.get(schema.cloud) or {}
    for name, key in schema.setting_defaults.items():
        value = cloud.get(key)
        if name in props or value is None or any(paths_overlap(name, u) for u in unknown):
            continue
        props[name] = _clean(value, name, [])


def post_inputs(stage: str, live: Mapping[str, LiveResource | tuple[str, Mapping[str, Any]]],
                env: str, registry: AdapterRegistry) -> Inputs:
    """Subjects for the live resources of a stage, each located by its own record."""
    subjects: list[Subject] = []
    address = _Addresses(registry)
    for rid, record in live.items():
        rec = LiveResource(*record)
        unknown: list[str] = []
        subjects.append(Subject(
            id=rid, type=rec.type, properties=_clean(dict(rec.properties), "", unknown),
            stage=stage, action="read", unknown=(), file=rec.file, line=rec.line,
            terraform_address=address(rec.type, rid)))
    return Inputs(subjects, Phase.POST, stage, env,
                  terraform_factory=lambda: _terraform_live(subjects))


def _terraform_live(subjects: list[Subject]) -> dict[str, Any]:
    """Live state in Terraform-plan shape: every resource a ``no-op`` with before == after."""
    changes: list[dict[str, Any]] = []
    for s in subjects:
        tf_type, _, name = s.terraform_address.partition(".")
        changes.append({
            "address": s.terraform_address, "mode": "managed", "type": tf_type, "name": name,
            "change": {"actions": ["no-op"], "before": s.properties, "after": s.properties,
                       "after_unknown": {}},
            "provision": {"stage": s.stage, "file": s.file, "line": s.line, "type": s.type},
        })
    return {"format_version": "1.2", "resource_changes": changes,
            "planned_values": {"root_module": {"resources": [
                {"address": c["address"], "mode": "managed", "type": c["type"],
                 "name": c["name"], "values": c["change"]["after"]} for c in changes]}}}
