"""The stage activities that workers run: apply one stage, destroy one stage.

An activity gets references (:class:`~provision.executor.records.StageTask`) and
rebuilds the run on its worker through ``resolve`` (the worker's composition
root: the CLI's run in process for ``temporal-local``, the spec loaded again for
``provision worker``). On every retry attempt (its worker died, or it stopped
heartbeating) it first repairs the environment's stacks (``recover``: lock,
pending operations, surviving processes; see provision/engine/recovery.py), then
runs the stage through the same orchestrator code as the in-process executor.
While the stage runs it heartbeats every few seconds.

A :class:`~provision.errors.ProvisionError` raised before the stage runs (the
spec, the plan, the passphrase) is non-retryable; an outcome (applied, failed,
blocked, ...) is returned, never raised, exactly as in process.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from temporalio import activity
from temporalio.exceptions import ApplicationError

from provision.engine.orchestrator import Orchestrator
from provision.engine.report import StageOutcome
from provision.errors import PolicyViolation, ProvisionError, StageFailedError
from provision.executor.plans import PlanStore
from provision.executor.records import ErrorRecord, RunRef, StageRecord, StageTask
from provision.executor.workflows import APPLY_ACTIVITY, DESTROY_ACTIVITY

HEARTBEAT_EVERY = 5.0


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
def heartbeating(every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Heartbeat from a helper thread (in this activity's context) while the body runs."""
    done = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not done.wait(every):
            activity.heartbeat()

    thread = threading.Thread(target=context.run, args=(beat,), daemon=True,
                              name="stage-heartbeat")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@dataclass
class StageActivities:
    """The activities of one worker. ``outcomes`` keeps each stage's full outcome (with
    its error object) for a client in the same process, by (workflow run id, stage)."""

    resolve: Callable[[RunRef], RunContext]
    plans: PlanStore
    identity: str = field(default_factory=worker_identity)
    outcomes: dict[tuple[str, str], StageOutcome] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, task: StageTask, body: Callable[[RunContext], StageOutcome]) -> StageRecord:
        info = activity.info()
        timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 0.0
        with heartbeating(min(HEARTBEAT_EVERY, timeout / 3) if timeout else HEARTBEAT_EVERY):
            try:
                context = self.resolve(task.run)
                try:
                    if info.attempt > 1:
                        context.recover()
                    outcome = body(context)
                finally:
                    context.close()
            except ProvisionError as exc:
                raise ApplicationError(exc.message, exc.hint, type=type(exc).__name__,
                                       non_retryable=True) from None
        with self._lock:
            self.outcomes[(info.workflow_run_id or "", task.stage)] = outcome
        return record_of(outcome, attempt=info.attempt, worker=self.identity)

    @activity.defn(name=APPLY_ACTIVITY)
    def apply_stage(self, task: StageTask) -> StageRecord:
        return self._run(task, lambda ctx: ctx.orchestrator.apply_one(
            task.stage, self.plans.get(task.plan_id), check_fresh=task.check_fresh))

    @activity.defn(name=DESTROY_ACTIVITY)
    def destroy_stage(self, task: StageTask) -> StageRecord:
        return self._run(task, lambda ctx: ctx.orchestrator.destroy_one(task.stage))

    def take(self, workflow_run_id: str, stage: str) -> StageOutcome | None:
        with self._lock:
            return self.outcomes.pop((workflow_run_id, stage), None)
