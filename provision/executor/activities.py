"""The stage activities that workers run.

An applied stage runs as a sequence of activities, its phases (see workflows.py):
``plan_stage`` (the stage plan the gate judges, stored in the plan store and passed
on by reference: plan id, digest, change counts), ``gate_before`` (the policy gate
on the planned changes; with rollback on violation it also seals the stack's state
before the update, see checkpoints.py), ``update_stage`` (``pulumi up``),
``gate_after`` (the live read and the gate after) and, after a violation with
rollback on violation, ``roll_back_stage``. A destroyed stage is one activity
(``destroy_stage``); ``apply_stage`` (the whole stage in one activity) stays for
workflows started before the phases were activities of their own.

An activity gets references (:class:`~provision.executor.records.StageTask`) and
rebuilds the run on its worker through ``resolve`` (the worker's composition
root: the CLI's run in process for ``temporal-local``, the spec loaded again for
``provision worker``). On every retry attempt (its worker died, or it stopped
heartbeating) an activity that changes a stack first repairs the environment's
stacks (``recover``: lock, pending operations, surviving processes; see
provision/engine/recovery.py), then runs its phase through the same orchestrator
code as the in-process executor. While a phase runs it heartbeats every few seconds.

A :class:`~provision.errors.ProvisionError` raised before the phase runs (the
spec, the plan, the passphrase) is non-retryable; an outcome (applied, failed,
blocked, ...) is returned, never raised, exactly as in process.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import RunResult, Step
from provision.engine.report import StageOutcome
from provision.errors import ExecutorError, PolicyViolation, ProvisionError, StageFailedError
from provision.executor.checkpoints import CheckpointStore
from provision.executor.plans import PlanStore
from provision.executor.records import (ErrorRecord, PhaseRecord, PhaseTask, RunRef, StageRecord,
                                        StageTask)
from provision.executor.workflows import (APPLY_ACTIVITY, DESTROY_ACTIVITY, GATE_AFTER_ACTIVITY,
                                          GATE_BEFORE_ACTIVITY, PLAN_ACTIVITY, ROLLBACK_ACTIVITY,
                                          UPDATE_ACTIVITY)
from provision.plan.digest import plan_digest
from provision.vocabulary import StageStatus

HEARTBEAT_EVERY = 5.0
R = TypeVar("R")


@dataclass
class RunContext:
    """What a stage activity needs on its worker."""

    orchestrator: Orchestrator
    recover: Callable[[], object] = lambda: None     # repair what a dead attempt left
    close: Callable[[], None] = lambda: None         # when the activity ends (its supervisor)


def record_of(outcome: StageOutcome, *, attempt: int = 1, worker: str = "") -> StageRecord:
    error = None
    if outcome.error is not None:
        exc = outcome.error
        resource = exc.resource if isinstance(exc, StageFailedError) else ""
        phase, results = "", []
        if isinstance(exc, PolicyViolation):
            phase = exc.phase.value
            blocking: Callable[[], list[Any]] = getattr(exc.verdict, "blocking_results",
                                                        lambda: [])
            results = [r.to_dict() for r in blocking()]
        error = ErrorRecord(type(exc).__name__, exc.message, exc.hint, resource, phase, results)
    result = outcome.result
    return StageRecord(outcome.stage, outcome.status.value, outcome.reason, outcome.cause,
                       outcome.seconds, error, dict(result.summary) if result else None,
                       result.version if result else None, attempt, worker)


def worker_identity() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


@contextmanager
def heartbeating(every: float = HEARTBEAT_EVERY,
                 details: Callable[[], list[Any]] = list) -> Iterator[None]:
    """Heartbeat from a helper thread (in this activity's context) while the body runs,
    each beat with ``details()`` (names and counts only: never values)."""
    done = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not done.wait(every):
            activity.heartbeat(*details())

    thread = threading.Thread(target=context.run, args=(beat,), daemon=True,
                              name="stage-heartbeat")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class StepCount:
    """The step events of an update so far, as its heartbeats carry them: how many, and
    the last one's operation and resource id (never a value)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count, self._last = 0, ""

    def __call__(self, step: Step) -> None:
        with self._lock:
            self._count += 1
            self._last = f"{step.op.value} {step.resource}"

    def details(self) -> list[Any]:
        with self._lock:
            return [{"steps": self._count, "last": self._last}] if self._count else []


@dataclass
class StageActivities:
    """The activities of one worker. ``outcomes`` keeps each stage's full outcome (with
    its error object and the update's result) for a client in the same process, by
    (workflow run id, stage); a later phase of the stage on this worker reads it too."""

    resolve: Callable[[RunRef], RunContext]
    plans: PlanStore
    identity: str = field(default_factory=worker_identity)
    # Where gate_before seals a stage's state for its rollback (None: a worker that
    # cannot roll a stage back; the rollback activity then fails the stage).
    checkpoints: CheckpointStore | None = None
    outcomes: dict[tuple[str, str], StageOutcome] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _attempt(self, run: RunRef, body: Callable[[RunContext], R], *, repair: bool,
                 details: Callable[[], list[Any]] = list) -> R:
        """Run ``body`` in the run's context, heartbeating; a stack-changing phase
        (``repair``) repairs the stacks first on a retry attempt. A ProvisionError raised
        becomes a non-retryable activity failure."""
        info = activity.info()
        timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 0.0
        with heartbeating(min(HEARTBEAT_EVERY, timeout / 3) if timeout else HEARTBEAT_EVERY,
                          details):
            try:
                context = self.resolve(run)
                try:
                    if repair and info.attempt > 1:
                        context.recover()
                    return body(context)
                finally:
                    context.close()
            except ProvisionError as exc:
                raise ApplicationError(exc.message, exc.hint, type=type(exc).__name__,
                                       non_retryable=True) from None

    def _keep(self, stage: str, outcome: StageOutcome) -> None:
        with self._lock:
            self.outcomes[(activity.info().workflow_run_id or "", stage)] = outcome

    def _kept(self, stage: str) -> StageOutcome | None:
        with self._lock:
            return self.outcomes.get((activity.info().workflow_run_id or "", stage))

    def _record(self, outcome: StageOutcome) -> StageRecord:
        self._keep(outcome.stage, outcome)
        return record_of(outcome, attempt=activity.info().attempt, worker=self.identity)

    def _run(self, task: StageTask, body: Callable[[RunContext], StageOutcome]) -> StageRecord:
        return self._record(self._attempt(task.run, body, repair=True))

    # -- whole stages ----------------------------------------------------------------
    @activity.defn(name=APPLY_ACTIVITY)
    def apply_stage(self, task: StageTask) -> StageRecord:
        """The whole stage in one activity (workflows started before the phases)."""
        return self._run(task, lambda ctx: ctx.orchestrator.apply_one(
            task.stage, self.plans.get(task.plan_id), check_fresh=task.check_fresh))

    @activity.defn(name=DESTROY_ACTIVITY)
    def destroy_stage(self, task: StageTask) -> StageRecord:
        return self._run(task, lambda ctx: ctx.orchestrator.destroy_one(task.stage))

    # -- the phases of an applied stage ----------------------------------------------
    def _phase(self, task: StageTask, body: Callable[[RunContext], PhaseRecord | StageOutcome],
               *, repair: bool = False, details: Callable[[], list[Any]] = list) -> PhaseRecord:
        started = time.monotonic()
        found = self._attempt(task.run, body, repair=repair, details=details)
        seconds = time.monotonic() - started
        if isinstance(found, StageOutcome):            # this phase ended the stage
            found.seconds = seconds
            return PhaseRecord(self._record(found))
        return replace(found, record=replace(found.record, seconds=seconds))

    @staticmethod
    def _going_on(stage: str) -> StageRecord:
        return StageRecord(stage, StageStatus.PENDING.value)

    @activity.defn(name=PLAN_ACTIVITY)
    def plan_stage(self, task: StageTask) -> PhaseRecord:
        """The plan phase: the stage plan the gate judges, by reference (the saved plan's
        id, or the id of the stage planned again), or the stage's outcome."""
        def body(ctx: RunContext) -> PhaseRecord | StageOutcome:
            orch, plan = ctx.orchestrator, self.plans.get(task.plan_id)
            current = orch.plan_phase(task.stage, plan, check_fresh=task.check_fresh)
            if isinstance(current, StageOutcome):
                return current
            stage_plan = replace(plan, stages=[current])
            planned = (task.plan_id if current is orch.saved_stage(plan, task.stage)
                       else self.plans.put(stage_plan, orch.registry))
            return PhaseRecord(self._going_on(task.stage), final=False, planned=planned,
                               digest=plan_digest(stage_plan, orch.registry),
                               changes=dict(Counter(c.action.value for c in current.changes)))
        return self._phase(task, body)

    @activity.defn(name=GATE_BEFORE_ACTIVITY)
    def gate_before(self, phase: PhaseTask) -> PhaseRecord:
        """The gate on the planned changes: BLOCKED ends the stage (no retry changes a
        verdict); else, with rollback on violation, the state before the update sealed."""
        task = phase.task

        def body(ctx: RunContext) -> PhaseRecord | StageOutcome:
            orch, plan = ctx.orchestrator, self.plans.get(task.plan_id)
            current = orch.saved_stage(self.plans.get(phase.planned), task.stage)
            blocked = orch.gate_before(task.stage, current, plan)
            if blocked is not None:
                return blocked
            checkpoint = ""
            if orch.rollback_on_violation:
                try:
                    before = orch.rollback_point(task.stage)
                except ProvisionError as exc:
                    return orch.failed(task.stage, exc)
                checkpoint = self._checkpoints().put(before)
            return PhaseRecord(self._going_on(task.stage), final=False, checkpoint=checkpoint)
        return self._phase(task, body)

    @activity.defn(name=UPDATE_ACTIVITY)
    def update_stage(self, phase: PhaseTask) -> PhaseRecord:
        """The update (``pulumi up``); the stacks repaired first on a retry attempt, and a
        saved plan's state checked on the first. APPLIED goes on to the gate after."""
        task = phase.task
        steps = StepCount()

        def body(ctx: RunContext) -> PhaseRecord | StageOutcome:
            first = activity.info().attempt == 1     # a retry finds its own attempt's changes
            outcome = ctx.orchestrator.apply_one(
                task.stage, self.plans.get(task.plan_id),
                check_fresh=task.check_fresh and first, gated=True, on_step=steps)
            if outcome.status is not StageStatus.APPLIED:
                self._discard(phase.checkpoint)      # a failed update is not rolled back
                return outcome
            record = self._record(outcome)
            return PhaseRecord(record, final=False)
        return self._phase(task, body, repair=True, details=steps.details)

    @activity.defn(name=GATE_AFTER_ACTIVITY)
    def gate_after(self, phase: PhaseTask) -> PhaseRecord:
        """The live read and the gate after the update: the stage's outcome, or a
        violation to roll back (with rollback on violation)."""
        task = phase.task

        def body(ctx: RunContext) -> PhaseRecord | StageOutcome:
            orch = ctx.orchestrator
            result = self._result(task.stage, phase)
            outputs = None
            if not result.outputs:      # updated on another worker: the stack's outputs
                try:
                    snap = orch.engine.snapshot(orch.stack_name(task.stage))
                except ProvisionError as exc:
                    return orch.failed(task.stage, exc)
                outputs = snap.outputs if snap else {}
            checked = orch.verify(task.stage, result, outputs)
            if isinstance(checked, StageOutcome):
                self._discard(phase.checkpoint)
                return checked
            if not orch.rollback_on_violation:
                return orch.violated(task.stage, result, checked)
            kept = StageOutcome(task.stage, StageStatus.FAILED, result, checked)
            return PhaseRecord(self._record(kept), final=False, roll_back=True)
        return self._phase(task, body)

    @activity.defn(name=ROLLBACK_ACTIVITY)
    def roll_back_stage(self, phase: PhaseTask) -> PhaseRecord:
        """Return the stage to its sealed state before the update (stacks repaired first
        on a retry attempt): ROLLED_BACK, or FAILED when the rollback fails."""
        task = phase.task

        def body(ctx: RunContext) -> PhaseRecord | StageOutcome:
            before = self._checkpoints().get(phase.checkpoint)
            kept = self._kept(task.stage)
            # The violation as this worker judged it (else the workflow's record keeps it).
            violation = kept.error if kept is not None else None
            result = self._result(task.stage, phase)
            outcome = ctx.orchestrator.roll_back(
                task.stage, before, result,
                violation if isinstance(violation, PolicyViolation) else None)
            self._discard(phase.checkpoint)
            return outcome
        return self._phase(task, body, repair=True)

    def _result(self, stage: str, phase: PhaseTask) -> RunResult:
        """The update's result: as this worker kept it, else its change counts."""
        kept = self._kept(stage)
        if kept is not None and kept.result is not None:
            return kept.result
        return RunResult([], {}, dict(phase.summary or {}), phase.version)

    def _checkpoints(self) -> CheckpointStore:
        if self.checkpoints is None:
            raise ExecutorError("this worker has no store for the state a rollback returns to",
                                hint="start it with the state passphrase (PROVISION_PASSPHRASE)")
        return self.checkpoints

    def _discard(self, checkpoint: str) -> None:
        if checkpoint and self.checkpoints is not None:
            self.checkpoints.discard(checkpoint)

    def all(self) -> list[Callable[..., object]]:
        """Every activity of this worker, as a Worker registers them."""
        return [self.apply_stage, self.destroy_stage, self.plan_stage, self.gate_before,
                self.update_stage, self.gate_after, self.roll_back_stage]

    def take(self, workflow_run_id: str, stage: str) -> StageOutcome | None:
        with self._lock:
            return self.outcomes.pop((workflow_run_id, stage), None)

