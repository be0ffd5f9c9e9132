"""A rollout workflow on a cluster (provision/executor/rollouts.py without in-process
workers): the client only starts, follows and queries; a worker elsewhere runs the
environments' steps, rebuilding the rollout from the run history each time, and an
approval lets it go on at once."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

from provision.executor.gates import Gates
from provision.executor.records import DEFAULT_QUEUE, ApprovalGate, ApprovalRecord
from provision.executor.rollout_activities import RolloutActivities, RolloutContext
from provision.executor.rollouts import WorkflowRollout
from provision.executor.temporal import Target, connect, worker
from provision.executor.temporal_server import DevServer
from provision.history import History, RunRecorder
from provision.rollout.machine import Rollout
from provision.rollout.state import RolloutState
from provision.vocabulary import ExitCode, Operation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rollout"))
from rollout_fakes import Events, World  # noqa: E402

PASSPHRASE = "test-passphrase-not-secret"


def test_on_a_cluster_the_client_follows_and_a_worker_runs_the_steps(
        tmp_path: Path, dev_server: DevServer) -> None:
    world, target = World(), Target(dev_server.address)
    db = tmp_path / "history.db"

    def resolve(run_id: str) -> RolloutContext:       # the worker's: from the history
        hist = History.open(db, home=tmp_path)
        run = hist.run(run_id)
        rec = RunRecorder(hist.conn, run_id, Operation.ROLLOUT, env=run["env"],
                          spec=run["spec"], who=run["who"])
        rollout = Rollout(RolloutState.from_dict(run["detail"]["rollout"], run_id),
                          history=hist, record=rec, factory=world.driver, ui=Events(rec),
                          plans_dir=tmp_path / "plans")
        return RolloutContext(rollout, hist, hist.close)

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    async def serve() -> None:                       # a worker on the default queue
        client = await connect(target, target.address, PASSPHRASE)
        async with worker(client, DEFAULT_QUEUE, None, rollouts=RolloutActivities(resolve)):
            ready.set()
            await stop.wait()

    def never(env: str, hooks: Any) -> Any:
        raise AssertionError("the client ran a step")

    history = History.open(db, home=tmp_path)
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),))
    thread.start()
    try:
        assert ready.wait(30)
        record = history.start(Operation.ROLLOUT, spec="demo", env="prod")
        state = RolloutState("demo.yaml", ["dev", "staging", "prod"])
        record.update(detail={"rollout": state.to_dict()})
        client = WorkflowRollout(target, PASSPHRASE, in_process_workers=False)
        halted = client.run(Rollout(state, history=history, record=record, factory=never,
                                    ui=Events(record), plans_dir=tmp_path), history)
        assert halted.halt is not None and (halted.halt.env, halted.halt.gate) == (
            "prod", "approval")
        assert [e for e, _, _ in world.applies] == ["dev"] * 3 + ["staging"] * 3

        digest = halted.halt.what
        Gates(target, PASSPHRASE, in_process_worker=False).approve(
            ApprovalGate(record.id, "prod", digest), ApprovalRecord(digest, "github:carol"))
        deadline = time.monotonic() + 30
        while len(world.applies) < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e for e, _, _ in world.applies][6:] == ["prod"] * 3   # no resume needed
        resumed = history.resume(record.id)
        state = RolloutState.from_dict(history.run(record.id)["detail"]["rollout"], record.id)
        done = client.run(Rollout(state, history=history, record=resumed, factory=never,
                                  ui=Events(resumed), plans_dir=tmp_path), history)
        assert (done.exit_code, done.halt) == (ExitCode.OK, None)
        assert [e for e, _, _ in world.applies] == ["dev"] * 3 + ["staging"] * 3 + ["prod"] * 3
        [approval] = history.approvals(record.id, "prod")     # taken in by the worker's step
        assert (approval.who, approval.plan_digest) == ("github:carol", digest)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(60)
        loop.close()
        history.close()
    assert not thread.is_alive()


def test_a_step_that_breaks_fails_the_rollout_and_leaves_it_resumable(
        tmp_path: Path, dev_server: DevServer) -> None:
    """A step that raises (not a ProvisionError) ends the rollout as a failed stage,
    and the run record holds the rollout's state from the start (--resume finds it)."""
    history = History.open(tmp_path / "history.db", home=tmp_path)
    record = history.start(Operation.ROLLOUT, spec="demo", env="prod")

    def broken(env: str, hooks: Any) -> Any:
        raise RuntimeError(f"no driver for {env}")

    try:
        rollout = Rollout(RolloutState("demo.yaml", ["dev", "prod"]), history=history,
                          record=record, factory=broken, ui=Events(record),
                          plans_dir=tmp_path)
        result = WorkflowRollout(Target(dev_server.address), PASSPHRASE,
                                 in_process_workers=True, max_attempts=1).run(rollout, history)
        assert (result.outcome.value, result.exit_code) == ("failed", ExitCode.ERROR)
        assert result.halt is not None and (result.halt.env, result.halt.gate) == ("dev", "stage")
        assert "no driver for dev" in result.halt.reason
        saved = history.run(record.id)["detail"]["rollout"]
        assert RolloutState.from_dict(saved, record.id).chain == ["dev", "prod"]
    finally:
        history.close()
