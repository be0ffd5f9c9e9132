"""``status.describe``: a run's workflow as its server reports it now, on the session's
dev server (a workflow no worker polls stays running; terminated, it says so), an
unknown workflow, and a server that does not answer (a status, never an error)."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio.client import Client

from provision.executor.records import EnvironmentJob, RunRef
from provision.executor.status import describe
from provision.executor.temporal_server import NAMESPACE, DevServer
from provision.sandbox.process import free_port
from provision.vocabulary import Operation, WorkflowState


def _record(server: DevServer, wid: str, run_id: str = "") -> dict[str, str]:
    return {"id": wid, "run_id": run_id, "address": server.address, "namespace": NAMESPACE}


def test_a_running_then_terminated_workflow_and_an_unknown_one(dev_server: DevServer) -> None:
    wid = f"provision/status-{uuid.uuid4().hex[:8]}/dev"
    job = EnvironmentJob(RunRef("spec.yaml", "dev", "r1"), Operation.APPLY.value, [], {}, {})

    async def start() -> str:
        client = await Client.connect(dev_server.address, namespace=NAMESPACE)
        handle = await client.start_workflow("provision.environment", job, id=wid,
                                             task_queue=f"nobody-{wid}")
        return handle.result_run_id or ""

    async def terminate() -> None:
        client = await Client.connect(dev_server.address, namespace=NAMESPACE)
        await client.get_workflow_handle(wid).terminate(reason="test")

    run_id = asyncio.run(start())
    running = describe(_record(dev_server, wid, run_id))
    assert running.state is WorkflowState.RUNNING and running.started_at and not running.closed_at
    asyncio.run(terminate())
    ended = describe(_record(dev_server, wid, run_id))
    assert ended.state is WorkflowState.TERMINATED and ended.closed_at
    assert ended.to_dict()["state"] == "terminated"

    unknown = describe(_record(dev_server, f"provision/none-{uuid.uuid4().hex[:8]}/dev"))
    assert unknown.state is WorkflowState.NOT_FOUND and "knows no such workflow" in unknown.detail


def test_a_server_that_does_not_answer_is_a_status_naming_it() -> None:
    address = f"127.0.0.1:{free_port()}"
    began = time.monotonic()
    status = describe({"id": "provision/x/dev", "address": address, "namespace": NAMESPACE,
                       "db_file": "/somewhere/dev.sqlite"}, timeout=5)
    assert status.state is WorkflowState.UNREACHABLE
    assert address in status.detail and "connection refused" in status.detail
    assert "/somewhere/dev.sqlite" in status.detail          # temporal-local: where to look
    from provision.executor.temporal_server import find_temporal   # with the CLI that reads it
    assert f"{find_temporal()} server start-dev --db-filename /somewhere/dev.sqlite" \
        in status.detail
    assert time.monotonic() - began < 30                     # refused: no waiting for the timeout
    assert describe({"id": "x"}).state is WorkflowState.UNREACHABLE     # no server recorded
