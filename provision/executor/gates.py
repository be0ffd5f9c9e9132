"""The client side of a rollout's approval gates: the update ``approve`` to the workflow
of the environment that waits (``rollout_workflow.RolloutEnvWorkflow``, validated
against the plan digest there).

``provision approve`` sends the approval as that update (after the same checks as on
``local``). On ``temporal-local`` the call starts the dev server on its SQLite file and
an in-process worker for the workflow's task (an update runs in a workflow task), and
stops both: between commands nothing runs, and the rollout waits in the SQLite file. On
a cluster, the workers of the default queue take the update.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from provision.errors import PlanError, WorkflowError
from provision.executor.approvals import UPDATE_NAME, gate_id
from provision.executor.records import DEFAULT_QUEUE, ApprovalGate, ApprovalRecord
from provision.executor.temporal import Target, serve, worker


class Gates:
    """The approval gates of rollouts on ``target`` (payloads sealed with ``passphrase``)."""

    def __init__(self, target: Target, passphrase: str, db_file: Path | None = None, *,
                 in_process_worker: bool | None = None) -> None:
        self.target, self.passphrase, self.db_file = target, passphrase, db_file
        # A worker for the gate's workflow task in this process (None: on the dev server).
        self.in_process_worker = target.local if in_process_worker is None else in_process_worker

    def approve(self, gate: ApprovalGate, approval: ApprovalRecord) -> ApprovalRecord:
        """Send ``approval`` to the waiting gate; a PlanError when it names another plan
        or the gate is approved already, a WorkflowError when no gate waits."""
        result: ApprovalRecord = asyncio.run(self._call(self._approve, gate, approval))
        return result

    async def _call(self, fn: Any, *args: Any) -> Any:
        async with AsyncExitStack() as stack:
            client, where = await serve(stack, self.target, self.passphrase, self.db_file)
            if self.in_process_worker:     # the gate's workflow task
                await stack.enter_async_context(_workflow_worker(client))
            return await fn(client, where, *args)

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


def _workflow_worker(client: Client) -> Any:
    return worker(client, DEFAULT_QUEUE, None, workflows=True)

