"""Credential-scoped task queues: a stage mapped to ``prod`` runs only on the worker that
polls ``prod``; the others run on the default queue's worker."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.testing import FakeEngine
from provision.executor import RunRef
from provision.executor.activities import RunContext, StageActivities
from provision.executor.plans import PlanStore
from provision.executor.records import DEFAULT_QUEUE
from provision.executor.temporal import Target, TemporalExecutor, data_converter, worker
from provision.executor.temporal_server import DevServer
from provision.graph.stages import build_stages
from provision.provider import CloudConfig
from provision.vocabulary import StageStatus
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: r
environments:
  prod: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
"""
PASSPHRASE = "test-passphrase-not-secret"


def test_a_stage_on_the_prod_queue_runs_only_on_the_prod_worker(
        tmp_path: Path, dev_server: DevServer, plan_dir: Path) -> None:
    from temporalio.client import Client

    (tmp_path / "r.yaml").write_text(SPEC)
    FakeAdapter.cloud.reset()
    registry = fake_registry()
    spec = specs.resolve(specs.load(tmp_path / "r.yaml"), "prod")
    orch = Orchestrator(spec, spec.environments["prod"], build_stages(spec), registry,
                        FakeEngine(configs={"test": CloudConfig("test")}))
    plan = orch.plan()

    def resolve(ref: RunRef) -> RunContext:
        return RunContext(orch)

    default = StageActivities(resolve, PlanStore(plan_dir), identity="default-worker")
    prod = StageActivities(resolve, PlanStore(plan_dir), identity="prod-worker")
    ready = threading.Event()
    stop = threading.Event()

    async def workers() -> None:
        client = await Client.connect(dev_server.address,
                                      data_converter=data_converter(PASSPHRASE))
        async with worker(client, DEFAULT_QUEUE, default), \
                worker(client, "prod-r", prod, workflows=False):
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(workers(),))
    thread.start()
    try:
        assert ready.wait(30)
        executor = TemporalExecutor(Target(dev_server.address), PASSPHRASE,
                                    queues={"app": "prod-r"}, in_process_workers=False)
        report = executor.apply(orch, plan, RunRef(str(tmp_path / "r.yaml"), "prod"))
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert [o.status for o in report.outcomes] == [StageStatus.APPLIED, StageStatus.APPLIED]
    workers_of = {r.stage: r.worker for r in executor.last_records}
    assert workers_of == {"net": "default-worker", "app": "prod-worker"}
