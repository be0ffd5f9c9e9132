"""Durability: the dev server dies (SIGKILL) and comes back on the same SQLite file while
a workflow waits for a stage; the run then completes, each stage applied exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from provision import spec as specs
from provision.engine.orchestrator import ApplyReport, Orchestrator
from provision.engine.testing import FakeEngine
from provision.executor import RunRef
from provision.executor.temporal import Target, TemporalExecutor
from provision.executor.temporal_server import DevServer
from provision.graph.stages import build_stages
from provision.provider import CloudConfig
from provision.vocabulary import StageStatus
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: d
environments:
  dev: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
"""


def _started(engine: FakeEngine, stack: str) -> bool:
    return any(what == "start" and op == "up" and s == stack for _, what, op, s in engine.journal)


def test_a_run_survives_a_killed_and_restarted_dev_server(tmp_path: Path, plan_dir: Path) -> None:
    (tmp_path / "d.yaml").write_text(SPEC)
    FakeAdapter.cloud.reset()
    engine = FakeEngine(configs={"test": CloudConfig("test")})
    spec = specs.resolve(specs.load(tmp_path / "d.yaml"), "dev")
    orch = Orchestrator(spec, spec.environments["dev"], build_stages(spec), fake_registry(),
                        engine)
    plan = orch.plan()
    release = engine.hold("d.dev.net")
    first = DevServer(tmp_path / "dev.sqlite").start()
    second = DevServer(tmp_path / "dev.sqlite", port=first.port, ui_port=first.ui_port)
    reports: list[ApplyReport] = []
    executor = TemporalExecutor(Target(first.address), "test-passphrase-not-secret",
                                in_process_workers=True, heartbeat_seconds=30)
    runner = threading.Thread(target=lambda: reports.append(
        executor.apply(orch, plan, RunRef(str(tmp_path / "d.yaml"), "dev"))))
    try:
        runner.start()
        deadline = time.monotonic() + 30
        while not _started(engine, "d.dev.net") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _started(engine, "d.dev.net"), "the stage never started"
        assert first.pid is not None
        os.killpg(first.pid, signal.SIGKILL)          # the server dies mid-stage
        while first.processes.is_alive(first.pid):
            time.sleep(0.05)
        first.pid = None
        second.start()                                # same address, same SQLite
        release.set()                                 # the stage finishes meanwhile
        runner.join(120)
        assert not runner.is_alive()
    finally:
        release.set()
        first.stop()
        second.stop()
        runner.join(30)
    [report] = reports
    assert [(o.stage, o.status) for o in report.outcomes] == [
        ("net", StageStatus.APPLIED), ("app", StageStatus.APPLIED)]
    ups = [s for _, what, op, s in engine.journal if what == "start" and op == "up"]
    assert ups == ["d.dev.net", "d.dev.app"]          # each stage applied exactly once


def test_temporal_local_takes_over_from_a_workflow_whose_client_died(
        tmp_path: Path, plan_dir: Path) -> None:
    import asyncio

    from temporalio.client import Client

    from provision.executor.records import DEFAULT_QUEUE, EnvironmentJob
    from provision.executor.temporal import data_converter, workflow_id
    from provision.executor.workflows import EnvironmentWorkflow

    (tmp_path / "d.yaml").write_text(SPEC)
    FakeAdapter.cloud.reset()
    engine = FakeEngine(configs={"test": CloudConfig("test")})
    spec = specs.resolve(specs.load(tmp_path / "d.yaml"), "dev")
    orch = Orchestrator(spec, spec.environments["dev"], build_stages(spec), fake_registry(),
                        engine)
    plan = orch.plan()
    db = tmp_path / "dev.sqlite"
    dead = RunRef(str(tmp_path / "d.yaml"), "dev", "dead-run")

    async def orphan(address: str) -> None:
        client = await Client.connect(address, data_converter=data_converter("pw"))
        await client.start_workflow(
            EnvironmentWorkflow.run, EnvironmentJob(dead, "apply", ["net"], {}, {}, plan_id="0" * 32),
            id=workflow_id("d", "dev"), task_queue=DEFAULT_QUEUE)

    with DevServer(db) as server:                      # a run whose client then died
        asyncio.run(orphan(server.address))
    notices: list[str] = []
    executor = TemporalExecutor(Target(), "pw", db_file=db, notice=notices.append)
    report = executor.apply(orch, plan, RunRef(str(tmp_path / "d.yaml"), "dev", "new-run"))
    assert [(o.stage, o.status) for o in report.outcomes] == [
        ("net", StageStatus.APPLIED), ("app", StageStatus.APPLIED)]
    assert any("terminated workflow provision/d/dev" in n for n in notices)
    ups = [s for _, what, op, s in engine.journal if what == "start" and op == "up"]
    assert ups == ["d.dev.net", "d.dev.app"]           # the dead run's task applied nothing


def test_a_rollout_waiting_for_approval_survives_a_killed_dev_server(tmp_path: Path) -> None:
    """The rollout workflow halts at prod for an approval; the dev server dies (SIGKILL)
    while it waits; ``approve`` and ``rollout --resume`` (each starting the dev server on
    the same SQLite file, as on temporal-local) then complete it, prod applied once."""
    import sys

    from provision.executor.gates import Gates
    from provision.executor.records import ApprovalGate, ApprovalRecord
    from provision.executor.rollouts import WorkflowRollout
    from provision.history import History
    from provision.rollout.machine import Rollout, RolloutResult
    from provision.rollout.state import RolloutState
    from provision.vocabulary import ExitCode, Operation, Outcome

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rollout"))
    from rollout_fakes import Events, World

    passphrase = "test-passphrase-not-secret"
    db_file = tmp_path / "dev.sqlite"
    world, history = World(), History.open(tmp_path / "history.db", home=tmp_path)
    record = history.start(Operation.ROLLOUT, spec="demo", env="prod")
    run_id = record.id

    def go(target: Target, state: RolloutState, rec: object) -> RolloutResult:
        machine = Rollout(state, history=history, record=rec,  # type: ignore[arg-type]
                          factory=world.driver, ui=Events(rec), plans_dir=tmp_path / "plans")
        return WorkflowRollout(target, passphrase, db_file,
                               in_process_workers=True).run(machine, history)

    first = DevServer(db_file).start()
    try:
        halted = go(Target(first.address), RolloutState("demo.yaml", ["dev", "staging", "prod"]),
                    record)
        assert halted.exit_code is ExitCode.HALTED and halted.halt is not None
        assert (halted.halt.env, halted.halt.gate) == ("prod", "approval")
        assert first.pid is not None
        os.killpg(first.pid, signal.SIGKILL)          # the server dies while prod waits
        while first.processes.is_alive(first.pid):
            time.sleep(0.05)
        first.pid = None
    finally:
        first.stop()
    assert [e for e, _, _ in world.applies] == ["dev"] * 3 + ["staging"] * 3

    digest = halted.halt.what
    local = Target()                                  # temporal-local: its own server each call
    Gates(local, passphrase, db_file).approve(ApprovalGate(run_id, "prod", digest),
                                              ApprovalRecord(digest, "github:carol", "fine"))
    run = history.run(run_id)
    done = go(local, RolloutState.from_dict(run["detail"]["rollout"], run_id),
              history.resume(run_id))
    assert (done.outcome, done.exit_code, done.halt) == (Outcome.APPLIED, ExitCode.OK, None)
    assert [e for e, _, _ in world.applies] == ["dev"] * 3 + ["staging"] * 3 + ["prod"] * 3
    [approval] = history.approvals(run_id, "prod")    # the step took it into the history
    assert (approval.who, approval.plan_digest, approval.comment) == ("github:carol", digest,
                                                                      "fine")
    steps = [(s["env"], s["kind"], s["name"], s["status"]) for s in history.show(run_id).steps]
    assert [s[3] for s in steps if s[:2] == ("prod", "approval")] == ["waiting", "approved"]
    assert [s[2:] for s in steps if s[:2] == ("prod", "stage")] == [
        ("aws", "applied"), ("azure", "applied"), ("gcp", "applied")]
    history.close()
