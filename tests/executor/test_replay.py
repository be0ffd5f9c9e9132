"""Replay safety: recorded workflow histories replay against the current workflow code.

A change to ``provision.executor.workflows`` that would break a run in flight (a
different activity, another order of commands) fails here. The histories under
``histories/`` were recorded from real runs on the dev server (payloads sealed with
the test passphrase); record a new one after a deliberate, versioned change with::

    .venv/bin/python tests/executor/test_replay.py
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from provision.executor.records import EnvironmentJob, StageRecord, StageTask
from provision.executor.rollout_workflow import RolloutEnvWorkflow, RolloutWorkflow
from provision.executor.temporal import data_converter, sandboxed_runner
from provision.executor.workflows import DESTROY_ACTIVITY, WORKFLOW_NAME, EnvironmentWorkflow

HISTORIES = Path(__file__).parent / "histories"
PASSPHRASE = "test-passphrase-not-secret"
SPEC = """
name: t
environments:
  dev: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
  web: {type: test:fake:Thing, stage: web, properties: {name: web, tags: {app: "${app.arn}"}}}
  db: {type: test:fake:Other, stage: db, properties: {name: db}}
"""


def _replay(path: Path) -> None:
    history = WorkflowHistory.from_json("provision/t/dev", path.read_text())
    replayer = Replayer(workflows=[EnvironmentWorkflow, RolloutWorkflow, RolloutEnvWorkflow],
                        data_converter=data_converter(PASSPHRASE),
                        workflow_runner=sandboxed_runner())
    asyncio.run(replayer.replay_workflow(history))


@pytest.mark.parametrize("name", sorted(p.name for p in HISTORIES.glob("*.json")))
def test_a_recorded_history_replays_on_the_current_workflow_code(name: str) -> None:
    _replay(HISTORIES / name)


def test_the_histories_cover_both_shapes_of_an_applied_stage() -> None:
    """Runs from before the stage-phases patch (one activity per stage, no marker) and
    after it (a marker, each phase an activity, a rollback among them) both replay."""
    def events(name: str) -> Any:
        return WorkflowHistory.from_json("provision/t/dev", (HISTORIES / name).read_text()).events

    def activities(name: str) -> set[str]:
        return {e.activity_task_scheduled_event_attributes.activity_type.name
                for e in events(name) if e.HasField("activity_task_scheduled_event_attributes")}

    def marked(name: str) -> bool:      # the patch's id is in the marker's sealed details
        return any(e.HasField("marker_recorded_event_attributes") for e in events(name))

    assert activities("apply-all-applied.json") == {"provision.apply_stage"}
    assert not marked("apply-all-applied.json")
    assert activities("phases-apply-all-applied.json") == {
        "provision.plan_stage", "provision.gate_before", "provision.update_stage",
        "provision.gate_after"}
    assert marked("phases-apply-all-applied.json")
    assert "provision.roll_back_stage" in activities("phases-apply-rolled-back.json")


@workflow.defn(name=WORKFLOW_NAME)
class ChangedWorkflow:
    """The environment workflow as a careless change would leave it: it destroys the
    last stage first instead of applying the stages in order."""

    @workflow.run
    async def run(self, job: EnvironmentJob) -> list[StageRecord]:
        task = StageTask(job.run, job.operation, job.order[-1], job.plan_id)
        record: StageRecord = await workflow.execute_activity(
            DESTROY_ACTIVITY, task, start_to_close_timeout=timedelta(minutes=1),
            result_type=StageRecord)
        return [record]


def test_a_changed_workflow_fails_replay() -> None:
    """The check has teeth: a changed workflow of the same name does not replay."""
    history = WorkflowHistory.from_json("provision/t/dev",
                                        (HISTORIES / "apply-all-applied.json").read_text())
    replayer = Replayer(workflows=[ChangedWorkflow], data_converter=data_converter(PASSPHRASE),
                        workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(workflow.NondeterminismError):
        asyncio.run(replayer.replay_workflow(history))


def record(out_dir: Path) -> None:
    """Run the recorded scenarios on a fresh dev server and write their histories."""
    import tempfile

    from temporalio.client import Client

    from provision import spec as specs
    from provision.engine.orchestrator import Orchestrator
    from provision.engine.testing import FakeEngine
    from provision.executor import RunRef
    from provision.executor.temporal import Target, TemporalExecutor, workflow_id
    from provision.executor.temporal_server import DevServer
    from provision.graph.stages import build_stages
    from provision.provider import CloudConfig
    from providers.testing import FakeAdapter, fake_registry

    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["PROVISION_PLAN_DIR"] = f"{tmp}/plans"
        (Path(tmp) / "t.yaml").write_text(SPEC)
        with DevServer(Path(tmp) / "dev.sqlite") as server:
            # Each stage phase by phase (the stage-phases patch). The histories of the
            # shape before it (apply-all-applied, apply-fail-isolation: one activity per
            # stage) were recorded by the code of their time and are kept as they are.
            for name, fail, post in (("phases-apply-all-applied", None, ""),
                                     ("phases-apply-fail-isolation", "t.dev.net", ""),
                                     ("phases-apply-rolled-back", None, "app")):
                FakeAdapter.cloud.reset()
                engine = FakeEngine(configs={"test": CloudConfig("test")})

                def make(text: str, **kwargs: Any) -> Orchestrator:
                    (Path(tmp) / "t.yaml").write_text(text)
                    spec = specs.resolve(specs.load(Path(tmp) / "t.yaml"), "dev")
                    return Orchestrator(spec, spec.environments["dev"], build_stages(spec),
                                        fake_registry(), engine, **kwargs)

                if fail:
                    engine.fail(fail, "the cloud said no", operation="up")
                orch = make(SPEC)
                if post:
                    # Applied once first, so that the rollback returns to a state; then
                    # a changed stage that the gate after refuses.
                    orch.apply(orch.plan())
                    orch = make(SPEC.replace("{name: app,", "{name: app-v2,"),
                                gate=_PostGate(post), live_reader=lambda *args: {},
                                rollback_on_violation=True)
                executor = TemporalExecutor(Target(server.address), PASSPHRASE,
                                            in_process_workers=True)
                executor.apply(orch, orch.plan(), RunRef("t.yaml", "dev"))

                async def fetch() -> str:
                    client = await Client.connect(server.address,
                                                  data_converter=data_converter(PASSPHRASE))
                    history = await client.get_workflow_handle(workflow_id("t", "dev")) \
                        .fetch_history()
                    return history.to_json()

                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / f"{name}.json").write_text(asyncio.run(fetch()))


class _PostGate:
    """A gate whose only verdict: the gate after ``stage`` refuses it."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def check_pre(self, stage_plan: Any, plan: Any) -> Any:
        return _Verdict(False)

    def check_post(self, stage: str, live: Any) -> Any:
        return _Verdict(stage == self.stage)


class _Verdict:
    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking


def record_rollout(out_dir: Path) -> None:
    """A rollout workflow (rollout_workflow.py) on the in-memory rollout world: it halts at
    prod, a resume without approval halts there again (recheck), an approval of another
    plan is refused, the approval of its plan is accepted, and the resumed rollout
    completes. Writes the rollout's and prod's histories."""
    import tempfile

    from temporalio.client import Client

    from provision.errors import PlanError
    from provision.executor.approvals import gate_id
    from provision.executor.gates import Gates
    from provision.executor.records import ApprovalGate, ApprovalRecord
    from provision.executor.rollout_workflow import rollout_id
    from provision.executor.rollouts import WorkflowRollout
    from provision.executor.temporal import Target
    from provision.executor.temporal_server import DevServer
    from provision.history import History
    from provision.rollout.machine import Rollout
    from provision.rollout.state import RolloutState
    from provision.vocabulary import Operation

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rollout"))
    from rollout_fakes import Events, World

    with tempfile.TemporaryDirectory() as tmp, DevServer(Path(tmp) / "dev.sqlite") as server:
        home, world, target = Path(tmp), World(), Target(server.address)
        history = History.open(home / "history.db", home=home)
        record = history.start(Operation.ROLLOUT, spec="demo", env="prod", run_id="r-1")
        state = RolloutState("demo.yaml", ["dev", "staging", "prod"])
        for call in ("start", "resume", "resume"):   # the first resume halts again
            if call == "resume":
                state = RolloutState.from_dict(history.run("r-1")["detail"]["rollout"], "r-1")
                record = history.resume("r-1")
            machine = Rollout(state, history=history, record=record, factory=world.driver,
                              ui=Events(record), plans_dir=home / "plans")
            result = WorkflowRollout(target, PASSPHRASE, in_process_workers=True).run(
                machine, history)
            if call == "start":
                continue
            if result.halt is not None:
                gates = Gates(target, PASSPHRASE, in_process_worker=True)
                gate = ApprovalGate("r-1", "prod", result.halt.what)
                try:
                    gates.approve(gate, ApprovalRecord("sha256:bbb", "github:octo"))
                except PlanError:
                    pass
                gates.approve(gate, ApprovalRecord(result.halt.what, "github:octo", "fine"))
        history.close()

        async def fetch(wid: str) -> str:
            client = await Client.connect(server.address, data_converter=data_converter(PASSPHRASE))
            return (await client.get_workflow_handle(wid).fetch_history()).to_json()

        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "rollout.json").write_text(asyncio.run(fetch(rollout_id("r-1"))))
        (out_dir / "rollout-env-prod.json").write_text(asyncio.run(fetch(gate_id("r-1", "prod"))))


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else HISTORIES)
    record_rollout(Path(sys.argv[1]) if len(sys.argv) > 1 else HISTORIES)
