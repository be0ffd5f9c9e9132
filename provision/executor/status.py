"""A run's workflow as its Temporal server reports it now (``provision runs show``).

A run record names its workflow (id, run id, server address, namespace; the
``temporal-local`` ones also their dev server's SQLite file). :func:`describe`
asks that server through the client's describe call and returns a
:class:`WorkflowStatus`; a server that does not answer within the timeout is an
``unreachable`` status, never an error: the run record stands on its own.
No payload is read (status and times are plain fields), so no passphrase is needed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Mapping

from provision.vocabulary import WorkflowState

# How long ``runs show`` waits for a workflow's server.
TIMEOUT = 5.0


@dataclass(frozen=True)
class WorkflowStatus:
    state: WorkflowState
    started_at: str = ""
    closed_at: str = ""
    detail: str = ""                     # why the status is unknown, or where to look

    def to_dict(self) -> dict[str, str]:
        return {"state": self.state.value, "started_at": self.started_at,
                "closed_at": self.closed_at, "detail": self.detail}


def describe(workflow: Mapping[str, Any], timeout: float = TIMEOUT) -> WorkflowStatus:
    """The status of the workflow a run record names (see the module doc)."""
    return asyncio.run(_describe(workflow, timeout))


def _unreachable(workflow: Mapping[str, Any], why: str) -> WorkflowStatus:
    address = workflow.get("address", "")
    detail = f"the Temporal server {address} did not answer ({why})"
    if db_file := workflow.get("db_file"):
        detail += (f"; temporal-local stops its dev server after each command, the workflow's "
                   f"history stays in {db_file} ({_temporal_cli()} server start-dev "
                   f"--db-filename {db_file} --ip 127.0.0.1 shows it in its web UI, "
                   "http://127.0.0.1:8233)")
    return WorkflowStatus(WorkflowState.UNREACHABLE, detail=detail)


def _temporal_cli() -> str:
    """The Temporal CLI temporal-local uses, as a command to paste ('temporal' when it
    is not built)."""
    from provision.errors import ExecutorError
    from provision.executor.temporal_server import find_temporal

    try:
        return str(find_temporal())
    except ExecutorError:
        return "temporal"


async def _describe(workflow: Mapping[str, Any], timeout: float) -> WorkflowStatus:
    from temporalio.client import Client
    from temporalio.service import RPCError, RPCStatusCode

    address = str(workflow.get("address", ""))
    if not address or not workflow.get("id"):
        return WorkflowStatus(WorkflowState.UNREACHABLE, detail="the run record names no server")
    try:
        client = await asyncio.wait_for(
            Client.connect(address, namespace=str(workflow.get("namespace") or "default")),
            timeout)
        handle = client.get_workflow_handle(str(workflow["id"]),
                                            run_id=str(workflow.get("run_id") or "") or None)
        found = await asyncio.wait_for(handle.describe(), timeout)
    except asyncio.TimeoutError:
        return _unreachable(workflow, f"no answer within {timeout:g} s")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return WorkflowStatus(WorkflowState.NOT_FOUND,
                                  detail=f"the server {address} knows no such workflow "
                                         "(past its namespace's retention?)")
        return _unreachable(workflow, exc.message)
    except RuntimeError as exc:          # the SDK's "Failed client connect: ..."
        text = str(exc)
        return _unreachable(workflow, "connection refused" if "refused" in text.lower()
                            else text.splitlines()[0][:200])
    state = WorkflowState[found.status.name] if found.status else WorkflowState.RUNNING
    return WorkflowStatus(state, found.start_time.isoformat(),
                          found.close_time.isoformat() if found.close_time else "")
