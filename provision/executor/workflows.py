"""The workflow of one environment's apply or destroy: its stages as activities.

Workflow code is deterministic: no I/O, no engine, no clock but Temporal's. It
schedules the stages exactly as ``provision.engine.schedule`` does in process:
a stage starts as soon as every stage it waits for has succeeded (at most
``parallel`` at once, ready stages in the plan's order); a stage that does not
succeed skips only the stages that depend on it, directly or through others,
with the same reasons the in-process orchestrator gives
(``orchestrator.apply_skip_reason`` / ``destroy_skip_reason``).

An applied stage runs as a sequence of activities, its phases, each on the
stage's task queue (see activities.py)::

    provision.plan_stage       -> the stage plan to gate, by reference (plan id,
                                  digest, change counts), or the stage's outcome
                                  (unchanged; failed: a stale saved plan)
    provision.gate_before      -> blocked ends the stage; else, with rollback on
                                  violation, the sealed pre-update state's id
    provision.update_stage     -> pulumi up (recovery first on a retry attempt)
    provision.gate_after       -> live read and gate after: the stage's outcome, or
                                  a violation to roll back
    provision.roll_back_stage  -> only after such a violation

Only references and outcomes pass between them, never values. A destroyed stage
is one activity (``provision.destroy_stage``). Workflows started before the
phases were activities (no ``stage-phases`` patch marker in their history) still
run each applied stage as the one activity ``provision.apply_stage``.
Activities retry with backoff when their worker dies or they stop heartbeating;
errors they mark non-retryable (spec errors, stale plans, policy failures) fail
at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from provision.engine.report import apply_skip_reason, destroy_skip_reason
    from provision.executor.records import (DEFAULT_QUEUE, EnvironmentJob, ErrorRecord,
                                            PhaseRecord, PhaseTask, StageRecord, StageTask,
                                            is_apply)
    from provision.vocabulary import StageStatus

WORKFLOW_NAME = "provision.environment"
APPLY_ACTIVITY = "provision.apply_stage"
DESTROY_ACTIVITY = "provision.destroy_stage"
PLAN_ACTIVITY = "provision.plan_stage"
GATE_BEFORE_ACTIVITY = "provision.gate_before"
UPDATE_ACTIVITY = "provision.update_stage"
GATE_AFTER_ACTIVITY = "provision.gate_after"
ROLLBACK_ACTIVITY = "provision.roll_back_stage"
# The patch that made an applied stage's phases activities of their own.
PHASES_PATCH = "stage-phases"
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
        if is_apply(job.operation) and workflow.patched(PHASES_PATCH):
            return await self._phases(job, task)
        try:
            record: StageRecord = await workflow.execute_activity(
                APPLY_ACTIVITY if is_apply(job.operation) else DESTROY_ACTIVITY, task,
                result_type=StageRecord, **_options(job, stage))
        except ActivityError as exc:
            return _failed(stage, exc)
        return record

    async def _phases(self, job: EnvironmentJob, task: StageTask) -> StageRecord:
        """An applied stage, phase by phase; its record as one activity would give it."""
        spent = 0.0

        async def run(activity: str, arg: StageTask | PhaseTask) -> PhaseRecord:
            nonlocal spent
            try:
                found: PhaseRecord = await workflow.execute_activity(
                    activity, arg, result_type=PhaseRecord, **_options(job, task.stage))
            except ActivityError as exc:
                return PhaseRecord(_failed(task.stage, exc))
            spent += found.record.seconds
            return found

        planned = await run(PLAN_ACTIVITY, task)
        if planned.final:
            return replace(planned.record, seconds=spent)
        phase = PhaseTask(task, planned=planned.planned)
        gated = await run(GATE_BEFORE_ACTIVITY, phase)
        if gated.final:
            return replace(gated.record, seconds=spent)
        phase = replace(phase, checkpoint=gated.checkpoint)
        updated = await run(UPDATE_ACTIVITY, phase)
        if updated.final:
            return replace(updated.record, seconds=spent)
        # The record speaks of the update: its attempt, worker, change counts.
        update = updated.record
        phase = replace(phase, summary=update.summary, version=update.version)
        last = await run(GATE_AFTER_ACTIVITY, phase)
        violation = last.record.error
        if last.roll_back:
            last = await run(ROLLBACK_ACTIVITY, phase)
            if last.record.status == StageStatus.ROLLED_BACK.value:
                last = replace(last, record=replace(last.record, error=violation))
        return replace(last.record, seconds=spent, attempt=update.attempt, worker=update.worker)


def _options(job: EnvironmentJob, stage: str) -> dict[str, Any]:
    """How every activity of ``stage`` runs: its queue, timeouts and retries."""
    return {"task_queue": job.queues.get(stage) or DEFAULT_QUEUE,
            "start_to_close_timeout": STAGE_TIMEOUT,
            "heartbeat_timeout": timedelta(seconds=job.heartbeat_seconds),
            "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1),
                                        backoff_coefficient=2.0,
                                        maximum_interval=timedelta(seconds=60),
                                        maximum_attempts=job.max_attempts,
                                        non_retryable_error_types=NON_RETRYABLE)}


def _failed(stage: str, exc: ActivityError) -> StageRecord:
    """A stage that cannot run (or ran out of attempts) fails alone, like an engine
    failure in process: its dependents are skipped, the others go on."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        hint = str(cause.details[0]) if cause.details else ""
        error = ErrorRecord(cause.type or "ProvisionError", cause.message, hint)
    else:
        error = ErrorRecord("ExecutorError", str(cause or exc))
    return StageRecord(stage, StageStatus.FAILED.value, error=error)
