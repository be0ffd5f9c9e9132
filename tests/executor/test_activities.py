"""Retries of stage activities: a transient failure is retried (the stack recovery runs
first on the retry, the stage applies once); an error no retry can fix is not retried
and fails only its stage."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Callable

from provision import spec as specs
from provision.engine.orchestrator import ApplyReport, Orchestrator
from provision.engine.testing import FakeEngine
from provision.errors import RemoteStageError, SpecNotFoundError
from provision.executor import RunRef
from provision.executor.activities import RunContext, StageActivities
from provision.executor.plans import PlanStore
from provision.executor.records import DEFAULT_QUEUE
from provision.executor.temporal import Target, TemporalExecutor, connect, worker
from provision.executor.temporal_server import DevServer
from provision.graph.stages import build_stages
from provision.provider import CloudConfig
from provision.vocabulary import StageStatus
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: rt
environments:
  dev: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
  db: {type: test:fake:Other, stage: db, properties: {name: db}}
"""


def _run(tmp_path: Path, server: DevServer, plan_dir: Path,
         resolve: Callable[[Orchestrator], Callable[[RunRef], RunContext]]
         ) -> tuple[ApplyReport, FakeEngine, TemporalExecutor]:
    (tmp_path / "rt.yaml").write_text(SPEC)
    FakeAdapter.cloud.reset()
    engine = FakeEngine(configs={"test": CloudConfig("test")})
    spec = specs.resolve(specs.load(tmp_path / "rt.yaml"), "dev")
    orch = Orchestrator(spec, spec.environments["dev"], build_stages(spec), fake_registry(),
                        engine)
    plan = orch.plan()
    activities = StageActivities(resolve(orch), PlanStore(plan_dir))
    ready, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        client = await connect(Target(server.address), server.address, "pw")
        async with worker(client, DEFAULT_QUEUE, activities):
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    try:
        assert ready.wait(30)
        executor = TemporalExecutor(Target(server.address), "pw", in_process_workers=False)
        report = executor.apply(orch, plan, RunRef(str(tmp_path / "rt.yaml"), "dev"))
    finally:
        stop.set()
        thread.join(30)
    return report, engine, executor


def test_a_transient_failure_is_retried_after_recovery_and_applies_once(
        tmp_path: Path, dev_server: DevServer, plan_dir: Path) -> None:
    calls: list[str] = []

    def resolve(orch: Orchestrator) -> Callable[[RunRef], RunContext]:
        def ctx(ref: RunRef) -> RunContext:
            return RunContext(orch, recover=lambda: calls.append("recover"))

        failed: set[str] = set()

        def flaky(ref: RunRef) -> RunContext:
            context = ctx(ref)
            run = context.orchestrator.apply_one

            def once(name: str, *args: object, **kwargs: object) -> object:
                if name == "net" and name not in failed:
                    failed.add(name)
                    raise ConnectionResetError("the worker lost its network")
                return run(name, *args, **kwargs)     # type: ignore[arg-type]

            return RunContext(_Proxy(context.orchestrator, once), context.recover)
        return flaky

    report, engine, executor = _run(tmp_path, dev_server, plan_dir, resolve)
    assert [o.status for o in report.outcomes] == [StageStatus.APPLIED] * 3
    assert calls == ["recover"]                        # once, before the retried attempt
    attempts = {r.stage: r.attempt for r in executor.last_records}
    assert attempts == {"net": 2, "db": 1, "app": 1}
    ups = [s for _, what, op, s in engine.journal if what == "start" and op == "up"]
    assert sorted(ups) == ["rt.dev.app", "rt.dev.db", "rt.dev.net"]


def test_an_error_no_retry_can_fix_fails_only_its_stage_at_once(
        tmp_path: Path, dev_server: DevServer, plan_dir: Path) -> None:
    def resolve(orch: Orchestrator) -> Callable[[RunRef], RunContext]:
        def ctx(ref: RunRef) -> RunContext:
            return RunContext(_Proxy(orch, _missing_spec_for("net", orch)))
        return ctx

    report, engine, executor = _run(tmp_path, dev_server, plan_dir, resolve)
    by_stage = {o.stage: o for o in report.outcomes}
    assert by_stage["net"].status is StageStatus.FAILED
    error = by_stage["net"].error
    assert isinstance(error, RemoteStageError) and error.kind == "SpecNotFoundError"
    assert by_stage["app"].status is StageStatus.SKIPPED and by_stage["app"].cause == "net"
    assert by_stage["db"].status is StageStatus.APPLIED
    assert {r.stage: r.attempt for r in executor.last_records}["db"] == 1


def _missing_spec_for(stage: str, orch: Orchestrator) -> Callable[..., object]:
    def apply_one(name: str, *args: object, **kwargs: object) -> object:
        if name == stage:
            raise SpecNotFoundError("gone.yaml")
        return orch.apply_one(name, *args, **kwargs)   # type: ignore[arg-type]
    return apply_one


class _Proxy:
    """The orchestrator with ``apply_one`` replaced (how the tests inject a failure)."""

    def __init__(self, orch: Orchestrator, apply_one: Callable[..., object]) -> None:
        self._orch, self.apply_one = orch, apply_one

    def __getattr__(self, name: str) -> object:
        return getattr(self._orch, name)
