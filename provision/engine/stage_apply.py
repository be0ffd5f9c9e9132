"""One stage's apply, phase by phase: the gate before, the update, the live read and
the gate after, and a rollback on a violation after it.

:class:`StageApply` adds these to :class:`~provision.engine.stack_values.StackValues`;
the orchestrator schedules them stage by stage (``provision.engine.orchestrator``),
and a durable executor runs them on its workers (``provision.executor``).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import tenacity

from provision.engine.declare import restore_declaration, stage_declaration
from provision.engine.freshness import same_as_shown, state_unchanged
from provision.engine.live import read_back_records
from provision.engine.protocol import META_OUTPUT, RunResult, StackSnapshot, Step, UpRequest
from provision.engine.report import StageOutcome
from provision.engine.secrets import secret_properties
from provision.engine.stack_values import StackValues
from provision.errors import (LiveCheckError, PolicyViolation, ProviderError, ProvisionError,
                              StageFailedError, StalePlanError)
from provision.graph.stages import Stage
from provision.plan.model import Live, Plan, StagePlan
from provision.vocabulary import Operation, Phase, StageStatus

# Attempts to read a stage's live state for the post-stage gate before the stage is
# reported as applied but unverified (each adapter read also retries inside its SDK).
LIVE_READ_ATTEMPTS = 3


class StageApply(StackValues):
    """Apply one stage of a plan, the stages it depends on applied already."""

    def apply_one(self, name: str, plan: Plan, *, check_fresh: bool = False,
                  gated: bool = False,
                  on_step: Callable[[Step], None] | None = None) -> StageOutcome:
        """Apply the stage ``name`` of ``plan``, the stages it depends on applied already:
        its phases one after the other (:meth:`plan_phase`, :meth:`gate_before`,
        :meth:`update`, :meth:`verify`, :meth:`roll_back`). What ``apply`` schedules.

        With ``gated`` (a durable executor's update activity: the plan and gate-before
        phases ran as activities of their own) only the update runs, ``check_fresh``
        checks the stage's state alone, and an APPLIED outcome is provisional: the
        live read and gate after follow (no ``stage_done`` hook is called for it).
        ``on_step`` also sees each step of the update (besides the ``step`` hook)."""
        if gated:
            return self._timed(name, lambda: self._update_only(name, plan, check_fresh,
                                                               on_step))
        return self._timed(name, lambda: self._apply_stage(name, plan, check_fresh))

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

    def failed(self, name: str, exc: ProvisionError) -> StageOutcome:
        """The stage failed with ``exc``; an engine failure names the stack, so it is
        named again by the stage (and the resource's file:line), which users know."""
        if isinstance(exc, StageFailedError):
            resource = self.spec.resources.get(exc.resource)
            where = f"{resource.location}: " if resource and resource.location else ""
            exc = StageFailedError(name, where + exc.reason, hint=exc.hint,
                                   resource=exc.resource)
        return self._done(name, StageStatus.FAILED, error=exc)

    def _apply_stage(self, name: str, plan: Plan, check_fresh: bool) -> StageOutcome:
        current = self.plan_phase(name, plan, check_fresh=check_fresh)
        if isinstance(current, StageOutcome):
            return current
        blocked = self.gate_before(name, current, plan)
        if blocked is not None:
            return blocked
        try:
            before = self.rollback_point(name)
        except ProvisionError as exc:
            return self.failed(name, exc)
        result = self.update(name, plan)
        if isinstance(result, StageOutcome):
            return result
        checked = self.verify(name, result)
        if isinstance(checked, StageOutcome):
            return checked
        if self.rollback_on_violation:
            return self.roll_back(name, before, result, checked)
        return self.violated(name, result, checked)

    def _update_only(self, name: str, plan: Plan, check_fresh: bool,
                     on_step: Callable[[Step], None] | None) -> StageOutcome:
        if self.stop.is_set():
            return self._skip(name, "", "not started: the run was interrupted")
        if check_fresh:
            try:
                self._check_state(name, plan)
            except ProvisionError as exc:
                return self.failed(name, exc)
        result = self.update(name, plan, on_step)
        return result if isinstance(result, StageOutcome) else \
            StageOutcome(name, StageStatus.APPLIED, result)

    # -- the phases of one stage's apply ---------------------------------------------
    def plan_phase(self, name: str, plan: Plan, *,
                   check_fresh: bool = False) -> StagePlan | StageOutcome:
        """The plan phase of stage ``name``: the stage plan the gate before judges (the
        saved one, or with a gate the stage planned again when its saved changes had
        values unknown until its upstream stages applied), or the stage's outcome when
        this phase ends it: SKIPPED (the run was interrupted), UNCHANGED, BLOCKED (with a
        gate, an unchanged stage whose resources violate a mandatory rule: what a run
        keeps is judged, not only what it changes), or FAILED (with ``check_fresh``, a
        :class:`StalePlanError` when the stage moved since the saved plan was made; an
        engine error, or the gate's own failure)."""
        if self.stop.is_set():
            return self._skip(name, "", "not started: the run was interrupted")
        stage, saved = self.stages.stage(name), self.saved_stage(plan, name)
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
                return (self._judge_unchanged(name, saved, plan)
                        or self._done(name, StageStatus.UNCHANGED))
            return self.plan_stage(stage, {}, self._recorded(saved)) if needs_replan else saved
        except ProvisionError as exc:
            return self.failed(name, exc)

    def _judge_unchanged(self, name: str, saved: StagePlan, plan: Plan) -> StageOutcome | None:
        """The gate before, on a stage that changes nothing: None when it passes (or there
        is no gate), else BLOCKED; the gate's own failure raises."""
        if self.gate is None:
            return None
        verdict = self.gate.check_pre(saved, plan)
        self.hooks.policy(name, Phase.PRE, verdict)
        if verdict.blocking:
            return self._done(name, StageStatus.BLOCKED,
                              error=PolicyViolation(name, Phase.PRE, verdict))
        return None

    def gate_before(self, name: str, current: StagePlan, plan: Plan) -> StageOutcome | None:
        """The gate before stage ``name`` changes anything, on ``current`` (from
        :meth:`plan_phase`): None when the stage may go on, else its outcome (BLOCKED
        with a :class:`PolicyViolation`; FAILED when the gate itself fails)."""
        self.hooks.stage_start(name, Operation.APPLY)
        if self.gate is None:
            return None
        try:
            verdict = self.gate.check_pre(current, plan)
        except ProvisionError as exc:
            return self.failed(name, exc)
        self.hooks.policy(name, Phase.PRE, verdict)
        if verdict.blocking:
            return self._done(name, StageStatus.BLOCKED,
                              error=PolicyViolation(name, Phase.PRE, verdict))
        return None

    def rollback_point(self, name: str) -> StackSnapshot | None:
        """What :meth:`roll_back` returns stage ``name`` to: its stack before the update
        (None when it has no stack, or rollback on violation is off). Raises the
        engine's :class:`ProvisionError` when the state cannot be read."""
        return self._snapshot(name, fresh=True) if self.rollback_on_violation else None

    def update(self, name: str, plan: Plan,
               on_step: Callable[[Step], None] | None = None) -> RunResult | StageOutcome:
        """The update of stage ``name`` (``pulumi up``) with the inputs ``plan`` recorded,
        references resolved from the upstream stages' state; its result, or the FAILED
        outcome (the engine's error, named by the stage and the resource's file:line)."""
        stage, saved = self.stages.stage(name), self.saved_stage(plan, name)
        try:
            # The plan's recorded inputs are what gets declared; upstream stages are
            # applied by now, so their real outputs resolve the references.
            recorded = self._recorded(saved)
            program = stage_declaration(self.spec, stage.resources, self.registry,
                                        self._upstream(stage, {}, recorded),
                                        self._inputs(stage, recorded), known=True)
            chosen = self._chosen(stage)
            # The plan's refresh found the stack as recorded: the update diffs against the
            # recorded state instead of reading every resource again (as a saved plan
            # is applied). A plan read from a file, or one that found drift, refreshes.
            result = self.engine.up(UpRequest(
                self.stack_name(name), program,
                targets=tuple(chosen) if chosen is not None else None,
                on_step=self._step_hook(name, on_step),
                refresh=not saved.live_as_recorded))
        except ProvisionError as exc:
            return self.failed(name, exc)
        self._snapshots.put(name, StackSnapshot(outputs=result.outputs, digest=""))
        return result

    def verify(self, name: str, result: RunResult,
               outputs: Mapping[str, Any] | None = None) -> StageOutcome | PolicyViolation:
        """The live read and gate after the update ``result`` of stage ``name`` (its live
        records from the stack ``outputs``, by default the update's: a resource the
        update created, updated or replaced as its adapter read it back at the end of
        that step, every other one read live through the live reader, which is asked
        for the others even when there are none, see
        :func:`~provision.engine.live.read_back_records`): the stage's
        outcome (APPLIED; UNVERIFIED when the live state cannot be read; FAILED when the
        gate itself fails), or the gate's :class:`PolicyViolation`, which the caller
        turns into a rollback (:meth:`roll_back`) or a FAILED stage."""
        if self.gate is None or self.live_reader is None:
            return self._done(name, StageStatus.APPLIED, result)
        resources = self.stages.stage(name).resources
        source = result.outputs if outputs is None else outputs
        # What this update created or changed it read back already; the rest is read live.
        taken = read_back_records(self.spec, self.registry, resources, result, source)
        try:
            read = self._read_live(name, [r for r in resources if r not in taken], source)
        except LiveCheckError as exc:
            return self._done(name, StageStatus.UNVERIFIED, result, exc)
        live = {rid: taken[rid] if rid in taken else read[rid] for rid in resources
                if rid in taken or rid in read}
        try:
            verdict = self.gate.check_post(name, live)
        except ProvisionError as exc:
            return self.failed(name, exc)
        self.hooks.policy(name, Phase.POST, verdict)
        if verdict.blocking:
            return PolicyViolation(name, Phase.POST, verdict)
        return self._done(name, StageStatus.APPLIED, result)

    def roll_back(self, name: str, before: StackSnapshot | None, result: RunResult,
                  violation: PolicyViolation | None) -> StageOutcome:
        """Return stage ``name`` to ``before`` (:meth:`rollback_point`) after the update
        ``result`` violated a policy: ROLLED_BACK with the violation (None: judged
        elsewhere, the caller keeps it), or FAILED when the rollback itself fails."""
        try:
            self._rollback(name, before)
        except ProvisionError as exc:
            return self.failed(name, exc)
        return self._done(name, StageStatus.ROLLED_BACK, result, violation)

    def violated(self, name: str, result: RunResult, violation: PolicyViolation) -> StageOutcome:
        """Stage ``name`` violated a policy after its update and is not rolled back: FAILED."""
        return self._done(name, StageStatus.FAILED, result, violation)

    @staticmethod
    def saved_stage(plan: Plan, name: str) -> StagePlan:
        """The stage ``name`` of ``plan``."""
        return next(s for s in plan.stages if s.name == name)

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
        self._check_state(stage.name, plan)
        fresh = {c.id: c for c in self.plan_stage(stage, {}, self._recorded(saved)).changes}
        want = {c.id: c for c in saved.changes}
        moved = sorted(rid for rid in set(want) | set(fresh)
                       if rid not in want or rid not in fresh
                       or not same_as_shown(want[rid], fresh[rid]))
        if moved:
            raise StalePlanError(
                f"stage '{stage.name}' would now change differently than the saved plan "
                f"({', '.join(moved)})", hint="make a new plan")

    def _check_state(self, name: str, plan: Plan) -> None:
        """Refuse a saved plan whose stage state moved since it was made."""
        snap = self._snapshot(name, fresh=True)
        if name in plan.state_digests and not state_unchanged(plan.state_digests[name], snap):
            raise StalePlanError(f"the state of stage '{name}' changed since the plan was made",
                                 hint="make a new plan")

    def _step_hook(self, stage: str,
                   also: Callable[[Step], None] | None = None) -> Callable[[Step], None]:
        def hook(step: Step) -> None:
            self.hooks.step(stage, step)
            if also is not None:
                also(step)
        return hook
