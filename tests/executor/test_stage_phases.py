"""The phase activities of one applied stage, each on a worker of its own: only
references pass between them (plan id, checkpoint id, change counts), so a phase on a
worker that ran none of the stage's earlier phases still ends the stage as in process.
Run with Temporal's activity test environment (no server)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from temporalio.testing import ActivityEnvironment

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.testing import FakeEngine
from provision.engine.protocol import Step
from provision.executor.activities import RunContext, StageActivities, StepCount
from provision.executor.checkpoints import CheckpointStore
from provision.executor.plans import PlanStore
from provision.executor.records import PhaseTask, RunRef, StageTask
from provision.graph.stages import build_stages
from provision.plan.model import Plan, StagePlan
from provision.provider import CloudConfig
from provision.vocabulary import StageStatus, StepOp
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: ph
environments:
  dev: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
"""


@dataclass
class Verdict:
    blocking: bool


class RefuseAfter:
    """The gate after refuses ``app``; the gate before lets everything through."""

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> Verdict:
        return Verdict(False)

    def check_post(self, stage: str, live: Any) -> Verdict:
        return Verdict(stage == "app")


def names() -> list[str]:
    return sorted(props["name"] for props in FakeAdapter.cloud.resources().values())


def test_each_phase_on_a_worker_of_its_own_rolls_the_stage_back(tmp_path: Path) -> None:
    FakeAdapter.cloud.reset()
    engine = FakeEngine(configs={"test": CloudConfig("test")})
    spec_file = tmp_path / "ph.yaml"

    def make(text: str, **kwargs: Any) -> Orchestrator:
        spec_file.write_text(text)
        spec = specs.resolve(specs.load(spec_file), "dev")
        return Orchestrator(spec, spec.environments["dev"], build_stages(spec),
                            fake_registry(), engine, **kwargs)

    first = make(SPEC)
    first.apply(first.plan())
    changed = SPEC.replace("{name: app,", "{name: app-v2,")
    plan = make(changed).plan()
    plans, checkpoints = PlanStore(tmp_path / "plans"), CheckpointStore(tmp_path / "cp", "pw")
    task = StageTask(RunRef(str(spec_file), "dev"), "apply", "app", plans.put(plan))

    read: list[dict[str, Any]] = []      # the stack outputs each live read was given

    def worker(name: str) -> StageActivities:
        """A worker with a run of its own (its own orchestrator, no memory of others)."""
        orch = make(changed, gate=RefuseAfter(),
                    live_reader=lambda stage, ids, outputs: read.append(dict(outputs)) or {},
                    rollback_on_violation=True)
        return StageActivities(lambda ref: RunContext(orch), plans, identity=name,
                               checkpoints=checkpoints)

    env = ActivityEnvironment()
    planned = env.run(worker("a").plan_stage, task)
    assert not planned.final and planned.planned == task.plan_id
    assert planned.changes == {"replace": 1} and planned.digest.startswith("sha256:")
    gated = env.run(worker("b").gate_before, PhaseTask(task, planned=planned.planned))
    assert not gated.final and gated.checkpoint
    assert b"app" not in next((tmp_path / "cp").iterdir()).read_bytes()     # sealed
    phase = PhaseTask(task, planned=planned.planned, checkpoint=gated.checkpoint)
    updated = env.run(worker("c").update_stage, phase)
    assert (updated.final, updated.record.status, updated.record.worker) == (
        False, StageStatus.APPLIED.value, "c")
    assert names() == ["app-v2", "net"]
    phase = replace(phase, summary=updated.record.summary, version=updated.record.version)
    judged = env.run(worker("d").gate_after, phase)
    assert judged.roll_back and not judged.final
    assert judged.record.error is not None and judged.record.error.phase == "post"
    assert judged.record.summary == updated.record.summary
    assert read[-1]["app"]["name"] == "app-v2"     # the stack's outputs, read on this worker
    rolled = env.run(worker("e").roll_back_stage, phase)
    assert rolled.final and rolled.record.status == StageStatus.ROLLED_BACK.value
    assert rolled.record.summary == updated.record.summary
    assert names() == ["app", "net"]
    assert not list((tmp_path / "cp").iterdir())          # removed by the last phase


def test_an_update_s_heartbeats_carry_its_step_events_names_and_counts_only() -> None:
    steps = StepCount()
    assert steps.details() == []                   # a heartbeat before the first step
    secret = {"password": "s3cret"}
    steps(Step(op=StepOp.CREATE, resource="net", old_inputs=None, new_inputs=secret))
    steps(Step(op=StepOp.UPDATE, resource="app", old_inputs={}, new_inputs=secret))
    assert steps.details() == [{"steps": 2, "last": "update app"}]
    assert "s3cret" not in repr(steps.details())
