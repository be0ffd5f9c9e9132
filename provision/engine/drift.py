"""Drift: what changed in the clouds behind provision's back.

For every stage of an environment, :func:`detect` snapshots the stack, asks the
:class:`~provision.engine.protocol.Engine` to refresh it (each adapter reads its
resource from the live cloud; nothing in any cloud changes), and compares:

* a resource the stack held before the refresh and no longer holds after it was
  **deleted** outside provision;
* a resource whose live value of a property differs from the value the last
  apply set (the recorded input) has **changed**: one :class:`DriftedProperty`
  per such property, with the expected (recorded) and the actual (live) value.

Only the properties the spec sets are compared: a value the cloud chose for a
property the spec leaves out is not drift. Secret properties are compared but
their values are shown as ``***``. As with ``pulumi refresh``, the refreshed
state is recorded: the next ``plan`` shows the change that brings each resource
back (an update, or a create for a deleted one).

The JSON form (:meth:`DriftReport.to_json`, ``format`` ``"1.0"``) is documented
in ``docs/spec.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from provision.engine.protocol import META_OUTPUT, Engine, RefreshRequest, StackSnapshot, Step
from provision.provider import AdapterRegistry
from provision.vocabulary import DriftKind

FORMAT = "1.0"
SECRET = "***"


@dataclass(frozen=True)
class DriftedProperty:
    name: str
    expected: Any     # the value the last apply set (recorded input)
    actual: Any       # the value the cloud reports now


@dataclass(frozen=True)
class ResourceDrift:
    """One resource that drifted: changed (with its properties) or deleted."""

    stage: str
    resource: str
    type: str
    kind: DriftKind
    cloud_id: str = ""
    properties: tuple[DriftedProperty, ...] = ()
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class StageTarget:
    """One stage to check: its name, its stack, and where its resources are written."""

    stage: str
    stack: str
    locations: Mapping[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class DriftReport:
    spec: str
    env: str
    refreshed: list[str] = field(default_factory=list)      # stages checked
    not_applied: list[str] = field(default_factory=list)    # stages with no stack yet
    resources: list[ResourceDrift] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.resources)

    def count(self, kind: DriftKind) -> int:
        return sum(1 for r in self.resources if r.kind is kind)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document of ``provision drift --json`` (see docs/spec.md)."""
        return {
            "format": FORMAT,
            "spec": self.spec,
            "env": self.env,
            "drift": self.drifted,
            "stages": ([{"stage": s, "status": "refreshed"} for s in self.refreshed]
                       + [{"stage": s, "status": "not-applied"} for s in self.not_applied]),
            "resources": [{
                "stage": r.stage, "resource": r.resource, "type": r.type,
                "status": r.kind.value, "cloud_id": r.cloud_id,
                "file": r.file, "line": r.line,
                "properties": [{"name": p.name, "expected": p.expected, "actual": p.actual}
                               for p in r.properties],
            } for r in self.resources],
            "summary": {kind.value: self.count(kind) for kind in DriftKind},
        }


def _types(snapshot: StackSnapshot) -> dict[str, str]:
    meta = snapshot.outputs.get(META_OUTPUT) or {}
    types = meta.get("types") if isinstance(meta, dict) else None
    return {str(k): str(v) for k, v in (types or {}).items()}


def compare(stage: str, before: StackSnapshot, after: StackSnapshot,
            registry: AdapterRegistry,
            locations: Mapping[str, tuple[str, int]] | None = None) -> list[ResourceDrift]:
    """The drift of one stage, from its snapshots before and after a refresh.

    ``before.recorded``/``after.recorded`` map resource id to the recorded attributes
    (with ``id``, the cloud id); ``after.inputs`` holds what the last apply set.
    """
    types = _types(before) or _types(after)
    where = locations or {}
    found: list[ResourceDrift] = []
    for rid in sorted(before.recorded):
        type_name = types.get(rid, "")
        file, line = where.get(rid, ("", 0))
        cloud_id = str(before.recorded[rid].get("id") or "")
        if rid not in after.recorded:
            found.append(ResourceDrift(stage, rid, type_name, DriftKind.DELETED, cloud_id,
                                       file=file, line=line))
            continue
        schema = registry.schema(type_name) if type_name in registry else None
        inputs = after.inputs.get(rid) or before.inputs.get(rid) or {}
        live = after.recorded[rid]
        drifted = []
        for name in sorted(inputs):
            expected = inputs[name]
            if expected is None or (schema is not None and name not in schema.properties):
                continue
            actual = live.get(name)
            if _same(expected, actual):
                continue
            secret = schema is not None and schema.properties[name].secret
            drifted.append(DriftedProperty(name, SECRET if secret else expected,
                                           SECRET if secret else actual))
        if drifted:
            found.append(ResourceDrift(stage, rid, type_name, DriftKind.CHANGED,
                                       str(live.get("id") or cloud_id), tuple(drifted),
                                       file, line))
    return found


def _same(expected: Any, actual: Any) -> bool:
    """Equal, treating a missing map/list and an empty one alike (as the diff does)."""
    if expected == actual:
        return True
    return expected in ({}, [], False) and actual is None


def detect(engine: Engine, targets: Sequence[StageTarget], registry: AdapterRegistry, *,
           spec: str, env: str,
           on_stage: Callable[[str], None] | None = None) -> DriftReport:
    """Refresh every stage in ``targets`` (in order) and report what drifted.

    Raises what the engine raises (:class:`~provision.errors.EngineError`,
    :class:`~provision.errors.StageFailedError` when an adapter cannot read a
    resource, e.g. for lack of credentials).
    """
    report = DriftReport(spec=spec, env=env)
    for target in targets:
        before = engine.snapshot(target.stack)
        if before is None:
            report.not_applied.append(target.stage)
            continue
        if on_stage is not None:
            on_stage(target.stage)
        engine.refresh(RefreshRequest(target.stack))
        after = engine.snapshot(target.stack) or StackSnapshot(outputs={}, digest="")
        report.refreshed.append(target.stage)
        report.resources += compare(target.stage, before, after, registry, target.locations)
    return report


def live_as_recorded(steps: Sequence[Step], snap: StackSnapshot | None) -> bool:
    """True when a refreshing preview's ``steps`` show every resource ``snap`` records
    exactly as recorded (all of its recorded outputs; an id aside), so nothing drifted
    between the last update and the preview. False for any difference: a resource gone
    from the cloud, a changed or added value, a secret (the preview shows it masked), a
    resource the preview does not show. True for a stack that records no resource.

    An update right after such a preview may diff against the recorded state without
    reading every resource again (``UpRequest(refresh=False)``): that state is what the
    preview found live."""
    if snap is None:
        return True
    live = {s.resource: s.old_outputs for s in steps if s.old_outputs is not None}
    for rid, recorded in snap.recorded.items():
        found = live.get(rid)
        if found is None or found != {k: v for k, v in recorded.items() if k != "id"}:
            return False
    return True
