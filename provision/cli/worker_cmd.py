"""``provision worker --queue NAME``: run stage activities (and, on the default queue,
the workflows and the rollouts' environment steps) for a Temporal cluster, until
SIGINT/SIGTERM.

A worker holds the credentials of the machine it runs on: start the one polling
``prod-aws`` only where prod's AWS credentials are (the spec's ``queues:`` maps each
environment's clouds to queues). Each stage activity rebuilds its run from the
references it gets (spec file, environment, plan id): the spec file, the plan
directory (``PROVISION_PLAN_DIR``) and the state backend must be reachable from
here. Every Pulumi process of a stage runs under a supervisor of the activity, so a
worker that dies leaves none behind; the retried activity on another worker repairs
the stacks first.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Callable

from rich.console import Console

from provision.cli import guard, session
from provision.cli.commands import policy_gate
from provision.engine.clouds import home_dir
from provision.engine.supervise import Supervisor
from provision.errors import CredentialsError, ExecutorError
from provision.executor import executor_name
from provision.executor.activities import RunContext, StageActivities
from provision.executor.checkpoints import CheckpointStore
from provision.executor.plans import PlanStore, checkpoint_dir, plan_dir
from provision.executor.records import DEFAULT_QUEUE, RunRef
from provision.executor.rollout_activities import RolloutActivities, RolloutContext
from provision.executor.temporal import Target, connect, worker
from provision.vocabulary import Operation

err = Console(stderr=True, highlight=False, soft_wrap=True)


def worker_passphrase() -> str:
    """The state passphrase the worker seals payloads with (the environments' own)."""
    for var in ("PROVISION_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"):
        if value := os.environ.get(var):
            return value
    path = home_dir() / "passphrase"
    if path.exists():
        return path.read_text().strip()
    raise CredentialsError("a worker needs the state passphrase",
                           hint="set PROVISION_PASSPHRASE (the one the clients use)")


class Runs:
    """Rebuilds a run on this worker for each stage activity (the worker's composition
    root); each activity gets a supervisor of its own, stopped when it ends."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self.notice = notice

    def __call__(self, ref: RunRef) -> RunContext:
        loaded = session.load(ref.spec_file, ref.env, targets=list(ref.targets),
                              excludes=list(ref.excludes))
        gate, reader = policy_gate(loaded, Path(ref.policies) if ref.policies else None,
                                   ref.no_policy)
        supervisor = Supervisor().start()
        try:
            orch = session.orchestrator(loaded, gate=gate, live_reader=reader,
                                        rollback_on_violation=ref.rollback_on_violation,
                                        supervisor=supervisor)
        except BaseException:
            supervisor.stop()
            raise
        run = guard.EngineRun(loaded, Operation.APPLY, ref.run_id, supervisor, self.notice,
                              store=session.state_store(loaded))
        return RunContext(orch, lambda: run.recover(orch), supervisor.stop)


class Rollouts:
    """Rebuilds a rollout on this worker for each environment step of its workflow, from
    the run history (its state, chain and policies) and the spec file; the step records
    to the same history, so it must be the clients' (``PROVISION_HISTORY_DB``, and the
    home with the rollouts' stored plans, on a shared file system)."""

    def __init__(self, notice: Callable[[str], None], executor: str) -> None:
        self.notice, self.executor = notice, executor   # the cluster the applies run on

    def __call__(self, run_id: str) -> RolloutContext:
        from provision.cli.progress import Progress
        from provision.cli.recording import open_history
        from provision.cli.rollout_driver import EngineDriver
        from provision.engine.orchestrator import Hooks
        from provision.rollout.machine import Rollout
        from provision.rollout.ports import EnvDriver
        from provision.rollout.state import RolloutState

        history = open_history()
        try:
            run = history.run(run_id)
            state = RolloutState.from_dict(run["detail"].get("rollout"), run["id"])
        except BaseException:
            history.close()
            raise
        # As rollout --resume: the audit log shows the run continued here (its steps may
        # come after the client recorded an ending, e.g. once an approval arrived), so
        # runs verify checks it as a run in progress until its next ending.
        record = history.resume(run["id"])
        policies = Path(state.policies) if state.policies else None

        def factory(env: str, hooks: Hooks) -> EnvDriver:
            return EngineDriver(state.spec_file, env, hooks, policies=policies,
                                run_id=run["id"], notice=self.notice,
                                executor=self.executor)

        rollout = Rollout(state, history=history, record=record, factory=factory,
                          ui=Progress(as_json=False, console=err, record=record),
                          plans_dir=home_dir() / "rollouts" / run["id"])
        return RolloutContext(rollout, history, history.close)


def serve(queue: str, executor: str | None) -> int:
    """Run a worker on ``queue`` until interrupted; exit code 0."""
    name = executor_name(executor, None)
    target = Target.parse(name) if name != "local" else Target()
    if target.local:
        raise ExecutorError("a worker serves a Temporal cluster",
                            hint="give --executor temporal://HOST:PORT (or PROVISION_EXECUTOR)")

    def notice(text: str) -> None:
        err.print(text, markup=False)

    passphrase = worker_passphrase()
    activities = StageActivities(Runs(notice), PlanStore(plan_dir()),
                                 checkpoints=CheckpointStore(checkpoint_dir(), passphrase))

    async def main() -> None:
        client = await connect(target, target.address, passphrase)
        running = worker(client, queue, activities, workflows=queue == DEFAULT_QUEUE,
                         rollouts=RolloutActivities(Rollouts(notice, name))
                         if queue == DEFAULT_QUEUE else None)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        notice(f"worker {activities.identity} polling queue '{queue}' on {target.address} "
               f"(namespace {target.namespace})")
        async with running:
            await stop.wait()

    asyncio.run(main())
    return 0
