"""The rollout workflows' logic (rollout_workflow.py) with a scripted step activity on the
session's dev server: the chain stops at the first environment that does not finish, a
step that cannot run ends the rollout as a failed stage, and an approval reaches only an
environment that waits, for exactly its plan."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from provision.executor.approvals import gate_id
from provision.executor.records import ApprovalRecord
from provision.executor.rollout_workflow import (STEP_ACTIVITY, EnvStep, EnvTask,
                                                 RolloutEnvWorkflow, RolloutJob,
                                                 RolloutWorkflow, rollout_id)
from provision.executor.temporal import Target, connect, worker
from provision.executor.temporal_server import DevServer

PASSPHRASE = "test-passphrase-not-secret"
APPROVAL = {"env": "prod", "gate": "approval", "stage": "", "what": "sha256:aaa",
            "reason": "needs an approval", "hint": "approve it"}


class Script:
    """The step activity: per environment, the steps it returns in turn (or raises)."""

    def __init__(self, steps: dict[str, list[EnvStep | Exception]]) -> None:
        self.steps, self.tasks = steps, list[EnvTask]()

    @activity.defn(name=STEP_ACTIVITY)
    def step(self, task: EnvTask) -> EnvStep:
        self.tasks.append(task)
        found = self.steps[task.env].pop(0)
        if isinstance(found, Exception):
            raise found
        return found


async def _run(server: DevServer, script: Script, chain: list[str],
               between: object = None) -> EnvStep:
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    client = await connect(Target(server.address), server.address, PASSPHRASE)
    run_id, queue = uuid.uuid4().hex, f"q-{uuid.uuid4().hex}"
    async with worker(client, queue, None), Worker(
            client, task_queue=f"{queue}-steps", activities=[script.step],
            activity_executor=ThreadPoolExecutor(1)):
        handle = await client.start_workflow(
            RolloutWorkflow.run, RolloutJob(run_id, "spec.yaml", chain, f"{queue}-steps", 10, 1),
            id=rollout_id(run_id), task_queue=queue)
        if between is not None:
            await between(client, run_id)   # type: ignore[operator]
        return await handle.result()


def test_the_chain_stops_at_the_first_halt_and_a_step_that_cannot_run_fails_it(
        dev_server: DevServer) -> None:
    policy = {"env": "staging", "gate": "policy", "stage": "azure", "what": "R-1",
              "reason": "blocked", "hint": "fix it"}
    script = Script({"dev": [EnvStep("dev")], "staging": [EnvStep("staging", "policy-violation",
                                                                    3, policy)]})
    assert asyncio.run(_run(dev_server, script, ["dev", "staging", "prod"])) == EnvStep(
        "staging", "policy-violation", 3, policy)
    assert [t.env for t in script.tasks] == ["dev", "staging"]       # prod never planned

    broken = Script({"dev": [ApplicationError("no spec here", "check the path",
                                              type="SpecNotFoundError", non_retryable=True)]})
    failed = asyncio.run(_run(dev_server, broken, ["dev", "prod"]))
    assert (failed.env, failed.outcome, failed.exit_code) == ("dev", "failed", 1)
    assert failed.halt is not None and (failed.halt["gate"], failed.halt["reason"],
                                        failed.halt["hint"]) == ("stage", "no spec here",
                                                                 "check the path")


def test_an_approval_reaches_only_a_waiting_environment_for_its_plan(
        dev_server: DevServer) -> None:
    script = Script({"dev": [EnvStep("dev")],
                     "prod": [EnvStep("prod", "halted", 4, APPROVAL), EnvStep("prod")]})

    async def approve(client: Client, run_id: str) -> None:
        prod = client.get_workflow_handle_for(RolloutEnvWorkflow.run, gate_id(run_id, "prod"))
        dev = client.get_workflow_handle_for(RolloutEnvWorkflow.run, gate_id(run_id, "dev"))
        for _ in range(600):                          # until prod waits (30 s at most)
            try:
                if await prod.query(RolloutEnvWorkflow.waiting_for) == "sha256:aaa":
                    break
            except (RPCError, WorkflowQueryFailedError):    # not started yet
                pass
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("prod never waited for its approval")
        with pytest.raises(RPCError):                 # dev is done: its workflow is closed
            await dev.execute_update(RolloutEnvWorkflow.approve,
                                     ApprovalRecord("sha256:aaa", "github:carol"))
        with pytest.raises(WorkflowUpdateFailedError) as refused:   # another plan
            await prod.execute_update(RolloutEnvWorkflow.approve,
                                      ApprovalRecord("sha256:bbb", "github:carol"))
        assert "waits for plan sha256:aaa" in str(refused.value.cause)
        await prod.execute_update(RolloutEnvWorkflow.approve,
                                  ApprovalRecord("sha256:aaa", "github:carol", "fine"))

    assert asyncio.run(_run(dev_server, script, ["dev", "prod"], approve)) == EnvStep(
        "", "applied", 0)
    # The approval went into prod's next step, and only there.
    assert [(t.env, t.approval) for t in script.tasks] == [
        ("dev", None), ("prod", None),
        ("prod", ApprovalRecord("sha256:aaa", "github:carol", "fine"))]
