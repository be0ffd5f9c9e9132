"""A rollout as Temporal workflows: the promotion chain, each environment a child workflow,
an approval an update validated against the plan digest.

``provision.rollout`` (id ``provision/rollout/<run id>``) goes through the chain in
order; for each environment it runs the child ``provision.rollout_env`` (id
``provision/rollout/<run id>/<env>``, the approval gate's id) and stops at the first
that does not finish. The child runs the environment's step as one activity
(``provision.rollout_step``, rollout_activities.py: plan, approval check, apply, health
checks, through the rollout state machine on a worker, recorded in the run history).
When the step halts for an approval, the child waits (``workflow.wait_condition``:
no worker, no activity, no timer) for an ``approve`` update naming exactly the plan it
waits for; the validator refuses any other before it enters the history. The approval
then travels into the next step, which applies that plan (or halts again with a new
plan when the spec or the state moved since).

Workflow code is deterministic: no I/O, no engine, no clock but Temporal's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from provision.executor.approvals import UPDATE_NAME, gate_id
    from provision.executor.records import DEFAULT_QUEUE, ApprovalRecord
    from provision.vocabulary import ExitCode, Outcome

ROLLOUT_WORKFLOW = "provision.rollout"
ENV_WORKFLOW = "provision.rollout_env"
STEP_ACTIVITY = "provision.rollout_step"
APPROVAL_GATE = "approval"
RECHECK_UPDATE = "recheck"
# One environment's step plans and applies it: it may run long; heartbeats tell a live
# worker from a dead one (its retry repairs the stacks first, as a stage's does).
STEP_TIMEOUT = timedelta(hours=12)


def rollout_id(run_id: str) -> str:
    return f"provision/rollout/{run_id}"


@dataclass(frozen=True)
class RolloutJob:
    """The rollout workflow's input: references only."""

    run_id: str
    spec_file: str
    chain: list[str]                     # the environments, in promotion order
    activity_queue: str = DEFAULT_QUEUE  # where the environments' steps run
    heartbeat_seconds: float = 30.0
    max_attempts: int = 3


@dataclass(frozen=True)
class EnvTask:
    """One environment's child workflow input, and its step activity's."""

    run_id: str
    spec_file: str
    env: str
    activity_queue: str = DEFAULT_QUEUE
    heartbeat_seconds: float = 30.0
    max_attempts: int = 3
    approval: ApprovalRecord | None = None   # the approval the step may take (its plan's)


@dataclass(frozen=True)
class EnvStep:
    """How an environment's step ended: done (``outcome`` ''), or where the rollout stops
    (an Outcome value, the exit code and ``machine.Halt.to_dict()``)."""

    env: str
    outcome: str = ""
    exit_code: int = 0
    halt: dict[str, str] | None = None

    @property
    def waiting_for(self) -> str:
        """The plan digest an approval must name ('' unless halted for an approval)."""
        halt = self.halt or {}
        return halt.get("what", "") if halt.get("gate") == APPROVAL_GATE else ""


@workflow.defn(name=ENV_WORKFLOW)
class RolloutEnvWorkflow:
    """One environment of one rollout: its step, the approval it waits for, the next step."""

    @workflow.init
    def __init__(self, task: EnvTask) -> None:
        self._task = task                # set before any update is validated
        self._waiting: EnvStep | None = None
        self._approval: ApprovalRecord | None = None
        self._recheck = False

    @workflow.query(name="waiting")
    def waiting(self) -> EnvStep | None:
        """The approval halt the environment waits at (None while it does not wait)."""
        return self._waiting

    @workflow.query(name="waiting_for")
    def waiting_for(self) -> str:
        """The plan digest an approval must name ('' while it waits for none)."""
        return self._waiting.waiting_for if self._waiting else ""

    @workflow.run
    async def run(self, task: EnvTask) -> EnvStep:
        approval: ApprovalRecord | None = None
        while True:
            step = await self._step(dataclasses.replace(task, approval=approval))
            if not step.waiting_for:
                return step
            self._approval, self._waiting, self._recheck = None, step, False
            await workflow.wait_condition(lambda: self._approval is not None or self._recheck)
            approval = self._approval

    async def _step(self, task: EnvTask) -> EnvStep:
        try:
            step: EnvStep = await workflow.execute_activity(
                STEP_ACTIVITY, task, task_queue=task.activity_queue,
                start_to_close_timeout=STEP_TIMEOUT,
                heartbeat_timeout=timedelta(seconds=task.heartbeat_seconds),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                         maximum_interval=timedelta(seconds=60),
                                         maximum_attempts=task.max_attempts),
                result_type=EnvStep)
        except ActivityError as exc:
            # The step could not run at all (its worker kept dying, or it could not rebuild
            # the run): the rollout stops there as for a failed stage.
            cause = exc.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            hint = (str(cause.details[0]) if isinstance(cause, ApplicationError)
                    and cause.details and cause.details[0] else
                    f"fix the cause, then: provision rollout --resume {task.run_id}")
            return EnvStep(task.env, Outcome.FAILED.value, int(ExitCode.ERROR), {
                "env": task.env, "gate": "stage", "stage": "", "what": "",
                "reason": message, "hint": hint})
        return step

    @workflow.update(name=RECHECK_UPDATE)
    def recheck(self) -> None:
        """``rollout --resume`` while the environment waits: its step again, as on
        ``local`` (the stored plan checked against spec and state; still no approval:
        the same halt again, recorded; moved: voided, a new plan to approve)."""
        self._recheck, self._waiting = True, None

    @recheck.validator
    def _validate_recheck(self) -> None:
        if self._waiting is None:
            raise ValueError(f"{self._task.env} in rollout {self._task.run_id} is not "
                             "waiting for an approval")

    @workflow.update(name=UPDATE_NAME)
    def approve(self, approval: ApprovalRecord) -> ApprovalRecord:
        self._approval, self._waiting = approval, None
        return approval

    @approve.validator
    def _validate(self, approval: ApprovalRecord) -> None:
        task, waiting = self._task, self._waiting
        if waiting is None:
            raise ValueError(f"{task.env} in rollout {task.run_id} is not waiting for an "
                             "approval (approved already, or not halted there)")
        if approval.plan_digest != waiting.waiting_for:
            raise ValueError(f"the approval names plan {approval.plan_digest}, but {task.env} "
                             f"in rollout {task.run_id} waits for plan {waiting.waiting_for}")


@workflow.defn(name=ROLLOUT_WORKFLOW)
class RolloutWorkflow:
    """The promotion chain: each environment's child workflow in order, until one stops."""

    def __init__(self) -> None:
        self._env = ""

    @workflow.query(name="current")
    def current(self) -> str:
        """The environment the rollout is at ('' before the first and after the last)."""
        return self._env

    @workflow.run
    async def run(self, job: RolloutJob) -> EnvStep:
        for env in job.chain:
            self._env = env
            step = await workflow.execute_child_workflow(
                RolloutEnvWorkflow.run,
                EnvTask(job.run_id, job.spec_file, env, job.activity_queue,
                        job.heartbeat_seconds, job.max_attempts),
                id=gate_id(job.run_id, env), task_queue=workflow.info().task_queue)
            if step.outcome:
                return step
        self._env = ""
        return EnvStep("", Outcome.APPLIED.value, int(ExitCode.OK))
