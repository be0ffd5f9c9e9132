"""One environment's stacks as the orchestrator sees them: names, cached snapshots,
the values each stage declares, and the preview of one stage.

:class:`StackValues` is the base of the orchestrator (``provision.engine.stage_apply``
adds one stage's apply phases, ``provision.engine.orchestrator`` the whole run). It
holds the run's collaborators (spec, environment, stage graph, adapters, engine,
hooks, gate) and reads each stack's snapshot through the engine once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from provision.engine.changes import moved_changes, protect_changes, stage_changes
from provision.engine.declare import stage_declaration
from provision.engine.drift import live_as_recorded
from provision.engine.first_plan import planned_creates
from provision.engine.hooks import Gate, Hooks, LiveReader
from provision.engine.protocol import META_OUTPUT, Engine, PreviewRequest, StackSnapshot
from provision.graph.stages import Stage, StageGraph
from provision.plan.model import Action, Change, StagePlan, has_unknown
from provision.plan.render_json import SENSITIVE_JSON
from provision.provider import AdapterRegistry
from provision.spec.model import Environment, Spec
from provision.spec.refs import iter_references

# A plan's recorded inputs: resource id -> the inputs apply declares for it.
Recorded = Mapping[str, Mapping[str, Any]]
# The values of the upstream resources a stage references (None: not in any state yet).
Upstream = Mapping[str, "dict[str, Any] | None"]


def stack_name(spec: str, env: str, stage: str) -> str:
    """The stack of one stage: ``<spec>.<env>.<stage>``."""
    return f"{spec}.{env}.{stage}"


class _Snapshots:
    """Stack snapshots by stage, read through the engine once and shared by worker
    threads (every access under one lock; engine reads happen outside it)."""

    def __init__(self, read: Callable[[str], StackSnapshot | None]) -> None:
        self._read = read
        self._data: dict[str, StackSnapshot | None] = {}
        self._lock = threading.Lock()

    def get(self, stage: str, *, fresh: bool = False) -> StackSnapshot | None:
        if not fresh:
            with self._lock:
                if stage in self._data:
                    return self._data[stage]
        snap = self._read(stage)
        with self._lock:
            self._data[stage] = snap
        return snap

    def put(self, stage: str, snap: StackSnapshot | None) -> None:
        with self._lock:
            self._data[stage] = snap

    def forget(self, stage: str) -> None:
        with self._lock:
            self._data.pop(stage, None)


class StackValues:
    """Names, snapshots, declared values and previews of one environment's stages."""

    def __init__(self, spec: Spec, env: Environment, stages: StageGraph,
                 registry: AdapterRegistry, engine: Engine, *,
                 hooks: Hooks | None = None, gate: Gate | None = None,
                 live_reader: LiveReader | None = None,
                 parallel: int = 4, rollback_on_violation: bool = False,
                 live_read_backoff: float = 1.0,
                 selection: set[str] | None = None,
                 stop: threading.Event | None = None) -> None:
        self.spec, self.env, self.stages = spec, env, stages
        self.registry, self.engine = registry, engine
        self.hooks = hooks or Hooks()
        self.gate = gate
        self.live_reader = live_reader
        self.parallel = max(1, parallel)
        self.rollback_on_violation = rollback_on_violation
        self.live_read_backoff = live_read_backoff      # seconds before the first retry
        # --target/--exclude: only these resources may change (None: all). Every
        # resource stays declared in its stage's program; the engine's targeting does the rest.
        self.selection = selection
        # Set on an interrupt: no new stage starts; a stage stopped meanwhile is INTERRUPTED.
        self.stop = stop or threading.Event()
        self._snapshots = _Snapshots(lambda stage: self.engine.snapshot(self.stack_name(stage)))
        self._preview_slots = threading.BoundedSemaphore(self.parallel)

    # -- names and values ------------------------------------------------------------
    def stack_name(self, stage: str) -> str:
        return stack_name(self.spec.name, self.env.name, stage)

    def _snapshot(self, stage: str, *, fresh: bool = False) -> StackSnapshot | None:
        return self._snapshots.get(stage, fresh=fresh)

    def _stack_outputs(self, stage: str) -> dict[str, Any] | None:
        snap = self._snapshot(stage)
        return snap.outputs if snap else None

    def _inputs(self, stage: Stage, recorded: Recorded | None) -> dict[str, Mapping[str, Any]]:
        """What each resource of ``stage`` declares: its recorded inputs when the plan has
        them, else its properties in the spec."""
        return {rid: (recorded[rid] if recorded is not None and rid in recorded
                      else self.spec.resources[rid].properties) for rid in stage.resources}

    def _recorded(self, saved: StagePlan) -> Recorded:
        """The inputs ``saved`` recorded, secrets (masked in saved plans) taken from the
        spec, whose digest matches the plan's."""
        recorded: dict[str, Mapping[str, Any]] = {}
        for change in saved.changes:
            if change.inputs is None or change.id not in self.spec.resources:
                continue
            spec_props = self.spec.resources[change.id].properties
            recorded[change.id] = {k: spec_props.get(k) if v == SENSITIVE_JSON else v
                                   for k, v in change.inputs.items()}
        return recorded

    def _upstream(self, stage: Stage, planned: Mapping[str, Change],
                  recorded: Recorded | None = None) -> dict[str, dict[str, Any] | None]:
        """Values of the upstream resources this stage references.

        ``planned`` holds this plan's changes of upstream stages not applied yet: a
        resource to be created or replaced exposes only its known planned inputs;
        everything else about it is known only after apply (absent from the map).
        """
        values: dict[str, dict[str, Any] | None] = {}
        inside = set(stage.resources)
        for props in self._inputs(stage, recorded).values():
            for ref in iter_references(props):
                if ref.kind != "resource":
                    continue
                if ref.target in inside or ref.target in values:
                    continue
                change = planned.get(ref.target)
                if change is not None and change.action in (Action.CREATE, Action.REPLACE):
                    # Secret inputs stay unknown downstream until applied: the engine
                    # masks them in a plan, and a plan never carries them in clear.
                    values[ref.target] = {k: v for k, v in (change.after or {}).items()
                                          if not has_unknown(v) and k not in change.secrets}
                    continue
                current = self._recorded_values(ref.target)
                if current is not None and change is not None and change.action is Action.UPDATE:
                    # An update's new inputs are what downstream will see.
                    for key, value in (change.after or {}).items():
                        if has_unknown(value) or key in change.secrets:
                            current.pop(key, None)
                        else:
                            current[key] = value
                values[ref.target] = current
        return values

    def _recorded_values(self, resource: str) -> dict[str, Any] | None:
        """What the state says of ``resource`` (an upstream stage's): its stage's exported
        attributes, else the resource's own recorded outputs (an interrupted update
        can leave a stage's exports empty while its resources are recorded)."""
        snap = self._snapshot(self.stages.stage_of(resource).name)
        if snap is None:
            return None
        found = snap.outputs.get(resource)
        if isinstance(found, dict):
            return dict(found)
        recorded = snap.recorded.get(resource)
        return dict(recorded) if recorded is not None else None

    def _exports_stale(self, stage: str) -> bool:
        """True when the stage's stack records resources its exported outputs miss."""
        snap = self._snapshot(stage)
        return snap is not None and not snap.exports_cover()

    def _prior_types(self, stage: str) -> dict[str, str]:
        outputs = self._stack_outputs(stage) or {}
        meta = outputs.get(META_OUTPUT) or {}
        return dict(meta.get("types", {})) if isinstance(meta, dict) else {}

    def _chosen(self, stage: Stage) -> list[str] | None:
        if self.selection is None:
            return None
        return [r for r in stage.resources if r in self.selection]

    def _active(self, stage: Stage) -> bool:
        chosen = self._chosen(stage)
        return chosen is None or bool(chosen)

    def snapshots(self) -> dict[str, StackSnapshot]:
        """Every existing stack of the selected stages, read once and cached (no cloud call):
        used to verify the passphrase and find crashed stages before anything runs."""
        names = [s.name for s in self.stages.stages if self._active(s)]
        with ThreadPoolExecutor(max_workers=min(4, max(1, len(names)))) as pool:
            found = list(pool.map(lambda n: (n, self._snapshot(n)), names))
        return {name: snap for name, snap in found if snap is not None}

    def forget(self, stage: str) -> None:
        """Drop the cached snapshot of ``stage`` (its state was changed outside a run step)."""
        self._snapshots.forget(stage)

    # -- plan ------------------------------------------------------------------------
    def plan_stage(self, stage: Stage, planned: Mapping[str, Change],
                   recorded: Recorded | None = None) -> StagePlan:
        """Preview one stage; ``planned`` holds this plan's changes of its upstream stages,
        ``recorded`` the inputs a plan recorded (else the spec's properties are declared).
        Each change records the inputs its resource was declared with."""
        return self._preview(stage, self._upstream(stage, planned, recorded), recorded)

    def _preview(self, stage: Stage, upstream: Mapping[str, dict[str, Any] | None],
                 recorded: Recorded | None = None) -> StagePlan:
        """Preview one stage declared with ``upstream``, the values of the upstream
        resources it references (see :meth:`_upstream`). A stage whose stack records no
        resource (and no selection) is planned without the engine: every resource is
        a create (``provision.engine.first_plan``)."""
        inputs = self._inputs(stage, recorded)
        program = stage_declaration(self.spec, stage.resources, self.registry, dict(upstream),
                                    inputs)
        chosen = self._chosen(stage)
        # The state first: it also tells the engine whether the stack exists (no extra CLI call).
        prior_types = self._prior_types(stage.name)
        snap = self._snapshot(stage.name)
        if chosen is None and (snap is None or not (snap.inputs or snap.pending)):
            # Nothing recorded: every resource is a create, known without the engine.
            steps = planned_creates(program, self.registry)
        else:
            with self._preview_slots:   # early previews included, at most `parallel` at once
                steps = self.engine.preview(PreviewRequest(
                    self.stack_name(stage.name), program,
                    targets=tuple(chosen) if chosen is not None else None)).steps
        as_recorded = chosen is None and live_as_recorded(steps, snap)
        changes = stage_changes(self.spec, stage.name, chosen or stage.resources, steps,
                                self.registry, prior_types)
        protect_changes(changes, program, snap.protected if snap and snap.inputs else None)
        moved_changes(changes, program, set(snap.inputs) if snap else set())
        if self.selection is not None:
            changes = [c for c in changes if c.id in self.selection]
        for change in changes:
            if change.action is not Action.DELETE and change.id in inputs:
                change.inputs = dict(inputs[change.id])
        return StagePlan(name=stage.name, stack=self.stack_name(stage.name),
                         depends_on=list(stage.depends_on), changes=changes,
                         live_as_recorded=as_recorded)
