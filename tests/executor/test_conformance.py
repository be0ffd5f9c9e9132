"""Engine conformance: the same scenarios through ``local`` and the temporal executor give
the same outcomes (statuses, reasons, causes, errors) and the same cloud.

Each scenario runs twice on a fresh :class:`FakeEngine` and fake cloud: once in process,
once as a Temporal workflow whose stage activities run on in-process workers (the
``temporal-local`` set-up, on the session's dev server).
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from provision import spec as specs
from provision.engine.hooks import Hooks
from provision.engine.orchestrator import ApplyReport, Orchestrator
from provision.engine.testing import FakeEngine
from provision.executor import Executor, LocalExecutor, RunRef
from provision.errors import PlanError
from provision.executor.gates import Gates
from provision.executor.records import ApprovalGate, ApprovalRecord
from provision.executor.rollouts import WorkflowRollout
from provision.executor.temporal import Target, TemporalExecutor
from provision.executor.temporal_server import DevServer
from provision.graph.stages import build_stages
from provision.plan.model import Plan, StagePlan
from provision.provider import CloudConfig
from provision.history import History
from provision.rollout.machine import Rollout, RolloutResult
from provision.rollout.state import RolloutState
from provision.vocabulary import ExitCode, Operation, StageStatus
from providers.testing import FakeAdapter, fake_registry

CONFIGS = {"test": CloudConfig("test", {"zone": "z1"})}

DAG_SPEC = """
name: t
environments:
  dev: {}
resources:
  net: {type: test:fake:Thing, stage: net, properties: {name: net}}
  app: {type: test:fake:Thing, stage: app, properties: {name: app, tags: {net: "${net.arn}"}}}
  web: {type: test:fake:Thing, stage: web, properties: {name: web, tags: {app: "${app.arn}"}}}
  db: {type: test:fake:Other, stage: db, properties: {name: db}}
  api: {type: test:fake:Other, stage: api, properties: {name: api, tags: {db: "${db.arn}"}}}
"""


@dataclass
class Verdict:
    blocking: bool
    results: list[Any] = field(default_factory=list)


class StubGate:
    def __init__(self, block_pre: frozenset[str] = frozenset(),
                 block_post: frozenset[str] = frozenset()) -> None:
        self.block_pre, self.block_post = block_pre, block_post

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> Verdict:
        return Verdict(stage_plan.name in self.block_pre)

    def check_post(self, stage: str, live: dict[str, Any]) -> Verdict:
        return Verdict(stage in self.block_post)


class HookLog:
    """What the hooks saw (the run record and the progress view are made from them),
    in a canonical order: stages run in threads and workers."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def _add(self, *call: Any) -> None:
        with self._lock:
            self.calls.append(call)

    def hooks(self) -> Hooks:
        return Hooks(
            stage_start=lambda stage, op: self._add("start", stage, op.value),
            stage_done=lambda stage, status, res: self._add(
                "done", stage, status.value, sorted((res.summary if res else {}).items())),
            policy=lambda stage, phase, verdict: self._add("policy", stage, phase.value,
                                                           verdict.blocking),
            stage_skipped=lambda stage, reason: self._add("skipped", stage, reason))

    def view(self) -> list[tuple[Any, ...]]:
        return sorted(self.calls, key=repr)


def no_live(stage: str, resources: list[str], outputs: Any) -> dict[str, Any]:
    return {}


def outcome_view(report: ApplyReport) -> list[tuple[str, str, str, str, str]]:
    return [(o.stage, o.status.value, o.reason, o.cause,
             f"{type(o.error).__name__}: {o.error.message}" if o.error else "")
            for o in report.outcomes]


def cloud() -> dict[str, dict[str, Any]]:
    """The fake cloud, less the creation serial (independent stages run in either order)."""
    return {rid: {k: v for k, v in props.items() if k != "created_serial"}
            for (_, rid), props in FakeAdapter.cloud.resources().items()}


Scenario = Callable[[Callable[..., Orchestrator], Executor, FakeEngine], list[Any]]


@pytest.fixture
def run_both(tmp_path: Path, dev_server: DevServer, plan_dir: Path
             ) -> Callable[[str, Scenario], tuple[list[Any], list[Any]]]:
    spec_file = tmp_path / "spec.yaml"

    def run(text: str, scenario: Scenario) -> tuple[list[Any], list[Any]]:
        spec_file.write_text(text)
        seen = []
        for executor in (LocalExecutor(), TemporalExecutor(
                Target(dev_server.address), "test-passphrase-not-secret",
                in_process_workers=True, heartbeat_seconds=10)):
            FakeAdapter.cloud.reset()
            engine = FakeEngine(configs=CONFIGS)
            registry = fake_registry()

            def make(env: str = "dev", **kwargs: Any) -> Orchestrator:
                raw = specs.load(spec_file)
                specs.validate(raw, registry)
                resolved = specs.resolve(raw, env)
                return Orchestrator(resolved, resolved.environments[env],
                                    build_stages(resolved), registry, engine, **kwargs)

            seen.append(scenario(make, executor, engine) + [cloud()])
        return seen[0], seen[1]

    return run


PASSPHRASE = "test-passphrase-not-secret"


def ref(env: str = "dev") -> RunRef:
    return RunRef("spec.yaml", env)


def test_plan_apply_no_op_and_destroy_end_the_same(run_both: Any) -> None:
    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        orch = make()
        applied = executor.apply(orch, orch.plan(), ref())
        after_apply = cloud()
        again = make()
        second = again.plan()
        no_op = executor.apply(again, second, ref())
        destroyed = executor.destroy(make(), ref())
        return [outcome_view(applied), after_apply, second.has_changes(),
                outcome_view(no_op), outcome_view(destroyed)]

    local, temporal = run_both(DAG_SPEC, scenario)
    assert local == temporal
    applied, after_apply, changes, no_op, destroyed, end = temporal
    assert {s for _, s, *_ in applied} == {StageStatus.APPLIED.value}
    assert set(after_apply) == {"net", "app", "web", "db", "api"}
    assert changes is False
    assert {s for _, s, *_ in no_op} == {StageStatus.UNCHANGED.value}
    assert {s for _, s, *_ in destroyed} == {StageStatus.DESTROYED.value}
    assert end == {}


def test_a_policy_block_stops_the_stage_and_skips_its_dependents_the_same(run_both: Any) -> None:
    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        orch = make(gate=StubGate(frozenset({"app"})))
        return [outcome_view(executor.apply(orch, orch.plan(), ref()))]

    local, temporal = run_both(DAG_SPEC, scenario)
    assert local == temporal
    by_stage = {stage: (status, reason) for stage, status, reason, *_ in temporal[0]}
    assert by_stage["app"][0] == StageStatus.BLOCKED.value
    assert by_stage["web"] == (StageStatus.SKIPPED.value,
                               "it depends on stage 'app', which was blocked by a policy")
    assert by_stage["api"][0] == StageStatus.APPLIED.value


def test_a_failed_stage_fails_alone_the_same(run_both: Any) -> None:
    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        engine.fail("t.dev.net", "the cloud said no", operation="up")
        orch = make()
        return [outcome_view(executor.apply(orch, orch.plan(), ref()))]

    local, temporal = run_both(DAG_SPEC, scenario)
    # In process the error object is the engine's; through Temporal the in-process worker
    # hands the same object back, so even the error class and message agree.
    assert local == temporal
    by_stage = {stage: (status, reason, cause) for stage, status, reason, cause, _ in temporal[0]}
    assert by_stage["net"][0] == StageStatus.FAILED.value
    assert by_stage["web"] == (StageStatus.SKIPPED.value, "it depends (through other stages) "
                               "on stage 'net', which failed", "net")
    assert by_stage["db"][0] == by_stage["api"][0] == StageStatus.APPLIED.value
    assert "web" not in temporal[-1] and "api" in temporal[-1]


def activity_sequence(server: DevServer, spec: str = "t",
                      env: str = "dev") -> dict[str, list[str]]:
    """stage -> the activities the environment's last workflow scheduled for it, in order
    (read from its history; inputs opened with the run's passphrase)."""
    import asyncio

    from temporalio.client import Client

    from provision.executor.temporal import data_converter, workflow_id

    async def read() -> dict[str, list[str]]:
        convert = data_converter(PASSPHRASE)
        client = await Client.connect(server.address, data_converter=convert)
        history = await client.get_workflow_handle(workflow_id(spec, env)).fetch_history()
        found: dict[str, list[str]] = {}
        for event in history.events:
            if not event.HasField("activity_task_scheduled_event_attributes"):
                continue
            attrs = event.activity_task_scheduled_event_attributes
            [arg] = await convert.decode(attrs.input.payloads)
            stage = arg["task"]["stage"] if "task" in arg else arg["stage"]
            found.setdefault(stage, []).append(attrs.activity_type.name.split(".", 1)[1])
        return found

    return asyncio.run(read())


def test_each_phase_of_an_applied_stage_is_an_activity_of_its_own(
        run_both: Any, dev_server: DevServer) -> None:
    """plan, gate before, update, gate after: four activities per applied stage; a blocked
    stage stops after its gate, an unchanged one after its plan; the hooks (run record,
    progress) see the same on both executors."""
    sequences: list[dict[str, list[str]]] = []

    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        first, log = make(gate=StubGate(frozenset({"app"})), live_reader=no_live), HookLog()
        first.hooks = log.hooks()
        applied = executor.apply(first, first.plan(), ref())
        if isinstance(executor, TemporalExecutor):
            sequences.append(activity_sequence(dev_server))
        again = make(gate=StubGate(), live_reader=no_live)
        rest = executor.apply(again, again.plan(), ref())
        if isinstance(executor, TemporalExecutor):
            sequences.append(activity_sequence(dev_server))
        return [outcome_view(applied), log.view(), outcome_view(rest)]

    local, temporal = run_both(DAG_SPEC, scenario)
    assert local == temporal
    phases = ["plan_stage", "gate_before", "update_stage", "gate_after"]
    blocked, unblocked = sequences
    assert blocked == {"net": phases, "db": phases, "api": phases,
                       "app": ["plan_stage", "gate_before"]}       # web: skipped, no activity
    assert unblocked == {"net": ["plan_stage"], "db": ["plan_stage"], "api": ["plan_stage"],
                         "app": phases, "web": phases}
    assert ("policy", "app", "pre", True) in temporal[1]
    assert ("done", "app", StageStatus.BLOCKED.value, []) in temporal[1]


def test_a_violation_after_apply_rolls_the_stage_back_the_same(
        run_both: Any, dev_server: DevServer, tmp_path: Path, plan_dir: Path) -> None:
    """A stage updated, then judged by the gate after: with rollback on violation it
    returns to its state before the update (a sealed checkpoint on the temporal
    executor, gone afterwards), and stages depending on it are skipped."""
    sequences: list[dict[str, list[str]]] = []
    changed = DAG_SPEC.replace("{name: app, tags:", "{name: app-v2, tags:")

    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        first = make()
        executor.apply(first, first.plan(), ref())
        (tmp_path / "spec.yaml").write_text(changed)
        log = HookLog()
        orch = make(gate=StubGate(block_post=frozenset({"app"})), live_reader=no_live,
                    rollback_on_violation=True, hooks=log.hooks())
        report = executor.apply(orch, orch.plan(), ref())
        if isinstance(executor, TemporalExecutor):
            sequences.append(activity_sequence(dev_server))
        (tmp_path / "spec.yaml").write_text(DAG_SPEC)
        return [outcome_view(report), log.view(), {k: v for k, v in cloud()["app"].items()}]

    local, temporal = run_both(DAG_SPEC, scenario)
    assert local == temporal
    view = {stage: (status, error) for stage, status, _, _, error in temporal[0]}
    assert view["app"] == (StageStatus.ROLLED_BACK.value, "PolicyViolation: mandatory policy "
                           "violation at the post gate of stage 'app'")
    assert view["web"][0] == StageStatus.SKIPPED.value
    assert temporal[2]["name"] == "app"                     # the inputs before the update
    assert sequences[0]["app"] == ["plan_stage", "gate_before", "update_stage", "gate_after",
                                   "roll_back_stage"]
    assert ("start", "app", "rollback") in temporal[1]
    assert not list((plan_dir / "checkpoints").glob("*"))   # each removed by its last phase


def test_a_stale_saved_plan_fails_its_stage_the_same(run_both: Any, tmp_path: Path) -> None:
    """A saved plan whose stage state moved since it was made: that stage fails with
    StalePlanError before its gate (the plan phase), its dependents are skipped."""
    def scenario(make: Callable[..., Orchestrator], executor: Executor,
                 engine: FakeEngine) -> list[Any]:
        first = make()
        executor.apply(first, first.plan(), ref())
        saved = make().plan()
        (tmp_path / "spec.yaml").write_text(DAG_SPEC.replace("{name: db}", "{name: db-v2}"))
        moved = make()                               # the state of `db` moves meanwhile
        moved.apply(moved.plan())
        (tmp_path / "spec.yaml").write_text(DAG_SPEC)
        orch = make(gate=StubGate())
        return [outcome_view(executor.apply(orch, saved, ref(), check_fresh=True))]

    local, temporal = run_both(DAG_SPEC, scenario)
    assert local == temporal
    by_stage = {stage: (status, reason, error) for stage, status, reason, _, error in temporal[0]}
    assert by_stage["db"][0] == StageStatus.FAILED.value
    assert by_stage["db"][2] == ("StalePlanError: the state of stage 'db' changed since the "
                                 "plan was made")
    assert by_stage["api"][:2] == (StageStatus.SKIPPED.value,
                                   "it depends on stage 'db', which failed")
    assert by_stage["net"][0] == StageStatus.UNCHANGED.value


# -- a rollout: approval halt and resume -------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rollout"))
from rollout_fakes import Events, World  # noqa: E402

CHAIN = ["dev", "staging", "prod"]


class RolloutRun:
    """One rollout through the chain on an in-memory world (tests/rollout/rollout_fakes.py),
    its run history in ``home``, driven in process or as the rollout workflow."""

    def __init__(self, home: Path, server: DevServer | None) -> None:
        self.home, self.world = home, World()
        self.history = History.open(home / "history.db", home=home)
        self.target = Target(server.address) if server else None
        self.ui, self.run_id = Events(), ""

    def go(self, resume: bool = False) -> RolloutResult:
        if resume:
            run = self.history.run(self.run_id)
            state = RolloutState.from_dict(run["detail"]["rollout"], self.run_id)
            record = self.history.resume(self.run_id)
        else:
            record = self.history.start(Operation.ROLLOUT, spec="demo", env="prod")
            self.run_id, state = record.id, RolloutState("demo.yaml", list(CHAIN))
        self.ui = Events(record)
        machine = Rollout(state, history=self.history, record=record, factory=self.world.driver,
                          ui=self.ui, plans_dir=self.home / "plans" / record.id)
        if self.target is None:
            result = machine.run()
        else:
            result = WorkflowRollout(self.target, PASSPHRASE, in_process_workers=True,
                                     waiting=lambda ids: record.update(
                                         detail={"approval_gate": ids})).run(machine,
                                                                             self.history)
        record.finish(result.outcome, exit_code=int(result.exit_code))
        return result

    def approve(self, digest: str) -> None:
        """As ``provision approve``: to the waiting workflow first, then into the history."""
        if self.target is not None:
            Gates(self.target, PASSPHRASE, in_process_worker=True).approve(
                ApprovalGate(self.run_id, "prod", digest), ApprovalRecord(digest, "github:carol"))
        self.history.approve(self.run_id, "prod", plan_digest=digest, who="github:carol")

    def plain(self, value: Any) -> Any:
        """``value`` less the run id and the home directory."""
        text = json.dumps(value).replace(self.run_id, "RUN")
        return json.loads(text.replace(str(self.home), "HOME"))

    def view(self, result: RolloutResult) -> list[Any]:
        """The result, the run record's steps and the events."""
        plain = self.plain
        steps = [(s["env"], s["kind"], s["name"], s["status"], s["detail"].get("plan_digest"))
                 for s in self.history.show(self.run_id).steps]
        events = [(e["event"], e.get("env"), e.get("status"), e.get("plan_digest"))
                  for e in self.ui.events]
        halt = result.halt.to_dict() if result.halt else None
        return [result.outcome.value, int(result.exit_code), plain(halt), plain(steps), events]


def test_an_approval_halt_and_resume_end_the_same(tmp_path: Path, dev_server: DevServer) -> None:
    seen = []
    for name, server in (("local", None), ("temporal", dev_server)):
        run = RolloutRun(tmp_path / name, server)
        halted = run.go()
        digest = run.history.run(run.run_id)["detail"]["rollout"]["envs"]["prod"]["plan_digest"]
        if server is not None:           # the update's validator refuses another plan
            with pytest.raises(PlanError, match=f"waits for plan {digest}"):
                Gates(Target(server.address), PASSPHRASE, in_process_worker=True).approve(
                    ApprovalGate(run.run_id, "prod", digest),
                    ApprovalRecord("sha256:other", "github:carol"))
        first = run.view(halted)
        again = run.view(run.go(resume=True))       # no approval yet: the same halt again
        run.approve(digest)
        done = run.go(resume=True)
        record = run.history.run(run.run_id)
        seen.append([first, again, run.view(done), record["outcome"],
                     run.plain(record["detail"]["rollout"]),
                     run.world.applies, [a.plan_digest for a in run.history.approvals(run.run_id)]])
        run.history.close()
    local, temporal = seen
    assert local == temporal
    first, again, last, outcome, state, applies, approvals = temporal
    assert first[:2] == ["halted", int(ExitCode.HALTED)] and first[2]["gate"] == "approval"
    assert again[:3] == first[:3] and again[4][-1][0] == "approval_needed"
    assert "provision approve RUN --env prod" in first[2]["hint"]
    assert last[:3] == ["applied", 0, None] and outcome == "applied"
    assert [e for e, _, _ in applies] == ["dev"] * 3 + ["staging"] * 3 + ["prod"] * 3
    assert [s[3] for s in last[3] if s[:2] == ["prod", "approval"]] == [
        "waiting", "waiting", "approved"]
    assert {e["status"] for e in state["envs"].values()} == {"applied"}
    assert approvals == [first[2]["what"]]


def test_a_policy_halt_ends_the_rollout_the_same_and_resume_goes_on(
        tmp_path: Path, dev_server: DevServer) -> None:
    seen = []
    for name, server in (("local", None), ("temporal", dev_server)):
        run = RolloutRun(tmp_path / name, server)
        run.world.violate["staging"] = "azure"
        blocked = run.go()
        run.world.violate.clear()
        resumed = run.go(resume=True)         # a new rollout workflow: dev is not redone
        seen.append([run.view(blocked), run.view(resumed), run.world.applies])
        run.history.close()
    local, temporal = seen
    assert local == temporal
    blocked, resumed, applies = temporal
    assert blocked[:2] == ["policy-violation", int(ExitCode.POLICY)]
    assert (blocked[2]["env"], blocked[2]["stage"], blocked[2]["what"]) == (
        "staging", "azure", "PRV-TEST-001")
    assert resumed[2]["gate"] == "approval" and resumed[2]["env"] == "prod"
    assert [(e, s) for e, s, _ in applies] == [("dev", "aws"), ("dev", "azure"), ("dev", "gcp"),
                                               ("staging", "aws"), ("staging", "azure"),
                                               ("staging", "gcp")]


def test_a_resume_failing_before_the_apply_keeps_the_approval_the_same(
        tmp_path: Path, dev_server: DevServer) -> None:
    seen = []
    for name, server in (("local", None), ("temporal", dev_server)):
        run = RolloutRun(tmp_path / name, server)
        run.go()
        digest = run.history.run(run.run_id)["detail"]["rollout"]["envs"]["prod"]["plan_digest"]
        run.approve(digest)
        run.world.broken["prod"] = "incorrect passphrase for the state of prod"
        failed = run.go(resume=True)
        del run.world.broken["prod"]
        done = run.go(resume=True)
        seen.append([run.view(failed)[:3], run.view(done), run.world.applies,
                     [a.plan_digest for a in run.history.approvals(run.run_id)]])
        run.history.close()
    local, temporal = seen
    assert local == temporal
    failed, done, applies, approvals = temporal
    assert failed[:2] == ["failed", int(ExitCode.ERROR)]
    assert "incorrect passphrase" in failed[2]["reason"]
    assert done[:3] == ["applied", 0, None] and approvals == [digest]
    assert [(s[1], s[3]) for s in done[3] if s[0] == "prod"] == [
        ("plan", "planned"), ("approval", "waiting"), ("error", "failed"), ("approval", "approved"),
        ("stage", "applied"), ("stage", "applied"), ("stage", "applied")]
    assert [e for e, _, _ in applies].count("prod") == 3
