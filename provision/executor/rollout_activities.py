"""The activity of a rollout's environment (rollout_workflow.py): one step of the rollout
state machine, on a worker.

``provision.rollout_step`` rebuilds the rollout on its worker through ``resolve`` (the
worker's composition root: the CLI's own rollout for ``temporal-local``'s in-process
worker, the run history for ``provision worker``), takes the approval the workflow
hands it into the run history when the history lacks it (one sent straight to
Temporal), and runs :meth:`provision.rollout.machine.Rollout.step` for the
environment: plan, approval check, apply, health checks, each recorded in the run
history exactly as on the ``local`` executor. It heartbeats while it runs.

A :class:`~provision.errors.ProvisionError` raised before the step runs (the run cannot
be rebuilt) is non-retryable; an outcome (done, halted, failed) is returned, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from provision.errors import ProvisionError
from provision.executor.activities import HEARTBEAT_EVERY, heartbeating
from provision.executor.rollout_workflow import STEP_ACTIVITY, EnvStep, EnvTask
from provision.history import History
from provision.rollout.machine import Rollout, RolloutResult


@dataclass
class RolloutContext:
    """What a rollout step needs on its worker: the rollout (its state, record, drivers
    and UI) and the run history it records to."""

    rollout: Rollout
    history: History
    close: Callable[[], None] = lambda: None      # when the step ends


def step_of(env: str, result: RolloutResult | None) -> EnvStep:
    """The step's outcome as it travels back to the workflow."""
    if result is None:
        return EnvStep(env)
    return EnvStep(env, result.outcome.value, int(result.exit_code),
                   result.halt.to_dict() if result.halt else None)


def take_approval(context: RolloutContext, task: EnvTask) -> None:
    """The workflow's approval into the run history, unless it is there already."""
    approval = task.approval
    if approval is None:
        return
    run_id = context.rollout.run_id
    if context.history.approval(run_id, task.env, approval.plan_digest) is not None:
        return
    context.history.approve(run_id, task.env, plan_digest=approval.plan_digest,
                            who=approval.who,
                            comment=approval.comment or "approved through the Temporal workflow")


@dataclass
class RolloutActivities:
    """The rollout activity of one worker; ``resolve`` maps a run id to its rollout."""

    resolve: Callable[[str], RolloutContext]

    @activity.defn(name=STEP_ACTIVITY)
    def step(self, task: EnvTask) -> EnvStep:
        info = activity.info()
        timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 0.0
        with heartbeating(min(HEARTBEAT_EVERY, timeout / 3) if timeout else HEARTBEAT_EVERY):
            try:
                context = self.resolve(task.run_id)
            except ProvisionError as exc:
                raise ApplicationError(exc.message, exc.hint, type=type(exc).__name__,
                                       non_retryable=True) from None
            try:
                take_approval(context, task)
                return step_of(task.env, context.rollout.step(task.env))
            finally:
                context.close()
