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
from provision.sandbox import process
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
        while process.is_alive(first.pid):
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
