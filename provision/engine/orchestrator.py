"""Plan, apply and destroy a resolved spec, stage by stage.

A stage is one stack named ``<spec>.<env>.<stage>``, changed through the
:class:`~provision.engine.protocol.Engine` seam (the real Pulumi engine in the
product, :class:`~provision.engine.testing.FakeEngine` in tests). Stages are
scheduled by the stage DAG (``provision.engine.schedule``): each starts as soon
as every stage it depends on has finished, bounded by ``parallel``; a stage that
fails or is blocked skips only its dependents, each with the reason. Each
downstream stage receives its upstream stages' outputs. Before a stage changes
anything its planned changes go through the policy gate; after it, its live
state (read back from the cloud through the adapters) goes through the gate again.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
import time

import tenacity
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Protocol

from provision.engine.changes import stage_changes
from provision.engine.declare import restore_declaration, stage_declaration
from provision.engine.freshness import NO_STATE, same_as_shown, state_unchanged
from provision.engine.protocol import (META_OUTPUT, DestroyRequest, Engine, ImportRequest,
                                       PreviewRequest, RunResult, StackProgram, StackSnapshot,
                                       Step, UpRequest)
from provision.engine.schedule import schedule
from provision.engine.secrets import secret_properties
from provision.errors import (ImportRefusedError, LiveCheckError, PlanError, PolicyViolation,
                              ProtectedResourceError, ProviderError, ProvisionError,
                              StageFailedError, StalePlanError)
from provision.graph.stages import Stage, StageGraph
from provision.plan.model import Action, Change, Live, Plan, StagePlan, has_unknown
from provision.plan.render_json import SENSITIVE_JSON
from provision.provider import AdapterRegistry
from provision.spec.model import Environment, Spec
from provision.spec.refs import iter_references
from provision.vocabulary import Operation, Phase, StageStatus

# A plan's recorded inputs: resource id -> the inputs apply declares for it.
Recorded = Mapping[str, Mapping[str, Any]]
# (stage, its resource ids, its stack outputs) -> the live records of those resources.
LiveReader = Callable[[str, list[str], Mapping[str, Any]], Live]


# Attempts to read a stage's live state for the post-stage gate before the stage is
# reported as applied but unverified (each adapter read also retries inside its SDK).
LIVE_READ_ATTEMPTS = 3


def stack_name(spec: str, env: str, stage: str) -> str:
    """The stack of one stage: ``<spec>.<env>.<stage>``."""
    return f"{spec}.{env}.{stage}"


class GateVerdict(Protocol):
    @property
    def blocking(self) -> bool: ...


class Gate(Protocol):
    """The policy gate as the engine sees it (implemented by provision.policy)."""

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> GateVerdict: ...

    def check_post(self, stage: str, live: Live) -> GateVerdict: ...


@dataclass
class Hooks:
    """Progress callbacks for the UI layer; all optional. They are called from the
    worker thread that runs the stage, so implementations must be thread-safe."""

    stage_start: Callable[[str, Operation], None] = lambda stage, op: None
    step: Callable[[str, Step], None] = lambda stage, step: None
    stage_done: Callable[[str, StageStatus, RunResult | None], None] = \
        lambda stage, status, res: None
    policy: Callable[[str, Phase, GateVerdict], None] = lambda stage, phase, verdict: None
    # A stage not run because a stage it depends on did not succeed (called once per
    # skipped stage, from the scheduling thread), with the reason.
    stage_skipped: Callable[[str, str], None] = lambda stage, reason: None


@dataclass
class StageOutcome:
    stage: str
    status: StageStatus
    result: RunResult | None = None
    error: ProvisionError | None = None
    reason: str = ""          # why a stage was skipped
    cause: str = ""           # the stage whose outcome skipped this one ("" if none)
    seconds: float = 0.0      # wall time of the stage (0 when it did not run)


@dataclass
class ApplyReport:
    outcomes: list[StageOutcome] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(o.status is StageStatus.BLOCKED for o in self.outcomes)

    @property
    def failed(self) -> ProvisionError | None:
        return next((o.error for o in self.outcomes
                     if o.status in (StageStatus.FAILED, StageStatus.ROLLED_BACK,
                                     StageStatus.UNVERIFIED) and o.error),
                    None)

    def outcome(self, stage: str) -> StageOutcome:
        return next(o for o in self.outcomes if o.stage == stage)


_WHY = {StageStatus.FAILED: StageStatus.FAILED.value, StageStatus.BLOCKED: "was blocked by a policy",
        StageStatus.ROLLED_BACK: "was rolled back", StageStatus.INTERRUPTED: "was interrupted",
        StageStatus.UNVERIFIED: "applied but its live state could not be checked"}


def apply_skip_reason(depends_on: Collection[str], cause: str, status: StageStatus) -> str:
    """Why a stage depending on ``depends_on`` is not applied: ``cause`` (a stage it depends
    on, directly or through others) ended with ``status``. Pure: workflow code calls it."""
    why = _WHY.get(status, status.value)
    how = "" if cause in depends_on else " (through other stages)"
    return f"it depends{how} on stage '{cause}', which {why}"


def destroy_skip_reason(cause: str) -> str:
    """Why a stage is kept by a destroy: ``cause`` depends on it and was not destroyed."""
    return f"stage '{cause}' depends on it and was not destroyed"


def destroy_succeeded(outcome: StageOutcome) -> bool:
    """Whether the stages a destroyed stage depends on may be destroyed after it."""
    return outcome.status.ok or outcome.status is StageStatus.SKIPPED and not outcome.cause


def spec_digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).read_bytes())
    return h.hexdigest()


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


Upstream = Mapping[str, "dict[str, Any] | None"]


class _EarlyPreviews:
    """Previews of stages started before their upstream stages are planned, each with
    the upstream values it was declared with."""

    def __init__(self, preview: Callable[[Stage, Upstream], StagePlan], parallel: int) -> None:
        self._preview = preview
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="early")
        self._started: dict[str, tuple[dict[str, Any], Future[StagePlan]]] = {}

    def start(self, stage: Stage, upstream: Upstream) -> None:
        self._started[stage.name] = (dict(upstream),
                                     self._pool.submit(self._preview, stage, upstream))

    def result(self, stage: str, upstream: Upstream) -> StagePlan | None:
        """The early preview of ``stage`` if it was declared with ``upstream``; None when
        there was none, it was declared otherwise, or it failed (the stage is then
        previewed again, and a real failure is reported by that preview)."""
        found = self._started.pop(stage, None)
        if found is None:
            return None
        values, future = found
        try:
            if values != dict(upstream):
                # Not the values the plan gives: wait until it ends (never two previews of
                # one stack at once), then discard it.
                if not future.cancel():
                    future.exception()
                return None
            return future.result()
        except ProvisionError:
            return None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Orchestrator:
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
        resources it references (see :meth:`_upstream`)."""
        inputs = self._inputs(stage, recorded)
        program = stage_declaration(self.spec, stage.resources, self.registry, dict(upstream),
                                    inputs)
        chosen = self._chosen(stage)
        # The state first: it also tells the engine whether the stack exists (no extra CLI call).
        prior_types = self._prior_types(stage.name)
        with self._preview_slots:       # early previews included, at most `parallel` at once
            steps = self.engine.preview(PreviewRequest(
                self.stack_name(stage.name), program,
                targets=tuple(chosen) if chosen is not None else None)).steps
        changes = stage_changes(self.spec, stage.name, chosen or stage.resources, steps,
                                self.registry, prior_types)
        if self.selection is not None:
            changes = [c for c in changes if c.id in self.selection]
        for change in changes:
            if change.action is not Action.DELETE and change.id in inputs:
                change.inputs = dict(inputs[change.id])
        return StagePlan(name=stage.name, stack=self.stack_name(stage.name),
                         depends_on=list(stage.depends_on), changes=changes)

    def plan(self) -> Plan:
        """Preview every selected stage; independent stages are planned in parallel, each
        stage after the stages it depends on (their planned values flow downstream).

        A stage whose upstream stages all have a stack is also previewed early, beside
        them, with the upstream values their state holds (see :class:`_EarlyPreviews`);
        once they are planned, that preview stands when the values it was declared with
        are the ones the plan gives, else the stage is previewed again. A no-op plan of
        a chain of stages then takes about as long as its slowest stage, not their sum.

        Raises the first :class:`ProvisionError` of a stage (stages not started yet are
        not planned)."""
        planned: dict[str, Change] = {}
        lock = threading.Lock()
        order = [s.name for s in self.stages.stages if self._active(s)]
        early = _EarlyPreviews(self._preview, self.parallel)

        def run(name: str) -> tuple[StagePlan, str]:
            self.hooks.stage_start(name, Operation.PLAN)
            stage = self.stages.stage(name)
            with lock:
                planned_now = dict(planned)
            upstream = self._upstream(stage, planned_now)
            stage_plan = early.result(name, upstream) or self._preview(stage, upstream)
            with lock:
                planned.update((c.id, c) for c in stage_plan.changes)
            # A stage without a stack is recorded as NO_STATE, though its preview has
            # created the stack meanwhile: empty, so state_unchanged() still holds for it.
            snap = self._snapshot(name)
            return stage_plan, snap.digest if snap else NO_STATE

        try:
            for name in order:
                stage = self.stages.stage(name)
                ups = [d for d in stage.depends_on if d in order]
                if ups and all(self._snapshot(d) is not None for d in ups):
                    early.start(stage, self._upstream(stage, {}))
            results = schedule(order, {n: self.stages.stage(n).depends_on for n in order}, run,
                               succeeded=lambda r: True, skip=lambda n, c, r: r,
                               parallel=self.parallel)
        finally:
            early.close()
        plan = Plan(spec=self.spec.name, env=self.env.name, spec_file=self.spec.path)
        for name in order:
            stage_plan, digest = results[name]
            plan.stages.append(stage_plan)
            plan.state_digests[name] = digest
        return plan

    # -- apply -----------------------------------------------------------------------
    def apply(self, plan: Plan, *, check_fresh: bool = False) -> ApplyReport:
        """Apply ``plan``: each stage as soon as the stages it depends on succeeded
        (at most ``parallel`` at once); a stage that does not succeed skips only its
        dependents. With ``check_fresh`` (a saved plan), a stage whose state or
        planned changes moved since the plan was made fails with
        :class:`StalePlanError`. Outcomes are listed in the plan's stage order."""
        order = self.apply_order(plan)
        results = schedule(
            order, {n: self.stages.stage(n).depends_on for n in order},
            lambda name: self.apply_one(name, plan, check_fresh=check_fresh),
            succeeded=lambda o: o.status.ok, skip=self._skipped, parallel=self.parallel)
        return ApplyReport([results[n] for n in order])

    def apply_order(self, plan: Plan) -> list[str]:
        """The stages ``apply(plan)`` runs, in the stage graph's order."""
        planned = {s.name for s in plan.stages}
        return [s.name for s in self.stages.stages if s.name in planned]

    def apply_one(self, name: str, plan: Plan, *, check_fresh: bool = False) -> StageOutcome:
        """Apply the stage ``name`` of ``plan``, the stages it depends on applied already:
        gate before, update, live read and gate after. What ``apply`` schedules, and what
        a durable executor's stage activity runs (``provision.executor``)."""
        saved = next(s for s in plan.stages if s.name == name)
        return self._timed(name, lambda: self._apply_stage(
            self.stages.stage(name), saved, plan, check_fresh))

    def _skipped(self, stage: str, cause: str, caused_by: StageOutcome) -> StageOutcome:
        """The outcome of ``stage``, not applied because ``cause`` (a stage it depends on,
        directly or through others) did not succeed."""
        return self._skip(stage, cause, apply_skip_reason(
            self.stages.stage(stage).depends_on, cause, caused_by.status))

    def _skip(self, stage: str, cause: str, reason: str) -> StageOutcome:
        self.hooks.stage_skipped(stage, reason)
        return StageOutcome(stage, StageStatus.SKIPPED, reason=reason, cause=cause)

    @staticmethod
    def _timed(name: str, run: Callable[[], StageOutcome]) -> StageOutcome:
        started = time.monotonic()
        outcome = run()
        outcome.seconds = time.monotonic() - started
        return outcome

    def _done(self, name: str, status: StageStatus, result: RunResult | None = None,
              error: ProvisionError | None = None) -> StageOutcome:
        if status is StageStatus.FAILED and error is not None and self.stop.is_set():
            status = StageStatus.INTERRUPTED     # the run was asked to stop: Pulumi's cancel
        self.hooks.stage_done(name, status, result)
        return StageOutcome(name, status, result, error)

    def _apply_stage(self, stage: Stage, saved: StagePlan, plan: Plan,
                     check_fresh: bool) -> StageOutcome:
        name = stage.name
        if self.stop.is_set():
            return self._skip(name, "", "not started: the run was interrupted")
        try:
            if check_fresh:
                self._check_fresh(stage, saved, plan)
            # With a gate, re-plan a stage whose saved changes had values unknown until the
            # upstream stages applied: the gate must judge the real values.
            needs_replan = (self.gate is not None and not check_fresh
                            and any(c.unknown for c in saved.changes))
            if not saved.has_changes() and not needs_replan and not self._exports_stale(name):
                # Nothing to do (the plan refreshed it moments ago); downstream stages
                # read its outputs from state.
                return self._done(name, StageStatus.UNCHANGED)
            # The plan's recorded inputs are what gets declared; upstream stages are
            # applied by now, so their real outputs resolve the references.
            recorded = self._recorded(saved)
            current = self.plan_stage(stage, {}, recorded) if needs_replan else saved
            self.hooks.stage_start(name, Operation.APPLY)
            if self.gate is not None:
                verdict = self.gate.check_pre(current, plan)
                self.hooks.policy(name, Phase.PRE, verdict)
                if verdict.blocking:
                    return self._done(name, StageStatus.BLOCKED,
                                      error=PolicyViolation(name, Phase.PRE, verdict))
            program = stage_declaration(self.spec, stage.resources, self.registry,
                                        self._upstream(stage, {}, recorded),
                                        self._inputs(stage, recorded), known=True)
            before = self._snapshot(name, fresh=True) if self.rollback_on_violation else None
            chosen = self._chosen(stage)
            result = self.engine.up(UpRequest(
                self.stack_name(name), program,
                targets=tuple(chosen) if chosen is not None else None,
                on_step=self._step_hook(name)))
            self._snapshots.put(name, StackSnapshot(outputs=result.outputs, digest=""))
            if self.gate is not None and self.live_reader is not None:
                try:
                    live = self._read_live(name, stage.resources, result.outputs)
                except LiveCheckError as exc:
                    return self._done(name, StageStatus.UNVERIFIED, result, exc)
                verdict = self.gate.check_post(name, live)
                self.hooks.policy(name, Phase.POST, verdict)
                if verdict.blocking:
                    status = StageStatus.FAILED
                    if self.rollback_on_violation:
                        self._rollback(name, before)
                        status = StageStatus.ROLLED_BACK
                    return self._done(name, status, result,
                                      PolicyViolation(name, Phase.POST, verdict))
            return self._done(name, StageStatus.APPLIED, result)
        except StageFailedError as exc:    # the engine names the stack; users know the stage
            resource = self.spec.resources.get(exc.resource)
            where = f"{resource.location}: " if resource and resource.location else ""
            return self._done(name, StageStatus.FAILED, error=StageFailedError(
                name, where + exc.reason, hint=exc.hint, resource=exc.resource))
        except ProvisionError as exc:
            return self._done(name, StageStatus.FAILED, error=exc)

    def import_resource(self, resource_id: str, cloud_id: str) -> str:
        """Adopt the existing cloud resource ``cloud_id`` as the spec's ``resource_id``
        into its stage's stack, changing nothing in the cloud; returns the stage name.

        Raises :class:`ImportRefusedError` when the stage already manages it, and
        :class:`StageFailedError` when the cloud has no such resource (the stack then
        stays as it was).
        """
        stage = self.stages.stage_of(resource_id)
        snap = self._snapshot(stage.name, fresh=True)
        if snap is not None and resource_id in snap.outputs:
            raise ImportRefusedError(
                f"resource '{resource_id}' is already managed by stage '{stage.name}'",
                hint="nothing to import: `provision plan` compares it with the spec")
        declared = stage_declaration(self.spec, stage.resources, self.registry,
                                     self._upstream(stage, {}))
        program = StackProgram(tuple(replace(d, import_id=cloud_id) if d.id == resource_id
                                     else d for d in declared.resources))
        self.hooks.stage_start(stage.name, Operation.IMPORT)
        try:
            result = self.engine.import_resources(ImportRequest(
                self.stack_name(stage.name), program, on_step=self._step_hook(stage.name)))
        except StageFailedError as exc:
            self._done(stage.name, StageStatus.FAILED)
            raise StageFailedError(stage.name, exc.reason, hint=exc.hint,
                                   resource=exc.resource) from None
        self._snapshots.put(stage.name, StackSnapshot(outputs=result.outputs, digest=""))
        self._done(stage.name, StageStatus.APPLIED, result)
        return stage.name

    def _read_live(self, stage: str, resources: list[str], outputs: Mapping[str, Any]) -> Live:
        """The stage's live state for the post-stage gate, a transient read failure retried
        (``LIVE_READ_ATTEMPTS`` attempts, exponential backoff with jitter).

        Raises :class:`LiveCheckError` naming the stage and the resource's file:line."""
        assert self.live_reader is not None
        reader = self.live_reader
        try:
            for attempt in tenacity.Retrying(
                    stop=tenacity.stop_after_attempt(LIVE_READ_ATTEMPTS),
                    wait=tenacity.wait_exponential_jitter(initial=self.live_read_backoff,
                                                          max=8 * self.live_read_backoff,
                                                          jitter=self.live_read_backoff),
                    retry=tenacity.retry_if_exception_type(ProviderError), reraise=True):
                with attempt:
                    return reader(stage, resources, dict(outputs))
        except ProviderError as exc:
            rid = exc.resource if exc.resource in self.spec.resources else ""
            loc = self.spec.resources[rid].location if rid else None
            where = f"{loc}: " if loc else ""
            raise LiveCheckError(stage, where + str(exc), resource=rid) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _rollback(self, stage: str, before: StackSnapshot | None) -> None:
        """Return a stage to its state before this apply, through the engine."""
        self.hooks.stage_start(stage, Operation.ROLLBACK)
        inputs = before.inputs if before else {}
        types = dict((before.outputs.get(META_OUTPUT) or {}).get("types", {})) if before else {}
        program = restore_declaration(inputs, types, self.registry,
                                      secret_properties(self.spec, self.registry,
                                                        [r for r in inputs if r in self.spec.resources]))
        result = self.engine.up(UpRequest(self.stack_name(stage), program,
                                          on_step=self._step_hook(stage)))
        self._snapshots.put(stage, StackSnapshot(outputs=result.outputs, digest=""))

    def _check_fresh(self, stage: Stage, saved: StagePlan, plan: Plan) -> None:
        """Refuse a saved plan whose stage state moved, or whose stage would now change
        other resources, differently, or to other property values than it shows."""
        snap = self._snapshot(stage.name, fresh=True)
        if stage.name in plan.state_digests and not state_unchanged(plan.state_digests[stage.name],
                                                                    snap):
            raise StalePlanError(
                f"the state of stage '{stage.name}' changed since the plan was made",
                hint="make a new plan")
        fresh = {c.id: c for c in self.plan_stage(stage, {}, self._recorded(saved)).changes}
        want = {c.id: c for c in saved.changes}
        moved = sorted(rid for rid in set(want) | set(fresh)
                       if rid not in want or rid not in fresh
                       or not same_as_shown(want[rid], fresh[rid]))
        if moved:
            raise StalePlanError(
                f"stage '{stage.name}' would now change differently than the saved plan "
                f"({', '.join(moved)})", hint="make a new plan")

    def _step_hook(self, stage: str) -> Callable[[Step], None]:
        return lambda step: self.hooks.step(stage, step)

    # -- destroy ---------------------------------------------------------------------
    def destroy(self) -> ApplyReport:
        """Destroy every selected stage, each after every stage that depends on it; a
        stage that fails keeps the stages it depends on (they are skipped).

        Raises :class:`ProtectedResourceError` before any stage is touched when a
        resource the destroy covers has ``protect: true``."""
        refuse_protected(self.spec, self.selection)
        order, dependents = self.destroy_order()
        results = schedule(
            order, dependents, self.destroy_one, succeeded=destroy_succeeded,
            skip=lambda name, cause, _: self._skip(name, cause, destroy_skip_reason(cause)),
            parallel=self.parallel)
        return ApplyReport([results[n] for n in order])

    def destroy_order(self) -> tuple[list[str], dict[str, list[str]]]:
        """The stages ``destroy`` runs, in order, and for each the stages it waits for
        (those that depend on it)."""
        order = [s.name for s in reversed(self.stages.stages)]
        dependents: dict[str, list[str]] = {n: [] for n in order}
        for stage in self.stages.stages:
            for dep in stage.depends_on:
                dependents.setdefault(dep, []).append(stage.name)
        return order, dependents

    def destroy_one(self, name: str) -> StageOutcome:
        """Destroy the stage ``name``, every stage that depends on it destroyed already."""
        return self._timed(name, lambda: self._destroy_stage(name))

    def _destroy_stage(self, name: str) -> StageOutcome:
        stage = self.stages.stage(name)
        if self.stop.is_set():
            return self._skip(name, "", "not started: the run was interrupted")
        if not self._active(stage):
            return StageOutcome(name, StageStatus.SKIPPED, reason="no selected resource in it")
        if self._snapshot(name, fresh=True) is None:
            return StageOutcome(name, StageStatus.SKIPPED, reason="nothing recorded to destroy")
        self.hooks.stage_start(name, Operation.DESTROY)
        chosen = self._chosen(stage)
        try:
            result = self.engine.destroy(DestroyRequest(
                self.stack_name(name), targets=tuple(chosen) if chosen is not None else None,
                on_step=self._step_hook(name)))
        except ProvisionError as exc:
            return self._done(name, StageStatus.FAILED, error=exc)
        return self._done(name, StageStatus.DESTROYED, result)



def refuse_protected(spec: Spec, selection: set[str] | None) -> None:
    """Raise :class:`ProtectedResourceError` when a destroy of ``selection`` (None: every
    resource) covers a resource marked ``protect: true``; called before anything is deleted."""
    protected = [res for rid, res in sorted(spec.resources.items())
                 if res.protect and (selection is None or rid in selection)]
    if protected:
        raise ProtectedResourceError(
            [(res.id, str(res.location) if res.location else "") for res in protected])


def ensure_plan_matches(plan: Plan, spec: Spec, env: Environment, digest: str) -> None:
    if plan.spec != spec.name or plan.env != env.name:
        raise StalePlanError(f"the plan is for {plan.spec}/{plan.env}, not {spec.name}/{env.name}")
    if plan.spec_digest and plan.spec_digest != digest:
        raise StalePlanError(f"the spec {spec.path} changed since the plan was made",
                             hint="make a new plan with `provision plan ... --out`")
    if not plan.stages:
        raise PlanError("the saved plan has no stages")
