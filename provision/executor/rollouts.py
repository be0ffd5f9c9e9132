"""The client side of a rollout on a temporal executor (rollout_workflow.py).

:class:`WorkflowRollout` starts the rollout's workflow (or joins the one of that run
still running: ``rollout --resume``) and follows it until it ends or waits for an
approval, then returns what :meth:`provision.rollout.machine.Rollout.run` returns on
``local``. On ``temporal-local`` it starts the dev server on its SQLite file and
in-process workers: the workflows on the default queue, the run's environment steps on
a queue of the run's own (so a step of another rollout waiting on the same server never
reaches this run's worker); both stop when it returns, and a waiting rollout lives on in
the SQLite file only. On a cluster (``temporal://``) the steps run on the workers of the
default queue (``provision worker``) and the client only starts, follows and queries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from temporalio.client import (Client, WorkflowFailureError, WorkflowHandle,
                               WorkflowQueryFailedError, WorkflowUpdateFailedError)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from provision.errors import ExecutorError, WorkflowError
from provision.executor.approvals import gate_id
from provision.executor.records import DEFAULT_QUEUE
from provision.executor.rollout_activities import RolloutActivities, RolloutContext
from provision.executor.rollout_workflow import (EnvStep, RolloutEnvWorkflow, RolloutJob,
                                                 RolloutWorkflow, rollout_id)
from provision.executor.temporal import Target, serve, worker
from provision.history import History
from provision.rollout.machine import Halt, Rollout, RolloutResult
from provision.vocabulary import ExitCode, Outcome

POLL_SECONDS = 0.25


def run_queue(run_id: str) -> str:
    """The task queue of one rollout's steps on in-process workers."""
    return f"{DEFAULT_QUEUE}/rollout/{run_id}"


def result_of(step: EnvStep) -> RolloutResult:
    """What ``Rollout.run`` returns, from the step the workflow ended (or waits) with."""
    halt = Halt(**step.halt) if step.halt else None
    return RolloutResult(Outcome(step.outcome or Outcome.APPLIED.value),
                         ExitCode(step.exit_code), halt)


@dataclass
class WorkflowRollout:
    """Runs rollouts as ``provision.rollout`` workflows on ``target``."""

    target: Target
    passphrase: str
    db_file: Path | None = None                    # the dev server's SQLite
    in_process_workers: bool | None = None         # None: only for the dev server
    # Called once the workflow runs: {"id", "run_id", "namespace", "address"[, "db_file"]}.
    started: Callable[[dict[str, str]], None] = lambda ids: None
    # Called when it waits for an approval: the waiting environment's workflow ids and
    # server (as for ``started``), "env" and the "plan_digest" it waits for.
    waiting: Callable[[dict[str, str]], None] = lambda ids: None
    # While it runs: the executor of the environments' applies (each an environment
    # workflow on the same server, with in-process workers where the rollout has them).
    stage_executor: str = ""
    max_attempts: int = 3                          # of an environment's step

    @property
    def in_process(self) -> bool:
        return self.target.local if self.in_process_workers is None else self.in_process_workers

    def run(self, rollout: Rollout, history: History) -> RolloutResult:
        """Start or join the rollout's workflow and follow it until it ends or waits for an
        approval; its steps run ``rollout`` (on in-process workers) and record to
        ``history``. Raises WorkflowError when the workflow fails."""
        def resolve(run_id: str) -> RolloutContext:
            if run_id != rollout.run_id:
                raise ExecutorError(f"a step of rollout '{run_id}' reached rollout "
                                    f"'{rollout.run_id}''s in-process worker")
            return RolloutContext(rollout, history)

        rollout.save()                   # as Rollout.run does first: resumable from here
        step = asyncio.run(self._run(rollout, RolloutActivities(resolve)))
        return result_of(step)

    async def _run(self, rollout: Rollout, activities: RolloutActivities) -> EnvStep:
        async with AsyncExitStack() as stack:
            client, where = await serve(stack, self.target, self.passphrase, self.db_file)
            queue = DEFAULT_QUEUE
            self.stage_executor = dataclasses.replace(
                self.target, in_process=self.in_process).url(where["address"])
            if self.in_process:
                queue = run_queue(rollout.run_id)
                await stack.enter_async_context(worker(client, DEFAULT_QUEUE, None,
                                                       workflows=True))
                await stack.enter_async_context(worker(client, queue, None, workflows=False,
                                                       rollouts=activities, parallel=1))
            state = rollout.state
            job = RolloutJob(rollout.run_id, state.spec_file, list(state.chain), queue,
                             self.target.heartbeat_seconds, self.max_attempts)
            wid = rollout_id(rollout.run_id)
            handle = await client.start_workflow(
                RolloutWorkflow.run, job, id=wid, task_queue=DEFAULT_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
            base = {"namespace": self.target.namespace,
                    **{k: v for k, v in where.items() if k != "url"}}
            self.started({"id": wid, "run_id": handle.result_run_id or "", **base})
            await self._recheck(client, handle, rollout.run_id)
            step, child = await self._follow(client, handle, rollout.run_id)
            if child:
                self.waiting({**child, **base, "env": step.env, "plan_digest": step.waiting_for})
            return step
        raise AssertionError("unreachable")

    async def _recheck(self, client: Client, handle: WorkflowHandle[RolloutWorkflow, EnvStep],
                       run_id: str) -> None:
        """A rollout joined while an environment waits for an approval: its step runs
        again (``RolloutEnvWorkflow.recheck``), as ``--resume`` does on ``local``."""
        try:
            env = await handle.query(RolloutWorkflow.current)
            if not env:
                return
            child = client.get_workflow_handle_for(RolloutEnvWorkflow.run, gate_id(run_id, env))
            if await child.query(RolloutEnvWorkflow.waiting) is not None:
                await child.execute_update(RolloutEnvWorkflow.recheck)
        except (RPCError, WorkflowQueryFailedError, WorkflowUpdateFailedError):
            return          # not waiting (any more): following it is all there is to do

    async def _follow(self, client: Client, handle: WorkflowHandle[RolloutWorkflow, EnvStep],
                      run_id: str) -> tuple[EnvStep, dict[str, str]]:
        """The step the workflow ended with, or the approval halt it waits at (with the
        waiting environment's workflow ids)."""
        result = asyncio.ensure_future(handle.result())
        try:
            while True:
                done, _ = await asyncio.wait([result], timeout=POLL_SECONDS)
                if done:
                    return result.result(), {}
                try:
                    env = await handle.query(RolloutWorkflow.current)
                    if not env:
                        continue
                    child = client.get_workflow_handle_for(RolloutEnvWorkflow.run,
                                                           gate_id(run_id, env))
                    waiting = await child.query(RolloutEnvWorkflow.waiting)
                except (RPCError, WorkflowQueryFailedError):   # e.g. no child yet
                    continue
                if waiting is not None:
                    described = await child.describe()
                    return waiting, {"id": child.id, "run_id": described.run_id}
        except WorkflowFailureError as exc:
            raise WorkflowError(handle.id, str(exc.cause or exc)) from None
        finally:
            result.cancel()
