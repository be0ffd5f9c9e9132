"""The client side of a rollout's approval gates: the update ``approve`` to the workflow
of the environment that waits (``rollout_workflow.RolloutEnvWorkflow``, or the
``approvals.ApprovalWorkflow`` gate of a rollout halted before rollouts were workflows:
both take the same update under the same id, validated against the plan digest).

``provision approve`` sends the approval as that update (after the same checks as on
``local``); :meth:`Gates.open` and :meth:`Gates.approved` serve the older gate
workflow (its tests and recorded history). On ``temporal-local``
each call starts the dev server on its SQLite file and an in-process worker for the
workflow's task, and stops both: between commands nothing runs, and the gate waits in
the SQLite file. On a cluster, the workers of the default queue run the gate.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from provision.errors import PlanError, WorkflowError
from provision.executor.approvals import UPDATE_NAME, WORKFLOW_NAME, ApprovalWorkflow, gate_id
from provision.executor.records import DEFAULT_QUEUE, ApprovalGate, ApprovalRecord
from provision.executor.temporal import Target, serve, worker


class Gates:
    """The approval gates of rollouts on ``target`` (payloads sealed with ``passphrase``)."""

    def __init__(self, target: Target, passphrase: str, db_file: Path | None = None, *,
                 in_process_worker: bool | None = None) -> None:
        self.target, self.passphrase, self.db_file = target, passphrase, db_file
        # A worker for the gate's workflow task in this process (None: on the dev server).
        self.in_process_worker = target.local if in_process_worker is None else in_process_worker

    def open(self, gate: ApprovalGate) -> dict[str, str]:
        """Start the gate's workflow (a gate of the same rollout and environment waiting
        for an older plan is replaced); the workflow's ids and server for the run record
        (as ``runs show`` reads them: id, run_id, namespace, address[, db_file])."""
        return asyncio.run(self._call(self._open, gate))

    def approve(self, gate: ApprovalGate, approval: ApprovalRecord) -> ApprovalRecord:
        """Send ``approval`` to the waiting gate; a PlanError when it names another plan
        or the gate is approved already, a WorkflowError when no gate waits."""
        result: ApprovalRecord = asyncio.run(self._call(self._approve, gate, approval))
        return result

    def approved(self, gate: ApprovalGate) -> ApprovalRecord | None:
        """The gate's approval, None while it waits."""
        result: ApprovalRecord | None = asyncio.run(self._call(self._approved, gate,
                                                                worker=False))
        return result

    async def _call(self, fn: Any, *args: Any, worker: bool = True) -> Any:
        async with AsyncExitStack() as stack:
            client, where = await serve(stack, self.target, self.passphrase, self.db_file)
            if worker and self.in_process_worker:     # the gate's workflow task
                await stack.enter_async_context(_workflow_worker(client))
            return await fn(client, where, *args)

    async def _open(self, client: Client, where: dict[str, str],
                    gate: ApprovalGate) -> dict[str, str]:
        wid = gate_id(gate.run_id, gate.env)
        handle = await client.start_workflow(
            WORKFLOW_NAME, gate, id=wid, task_queue=DEFAULT_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        return {"id": wid, "run_id": handle.result_run_id or "",
                "namespace": self.target.namespace,
                **{k: v for k, v in where.items() if k != "url"}}

    async def _approve(self, client: Client, where: dict[str, str], gate: ApprovalGate,
                       approval: ApprovalRecord) -> ApprovalRecord:
        wid = gate_id(gate.run_id, gate.env)
        try:
            result: ApprovalRecord = await client.get_workflow_handle(wid).execute_update(
                UPDATE_NAME, approval, result_type=ApprovalRecord)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            raise PlanError(f"the approval gate {wid} refused the approval: {message}") from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise WorkflowError(wid, "no approval gate waits for this rollout and "
                                         "environment", hint="run provision rollout --resume "
                                                             f"{gate.run_id}") from None
            raise WorkflowError(wid, exc.message) from None
        return result

    async def _approved(self, client: Client, where: dict[str, str],
                        gate: ApprovalGate) -> ApprovalRecord | None:
        from temporalio.client import WorkflowExecutionStatus

        handle = client.get_workflow_handle_for(ApprovalWorkflow.run,
                                                gate_id(gate.run_id, gate.env))
        try:
            found = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise WorkflowError(handle.id, exc.message) from None
        if found.status != WorkflowExecutionStatus.COMPLETED:
            return None
        record = await handle.result(follow_runs=False)
        return record if record.plan_digest == gate.plan_digest else None


def _workflow_worker(client: Client) -> Any:
    return worker(client, DEFAULT_QUEUE, None, workflows=True)

