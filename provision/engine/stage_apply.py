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

    def apply_one(self, name: str, plan: Plan, *, check_fresh: bool = False) -> StageOutcome:
        """Apply the stage ``name`` of ``plan``, the stages it depends on applied already:
        gate before, update, live read and gate after. What ``apply`` schedules, and what
        a durable executor's stage activity runs (``provision.executor``)."""
        saved = next(s for s in plan.stages if s.name == name)
        return self._timed(name, lambda: self._apply_stage(
            self.stages.stage(name), saved, plan, check_fresh))

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
