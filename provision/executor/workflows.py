"""The workflow of one environment's apply or destroy: its stages as activities.

Workflow code is deterministic: no I/O, no engine, no clock but Temporal's. It
schedules the stages exactly as ``provision.engine.schedule`` does in process:
a stage starts as soon as every stage it waits for has succeeded (at most
``parallel`` at once, ready stages in the plan's order); a stage that does not
succeed skips only the stages that depend on it, directly or through others,
with the same reasons the in-process orchestrator gives
(``orchestrator.apply_skip_reason`` / ``destroy_skip_reason``).

Each stage runs as one activity (``provision.apply_stage`` or
``provision.destroy_stage``, see activities.py) on the stage's task queue. The
activity retries with backoff when its worker dies or it stops heartbeating;
its first act on a retry is the recovery of the stack. Errors the activity
marks non-retryable (spec errors, stale plans, policy failures) fail at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from provision.engine.report import apply_skip_reason, destroy_skip_reason
    from provision.executor.records import (DEFAULT_QUEUE, EnvironmentJob, ErrorRecord,
                                            StageRecord, StageTask, is_apply)
    from provision.vocabulary import StageStatus

WORKFLOW_NAME = "provision.environment"
APPLY_ACTIVITY = "provision.apply_stage"
DESTROY_ACTIVITY = "provision.destroy_stage"
# Errors that no retry can fix: the activity raises them as non-retryable too.
NON_RETRYABLE = ["SpecError", "SpecNotFoundError", "EnvironmentNotFoundError", "StalePlanError",
                 "PlanError", "PolicyError", "PolicyViolation", "PassphraseError",
                 "ProtectedResourceError"]
# A stage's update may run for a long time; heartbeats tell a live one from a dead one.
STAGE_TIMEOUT = timedelta(hours=6)


def succeeded(job: EnvironmentJob, record: StageRecord) -> bool:
    """Whether the stages waiting for ``record``'s stage may start (as in process)."""
    status = StageStatus(record.status)
    if is_apply(job.operation):
        return status.ok
    return status.ok or status is StageStatus.SKIPPED and not record.cause


def skipped(job: EnvironmentJob, stage: str, cause: str, caused_by: StageRecord) -> StageRecord:
    if is_apply(job.operation):
        reason = apply_skip_reason(job.depends_on.get(stage, []), cause,
                                   StageStatus(caused_by.status))
    else:
        reason = destroy_skip_reason(cause)
    return StageRecord(stage, StageStatus.SKIPPED.value, reason=reason, cause=cause)


@workflow.defn(name=WORKFLOW_NAME)
class EnvironmentWorkflow:
    """Apply or destroy the stages of one environment (one run per environment at a time:
    the workflow id is the spec's and environment's, see temporal.py)."""

    def __init__(self) -> None:
        self._results: dict[str, StageRecord] = {}

    @workflow.query(name="stages")
    def stages(self) -> dict[str, str]:
        """Each finished stage's status, while the run goes on."""
        return {name: record.status for name, record in self._results.items()}

    @workflow.run
    async def run(self, job: EnvironmentJob) -> list[StageRecord]:
        order = list(job.order)
        known = set(order)
        waiting = {n: {d for d in job.waits_for.get(n, []) if d in known and d != n}
                   for n in order}
        dependents: dict[str, list[str]] = {n: [] for n in order}
        for node in order:
            for dep in sorted(waiting[node]):
                dependents[dep].append(node)
        position = {n: i for i, n in enumerate(order)}
        results = self._results
        ready = [n for n in order if not waiting[n]]
        running: dict[asyncio.Task[StageRecord], str] = {}

        def block(node: str) -> None:
            stack = list(dependents[node])
            while stack:
                dependent = stack.pop()
                if dependent in results:
                    continue
                results[dependent] = skipped(job, dependent, node, results[node])
                stack.extend(dependents[dependent])

        while ready or running:
            ready.sort(key=position.__getitem__)
            while ready and len(running) < max(1, job.parallel):
                node = ready.pop(0)
                running[asyncio.ensure_future(self._stage(job, node))] = node
            done, _ = await workflow.wait(list(running), return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=lambda t: position[running[t]]):
                node = running.pop(task)
                results[node] = task.result()
                if not succeeded(job, results[node]):
                    block(node)
                    continue
                for dependent in dependents[node]:
                    waiting[dependent].discard(node)
                    if not waiting[dependent] and dependent not in results:
                        ready.append(dependent)
        return [results[n] for n in order if n in results]

    async def _stage(self, job: EnvironmentJob, stage: str) -> StageRecord:
        task = StageTask(job.run, job.operation, stage, job.plan_id, job.check_fresh)
        try:
            record: StageRecord = await workflow.execute_activity(
                APPLY_ACTIVITY if is_apply(job.operation) else DESTROY_ACTIVITY, task,
                task_queue=job.queues.get(stage) or DEFAULT_QUEUE,
                start_to_close_timeout=STAGE_TIMEOUT,
                heartbeat_timeout=timedelta(seconds=job.heartbeat_seconds),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1),
                                         backoff_coefficient=2.0,
                                         maximum_interval=timedelta(seconds=60),
                                         maximum_attempts=job.max_attempts,
                                         non_retryable_error_types=NON_RETRYABLE),
                result_type=StageRecord)
        except ActivityError as exc:
            # A stage that cannot run (or ran out of attempts) fails alone, like an
            # engine failure in process: its dependents are skipped, the others go on.
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                hint = str(cause.details[0]) if cause.details else ""
                error = ErrorRecord(cause.type or "ProvisionError", cause.message, hint)
            else:
                error = ErrorRecord("ExecutorError", str(cause or exc))
            return StageRecord(stage, StageStatus.FAILED.value, error=error)
        return record
