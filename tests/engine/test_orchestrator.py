"""Orchestration scenarios over the fake cloud of ``providers.testing``.

Every scenario runs on :class:`~provision.engine.testing.FakeEngine`; those
marked ``real_engine`` run on the real Pulumi engine too (see conftest.py).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from provision.engine.live import read_live
from provision.engine.hooks import Hooks
from provision.engine.orchestrator import Orchestrator
from provision.engine.report import ApplyReport
from provision.engine.testing import FakeEngine
from provision.errors import (PolicyViolation, ProtectedResourceError, RenamedResourceError,
                              StageFailedError, StalePlanError)
from provision.plan.model import UNKNOWN, Action, Plan, StagePlan
from provision.plan.saved import read_plan, write_plan
from provision.provider import CloudConfig
from provision.vocabulary import Operation, Phase, StageStatus
from providers.testing import FakeAdapter


SPEC = """
name: t
environments:
  dev: {}
resources:
  c:
    type: test:fake:Thing
    stage: third
    properties:
      name: "c-${b.created_serial}"
  a:
    type: test:fake:Thing
    stage: first
    properties:
      name: alpha
      size: 1
      tags: {team: core}
  b:
    type: test:fake:Other
    stage: second
    properties:
      name: beta
      tags: {ref: "${a.arn}"}
"""

Make = Callable[..., Orchestrator]


def actions(plan: Any) -> dict[str, str]:
    return {c.id: c.action.value for s in plan.stages for c in s.changes}


def live() -> dict[str, dict[str, Any]]:
    return {rid: props for (_, rid), props in FakeAdapter.cloud.resources().items()}


@pytest.mark.real_engine
def test_plan_orders_stages_by_reference_and_marks_unknowns(make_orchestrator: Make) -> None:
    plan = make_orchestrator(SPEC).plan()
    assert [s.name for s in plan.stages] == ["first", "second", "third"]
    assert actions(plan) == {"a": "create", "b": "create", "c": "create"}
    b = plan.stages[1].changes[0]
    assert b.after is not None and b.after["tags"]["ref"] is UNKNOWN
    assert b.unknown == ["tags.ref"]
    assert plan.stages[0].changes[0].after == {"name": "alpha", "size": 1, "tags": {"team": "core"}}
    assert live() == {}  # planning changed nothing


def test_known_planned_inputs_flow_downstream_at_plan_time(make_orchestrator: Make) -> None:
    spec = SPEC.replace("ref: \"${a.arn}\"", "ref: \"${a.name}\"")
    plan = make_orchestrator(spec).plan()
    assert plan.stages[1].changes[0].after["tags"] == {"ref": "alpha"}  # type: ignore[index]


@pytest.mark.real_engine
def test_apply_then_plan_is_clean_then_update_replace_and_destroy(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    report = orch.apply(orch.plan())
    assert [o.status for o in report.outcomes] == ["applied", "applied", "applied"]
    # One resource per stage: the counts name the spec's resources, not the engine's own
    # (Pulumi's stack and provider resources).
    assert [o.result.summary if o.result else None for o in report.outcomes] == \
        [{"create": 1}] * 3
    assert live()["beta"]["tags"] == {"ref": "arn:fake:thing/alpha"}  # cross-stage value
    assert f"c-{live()['beta']['created_serial']}" in live()            # template across stages
    # The exports hold what the cloud filled in too (b leaves `size` to its default).
    assert orch.engine.snapshot(orch.stack_name("second")).outputs["b"]["size"] == 1
    assert all(a == "noop" for a in actions(make_orchestrator(SPEC).plan()).values())

    changed = SPEC.replace("size: 1", "size: 2").replace("name: beta", "name: beta2")
    plan = make_orchestrator(changed).plan()
    acts = actions(plan)
    assert acts["a"] == "update" and acts["b"] == "replace"
    diff = {d.path: d for d in plan.stages[0].changes[0].diffs}
    assert (diff["size"].before, diff["size"].after) == (1, 2)
    assert any(d.path == "name" and d.replaces for d in plan.stages[1].changes[0].diffs)
    make_orchestrator(changed).apply(plan)
    assert live()["alpha"]["size"] == 2 and "beta2" in live() and "beta" not in live()

    destroyed = make_orchestrator(changed).destroy()
    assert [o.stage for o in destroyed.outcomes] == ["third", "second", "first"]
    assert live() == {}


def test_drift_out_of_band_delete_is_planned_as_create(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    with FakeAdapter.cloud.transaction() as data:
        data["resources"].pop("test:fake:Thing|alpha")
    assert actions(make_orchestrator(SPEC).plan())["a"] == "create"


def test_property_removed_from_spec_is_an_update_default_is_not(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    # `size` has a default the adapter fills in for b: leaving it out is no change,
    # but removing a's explicit tags is.
    plan = make_orchestrator(SPEC.replace("      tags: {team: core}\n", "")).plan()
    assert actions(plan) == {"a": "update", "b": "noop", "c": "noop"}


def test_resource_removed_from_spec_is_planned_as_delete(make_orchestrator: Make) -> None:
    two = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: s, properties: {name: alpha}}
  b: {type: test:fake:Other, stage: s, properties: {name: beta}}
"""
    orch = make_orchestrator(two)
    orch.apply(orch.plan())
    one = two.replace("  b: {type: test:fake:Other, stage: s, properties: {name: beta}}\n", "")
    plan = make_orchestrator(one).plan()
    assert actions(plan) == {"a": "noop", "b": "delete"}
    assert plan.stages[0].changes[1].type == "test:fake:Other"


@pytest.mark.real_engine
def test_a_renamed_id_of_one_cloud_resource_is_refused_at_plan(make_orchestrator: Make) -> None:
    """`q` renamed `queue`, same name: `+ queue` / `- q` would delete the real resource the
    create met. The plan names both ids, the cloud name and a way out; nothing changes."""
    spec = """
name: t
environments: {dev: {}}
resources:
  q: {type: test:fake:Thing, stage: s, properties: {name: orders, size: 2}}
  other: {type: test:fake:Thing, stage: s, properties: {name: other}}
"""
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    renamed = spec.replace("  q: ", "  queue: ")
    with pytest.raises(RenamedResourceError) as info:
        make_orchestrator(renamed).plan()
    assert (info.value.old, info.value.new) == ("q", "queue")
    assert "test:fake:Thing with name 'orders'" in info.value.message
    assert "spec.yaml:5" in info.value.message and "add 'moved_from: q' to 'queue'" in info.value.hint
    assert set(live()) == {"orders", "other"}

    # A rename that also changes the name is a replacement the user asked for.
    moved = renamed.replace("name: orders", "name: orders-2")
    assert actions(make_orchestrator(moved).plan()) == {
        "queue": "create", "other": "noop", "q": "delete"}

    # The way out: moved_from moves the resource to its new id in state, cloud untouched.
    moved_spec = renamed.replace("  queue: {", "  queue: {moved_from: q, ")
    plan = make_orchestrator(moved_spec).plan()
    assert actions(plan) == {"queue": "update", "other": "noop"}
    assert [(d.path, d.before, d.after) for d in plan.stages[0].changes[0].diffs] == [
        ("moved_from", "q", "queue")]
    before = FakeAdapter.cloud.calls()
    make_orchestrator(moved_spec).apply(plan)
    assert [c for c in FakeAdapter.cloud.calls()[len(before):] if c[0] != "read"] == []
    assert set(live()) == {"orders", "other"}
    snap = make_orchestrator(moved_spec).engine.snapshot("t.dev.s")
    assert snap is not None and set(snap.inputs) == {"queue", "other"}
    assert not make_orchestrator(moved_spec).plan().has_changes()
    assert not make_orchestrator(renamed).plan().has_changes()      # moved_from may go now


@pytest.mark.real_engine
def test_cloud_error_fails_stage_cleanly_and_keeps_earlier_stages(make_orchestrator: Make,
                                                                 tmp_path: Path) -> None:
    def inject(stage: str, op: str) -> None:
        if stage == "second" and op == "apply":
            FakeAdapter.cloud.fail_next("create", "fake error QuotaExceeded: no more things")

    orch = make_orchestrator(SPEC, hooks=Hooks(stage_start=inject))
    report = orch.apply(orch.plan())
    assert [o.status for o in report.outcomes] == ["applied", "failed", "skipped"]
    error = report.failed
    assert isinstance(error, StageFailedError)
    assert error.stage == "second"
    assert error.message == (f"stage 'second' failed: {tmp_path / 'spec.yaml'}:18: "
                             "b (test:fake:Other): create failed: "
                             "fake error QuotaExceeded: no more things")
    assert "Traceback" not in error.message
    assert set(live()) == {"alpha"}                                  # stage one stays applied
    assert actions(make_orchestrator(SPEC).plan())["a"] == "noop"    # and recorded in state


@pytest.mark.pulumi_only
def test_secret_property_never_reaches_state_in_plaintext(make_orchestrator: Make,
                                                          tmp_path: Path) -> None:
    spec = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: s, properties: {name: alpha, secret_value: hunter2-very-secret}}
"""
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    state_text = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.json"))
    assert "hunter2-very-secret" not in state_text
    assert live()["alpha"]["secret_value"] == "hunter2-very-secret"


@pytest.mark.real_engine
def test_targeted_apply_and_destroy_leave_other_resources_alone(make_orchestrator: Make) -> None:
    two = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: s, properties: {name: alpha, size: 1}}
  b: {type: test:fake:Other, stage: s, properties: {name: beta, size: 1}}
  c: {type: test:fake:Thing, stage: later, properties: {name: "c-${a.name}"}}
"""
    orch = make_orchestrator(two, selection={"b"})
    plan = orch.plan()
    assert actions(plan) == {"b": "create"}            # only the target, only its stage
    orch.apply(plan)
    assert set(live()) == {"beta"}

    # Both exist; a targeted change to `a` must not delete or touch `b`.
    full = make_orchestrator(two)
    full.apply(full.plan())
    changed = two.replace("alpha, size: 1", "alpha, size: 5").replace("beta, size: 1", "beta, size: 9")
    targeted = make_orchestrator(changed, selection={"a"})
    plan = targeted.plan()
    assert actions(plan) == {"a": "update"}
    targeted.apply(plan)
    assert live()["alpha"]["size"] == 5 and live()["beta"]["size"] == 1

    make_orchestrator(two, selection={"c"}).destroy()
    assert set(live()) == {"alpha", "beta"}


def test_upstream_update_flows_downstream_and_unchanged_stages_are_skipped(
        make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    calls_before = len(FakeAdapter.cloud.calls())
    # Only `a`'s tags change: stage second references a's name (unchanged), so with a
    # change to a.name-independent data, second and third stay untouched.
    only_a = SPEC.replace("tags: {team: core}", "tags: {team: platform}")
    plan = make_orchestrator(only_a).plan()
    assert actions(plan) == {"a": "update", "b": "noop", "c": "noop"}
    report = make_orchestrator(only_a).apply(plan)
    assert [o.status for o in report.outcomes] == ["applied", "unchanged", "unchanged"]
    assert not [c for c in FakeAdapter.cloud.calls()[calls_before:] if c[2] in ("beta",)
                and c[0] != "read"]

    # A downstream reference to an input being updated sees the new value in the plan.
    spec = SPEC.replace('ref: "${a.arn}"', 'ref: "${a.tags.team}"')
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    plan = make_orchestrator(spec.replace("team: core", "team: edge")).plan()
    acts = actions(plan)
    assert acts["a"] == "update" and acts["b"] == "update"
    assert plan.stages[1].changes[0].after["tags"] == {"ref": "edge"}  # type: ignore[index]


def test_destroy_refuses_protected_resources_before_deleting_anything(
        make_orchestrator: Make) -> None:
    """A protected resource in an early stage, a dependent in a later one: destroy (whole,
    or targeted at the protected one) fails before the later stage is touched."""
    spec = """
name: t
environments: {dev: {}}
resources:
  keep: {type: test:fake:Thing, stage: data, protect: true, properties: {name: keep}}
  user: {type: test:fake:Other, stage: app, properties: {name: "user-${keep.name}"}}
"""
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    assert set(live()) == {"keep", "user-keep"}
    for selection in (None, {"keep", "user"}):
        with pytest.raises(ProtectedResourceError) as info:
            make_orchestrator(spec, selection=selection).destroy()
        assert info.value.resources == ["keep"]
        assert "'keep' (" in info.value.message and "spec.yaml:5" in info.value.message
        assert "--exclude keep" in info.value.hint
        assert set(live()) == {"keep", "user-keep"}    # nothing deleted, downstream included
    make_orchestrator(spec, selection={"user"}).destroy()   # not protected: goes ahead
    assert set(live()) == {"keep"}


def test_toggling_protect_is_a_planned_change_the_apply_records(make_orchestrator: Make) -> None:
    """`protect` added to or removed from an existing resource shows as an update of
    `protect` and is recorded by the apply: the documented way out of a refused destroy
    (set protect: false, apply, destroy) works; skipping the apply is refused by the
    engine, with that way out as the hint."""
    spec = """
name: t
environments: {dev: {}}
resources:
  keep: {type: test:fake:Thing, stage: data, properties: {name: keep}}
"""
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    stack = orch.stack_name("data")
    protected = spec.replace("stage: data,", "stage: data, protect: true,")
    plan = make_orchestrator(protected).plan()
    change = plan.stages[0].changes[0]
    assert (change.action.value, [(d.path, d.before, d.after) for d in change.diffs]) == (
        "update", [("protect", False, True)])
    make_orchestrator(protected).apply(plan)
    assert orch.engine.snapshot(stack).protected == {"keep"}   # type: ignore[union-attr]
    assert not make_orchestrator(protected).plan().has_changes()

    # protect: false without the apply: the engine still refuses the delete, and says how.
    failed = make_orchestrator(spec).destroy()
    error = failed.outcomes[0].error
    assert error is not None and "cannot be deleted" in error.message
    assert "set 'protect: false'" in error.hint and "apply" in error.hint
    assert set(live()) == {"keep"}
    plan = make_orchestrator(spec).plan()
    assert [(d.path, d.before, d.after) for d in plan.stages[0].changes[0].diffs] == [
        ("protect", True, False)]
    make_orchestrator(spec).apply(plan)
    assert orch.engine.snapshot(stack).protected == frozenset()  # type: ignore[union-attr]
    make_orchestrator(spec).destroy()
    assert live() == {}


# -- scheduling by the stage DAG, failure isolation, gates ------------------------------------

DAG_SPEC = """
name: t
environments: {dev: {}}
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
    """A gate that blocks the named stages before or after they apply, and records
    what it saw (from worker threads, under a lock)."""

    def __init__(self, block_pre: set[str] = frozenset(), block_post: set[str] = frozenset()) -> None:
        self.block_pre, self.block_post = block_pre, block_post
        self.pre: dict[str, StagePlan] = {}
        self.post: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> Verdict:
        with self._lock:
            self.pre[stage_plan.name] = stage_plan
        return Verdict(stage_plan.name in self.block_pre)

    def check_post(self, stage: str, live: dict[str, Any]) -> Verdict:
        with self._lock:
            self.post[stage] = live
        return Verdict(stage in self.block_post)


def statuses(report: ApplyReport) -> dict[str, StageStatus]:
    return {o.stage: o.status for o in report.outcomes}


@pytest.mark.real_engine
def test_a_failed_stage_skips_only_its_dependents_and_says_why(make_orchestrator: Make) -> None:
    FakeAdapter().create({"name": "net"}, CloudConfig("test"))    # creating `net` will conflict
    orch = make_orchestrator(DAG_SPEC)
    report = orch.apply(orch.plan())
    assert statuses(report) == {"net": StageStatus.FAILED, "db": StageStatus.APPLIED,
                                "app": StageStatus.SKIPPED, "api": StageStatus.APPLIED,
                                "web": StageStatus.SKIPPED}
    assert report.outcome("app").reason == "it depends on stage 'net', which failed"
    assert report.outcome("web").reason == ("it depends (through other stages) on stage 'net', "
                                            "which failed")
    assert report.outcome("web").cause == "net"
    assert "already exists" in str(report.failed)
    assert live()["api"]["tags"] == {"db": "arn:fake:other/db"}     # the independent chain ran
    assert "app" not in live() and "web" not in live()


def test_a_stage_starts_when_its_dependencies_finish_not_its_whole_level(
        make_orchestrator: Make, engine: FakeEngine) -> None:
    # net is slow; db -> api is independent of it: api must not wait for net.
    release_net = engine.hold("t.dev.net")

    def done(stage: str, status: StageStatus, result: Any) -> None:
        if stage == "api":
            release_net.set()

    orch = make_orchestrator(DAG_SPEC, hooks=Hooks(stage_done=done))
    report = orch.apply(orch.plan())
    assert set(statuses(report).values()) == {StageStatus.APPLIED}
    ends = [stack for (_, what, op, stack) in engine.journal if what == "end" and op == "up"]
    assert ends.index("t.dev.api") < ends.index("t.dev.net") < ends.index("t.dev.app")


def test_eight_independent_stages_run_at_once_and_every_outcome_and_location_is_right(
        make_orchestrator: Make, engine: FakeEngine) -> None:
    text = "name: t\nenvironments: {dev: {}}\nresources:\n" + "".join(
        f"  r{i}: {{type: test:fake:Thing, stage: s{i}, properties: {{name: n{i}, size: {i}}}}}\n"
        for i in range(8))
    together = threading.Barrier(8, timeout=5)

    def start(stage: str, op: Operation) -> None:
        if op is Operation.APPLY:
            together.wait()                  # all eight stages are applying at the same time

    gate = StubGate()
    holder: list[Orchestrator] = []

    def read(stage: str, ids: list[str], outputs: Any) -> Any:      # the product's live read
        return read_live(holder[0].spec, holder[0].registry, {}, ids, outputs)

    orch = make_orchestrator(text, hooks=Hooks(stage_start=start), parallel=8, gate=gate,
                             live_reader=read)
    holder.append(orch)
    report = orch.apply(orch.plan())
    assert not together.broken            # all eight met at the barrier
    assert statuses(report) == {f"s{i}": StageStatus.APPLIED for i in range(8)}
    for i in range(8):
        change = gate.pre[f"s{i}"].changes[0]
        assert (change.id, change.file, change.line) == (f"r{i}", orch.spec.path, 4 + i)
        [(rid, record)] = gate.post[f"s{i}"].items()                 # only its own resource
        assert (rid, record.properties["size"]) == (f"r{i}", i)
        assert (record.file, record.line) == (orch.spec.path, 4 + i)
        assert live()[f"n{i}"]["size"] == i


def test_parallel_bounds_how_many_stages_run_at_once(make_orchestrator: Make,
                                                     engine: FakeEngine) -> None:
    text = "name: t\nenvironments: {dev: {}}\nresources:\n" + "".join(
        f"  r{i}: {{type: test:fake:Thing, stage: s{i}, properties: {{name: n{i}}}}}\n"
        for i in range(5))
    orch = make_orchestrator(text, parallel=2)
    report = orch.apply(orch.plan())
    assert len(report.outcomes) == 5 and engine.max_concurrent <= 2


def test_a_blocked_stage_applies_nothing_and_skips_its_dependents(make_orchestrator: Make) -> None:
    gate = StubGate(block_pre={"app"})
    orch = make_orchestrator(DAG_SPEC, gate=gate,
                             live_reader=lambda stage, ids, outputs: {})
    report = orch.apply(orch.plan())
    assert statuses(report)["app"] is StageStatus.BLOCKED
    assert report.outcome("web").reason == "it depends on stage 'app', which was blocked by a policy"
    assert report.blocked and set(live()) == {"net", "db", "api"}
    error = report.outcome("app").error
    assert isinstance(error, PolicyViolation) and error.phase is Phase.PRE


def test_an_unchanged_stage_is_judged_and_blocked_when_its_resources_violate(
        make_orchestrator: Make) -> None:
    """What a run keeps is judged, not only what it changes: an unchanged stage whose
    resources violate a mandatory rule is BLOCKED (its dependents skipped), so the run
    does not end green; an unchanged stage that passes stays UNCHANGED."""
    orch = make_orchestrator(DAG_SPEC)
    orch.apply(orch.plan())
    gate = StubGate(block_pre={"db"})
    changed = make_orchestrator(DAG_SPEC.replace("properties: {name: net}}",
                                                 "properties: {name: net, size: 3}}"),
                                gate=gate, live_reader=lambda stage, ids, outputs: {})
    plan = changed.plan()
    assert actions(plan) == {"net": "update", "app": "noop", "web": "noop", "db": "noop",
                             "api": "noop"}
    report = changed.apply(plan)
    assert statuses(report) == {"net": StageStatus.APPLIED, "app": StageStatus.UNCHANGED,
                                "web": StageStatus.UNCHANGED, "db": StageStatus.BLOCKED,
                                "api": StageStatus.SKIPPED}
    assert report.blocked
    assert [c.action for c in gate.pre["db"].changes] == [Action.NOOP]    # judged unchanged
    assert set(gate.pre) == {"net", "app", "web", "db"}


def test_a_post_stage_violation_rolls_the_stage_back(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    changed = make_orchestrator(SPEC.replace("size: 1", "size: 7"), gate=StubGate(block_post={"first"}),
                                live_reader=lambda stage, ids, outputs: {},
                                rollback_on_violation=True)
    report = changed.apply(changed.plan())
    assert statuses(report)["first"] is StageStatus.ROLLED_BACK
    assert live()["alpha"]["size"] == 1
    error = report.outcome("first").error
    assert isinstance(error, PolicyViolation) and error.phase is Phase.POST
    assert report.outcome("second").status is StageStatus.SKIPPED


def test_a_saved_plan_applies_once_and_refuses_when_the_state_moved(
        make_orchestrator: Make, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    write_plan(make_orchestrator(SPEC).plan(), plan_file)
    report = make_orchestrator(SPEC).apply(read_plan(plan_file), check_fresh=True)
    assert set(statuses(report).values()) == {StageStatus.APPLIED}

    write_plan(make_orchestrator(SPEC.replace("size: 1", "size: 2")).plan(), plan_file)
    moved = make_orchestrator(SPEC.replace("size: 1", "size: 3"))
    moved.apply(moved.plan())                               # someone applied meanwhile
    report = make_orchestrator(SPEC.replace("size: 1", "size: 2")).apply(
        read_plan(plan_file), check_fresh=True)
    assert statuses(report)["first"] is StageStatus.FAILED
    assert isinstance(report.failed, StalePlanError)
    assert live()["alpha"]["size"] == 3


def test_a_saved_plan_is_stale_when_its_resource_changed_in_the_cloud_since(
        make_orchestrator: Make, tmp_path: Path) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    plan_file = tmp_path / "plan.json"
    write_plan(make_orchestrator(SPEC.replace("size: 1", "size: 2")).plan(), plan_file)
    with FakeAdapter.cloud.transaction() as data:        # changed outside provision
        data["resources"]["test:fake:Thing|alpha"]["size"] = 9
    report = make_orchestrator(SPEC.replace("size: 1", "size: 2")).apply(
        read_plan(plan_file), check_fresh=True)
    assert isinstance(report.failed, StalePlanError)       # it showed 1 -> 2, not 9 -> 2
    assert live()["alpha"]["size"] == 9


LIST_SPEC = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: first, properties: {name: alpha}}
  b:
    type: test:fake:Other
    stage: second
    properties:
      name: beta
      members: ["${a.arn}", fixed]
"""


@pytest.mark.real_engine
def test_a_list_property_known_only_after_apply_is_re_planned_before_the_gate(
        make_orchestrator: Make) -> None:
    gate = StubGate()
    orch = make_orchestrator(LIST_SPEC, gate=gate, live_reader=lambda stage, ids, outputs: {})
    plan = orch.plan()
    planned = plan.stages[1].changes[0]
    assert planned.unknown == ["members.0"]                 # one path syntax, list index kept
    assert planned.after is not None and planned.after["members"] == [UNKNOWN, "fixed"]
    report = orch.apply(plan)
    assert set(statuses(report).values()) == {StageStatus.APPLIED}
    judged = gate.pre["second"].changes[0]                  # what the gate saw: re-planned
    assert judged.unknown == []
    assert judged.after is not None and judged.after["members"] == ["arn:fake:thing/alpha", "fixed"]
    assert live()["beta"]["members"] == ["arn:fake:thing/alpha", "fixed"]


@pytest.mark.real_engine
def test_apply_declares_the_plans_recorded_inputs_not_the_spec_of_the_moment(
        make_orchestrator: Make) -> None:
    plan = make_orchestrator(SPEC).plan()
    a = plan.stages[0].changes[0]
    assert a.inputs == {"name": "alpha", "size": 1, "tags": {"team": "core"}}
    assert str(plan.stages[1].changes[0].inputs["tags"]["ref"]) == "${a.arn}"  # type: ignore[index]
    # The spec says size 9 by now; the plan that was shown says 1: the plan is applied.
    report = make_orchestrator(SPEC.replace("size: 1", "size: 9")).apply(plan)
    assert set(statuses(report).values()) == {StageStatus.APPLIED}
    assert live()["alpha"]["size"] == 1
    assert live()["beta"]["tags"] == {"ref": "arn:fake:thing/alpha"}


def test_a_saved_plan_is_refused_when_a_planned_value_differs_not_only_its_action(
        make_orchestrator: Make, tmp_path: Path) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    plan_file = tmp_path / "plan.json"
    changed = SPEC.replace("size: 1", "size: 2")
    write_plan(make_orchestrator(changed).plan(), plan_file)
    data = json.loads(plan_file.read_text())
    a = data["stages"][0]["changes"][0]
    assert (a["id"], a["action"], a["after"]["size"], a["inputs"]["size"]) == ("a", "update", 2, 2)
    a["after"]["size"] = 7                       # the plan shows 7; the same action, update
    plan_file.write_text(json.dumps(data))
    report = make_orchestrator(changed).apply(read_plan(plan_file), check_fresh=True)
    assert statuses(report)["first"] is StageStatus.FAILED
    assert isinstance(report.failed, StalePlanError)
    assert "(a)" in report.failed.message
    assert live()["alpha"]["size"] == 1                               # nothing applied


def test_a_stage_is_previewed_early_and_that_preview_stands_only_with_the_same_upstream(
        make_orchestrator: Make) -> None:
    """Stages whose upstream stages have stacks are previewed beside them with the values
    the state holds; the early preview is used only when the plan gives the same values."""
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    engine = orch.engine
    assert isinstance(engine, FakeEngine)

    def previews() -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, kind, what, stack in engine.journal:
            if kind == "start" and what == "preview":
                counts[stack] = counts.get(stack, 0) + 1
        engine.journal.clear()
        return counts

    previews()
    noop = make_orchestrator(SPEC).plan()
    assert all(a == "noop" for a in actions(noop).values())
    assert previews() == {"t.dev.first": 1, "t.dev.second": 1, "t.dev.third": 1}

    renamed = make_orchestrator(SPEC.replace("name: alpha", "name: alpha2")).plan()
    # a is replaced: b's reference to a.arn is now known only after apply.
    b = next(c for s in renamed.stages for c in s.changes if c.id == "b")
    assert actions(renamed)["a"] == "replace" and b.unknown == ["tags.ref"]
    counts = previews()
    assert counts["t.dev.first"] == 1 and counts["t.dev.second"] == 2


@pytest.mark.real_engine
def test_an_update_after_a_plan_that_found_the_stack_as_recorded_reads_nothing_again(
        make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    changed = SPEC.replace("tags: {team: core}", "tags: {team: platform}")
    orch = make_orchestrator(changed)
    plan = orch.plan()
    assert [s.live_as_recorded for s in plan.stages] == [True, True, True]
    reads = sum(1 for op, *_ in FakeAdapter.cloud.calls() if op == "read")
    assert orch.apply(plan).failed is None
    assert sum(1 for op, *_ in FakeAdapter.cloud.calls() if op == "read") == reads
    assert live()["alpha"]["tags"] == {"team": "platform"}


@pytest.mark.real_engine
def test_a_plan_that_found_drift_makes_the_update_read_the_live_state_again(
        make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    with FakeAdapter.cloud.transaction() as data:        # changed outside provision
        data["resources"]["test:fake:Thing|alpha"]["tags"] = {"team": "someone-else"}
    orch = make_orchestrator(SPEC)
    plan = orch.plan()
    first = plan.stages[0]
    assert (first.name, first.live_as_recorded) == ("first", False)
    assert actions(plan)["a"] == "update"
    reads = sum(1 for op, *_ in FakeAdapter.cloud.calls() if op == "read")
    assert orch.apply(plan).failed is None
    assert sum(1 for op, *_ in FakeAdapter.cloud.calls() if op == "read") > reads
    assert live()["alpha"]["tags"] == {"team": "core"}


@pytest.mark.real_engine
def test_a_new_resource_in_an_existing_stack_is_known_by_its_declared_inputs(
        make_orchestrator: Make) -> None:
    one = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: s, properties: {name: alpha}}
"""
    orch = make_orchestrator(one)
    orch.apply(orch.plan())
    more = one + """  n1: {type: test:fake:Thing, stage: s, properties: {name: new1}}
  n2:
    type: test:fake:Other
    stage: s
    properties: {name: "n2-${n1.name}", tags: {arn: "${n1.arn}", old: "${a.arn}"}}
"""
    plan = make_orchestrator(more).plan()
    after = {c.id: c.after for s in plan.stages for c in s.changes}
    assert after["n2"] is not None
    assert after["n2"]["name"] == "n2-new1"                  # n1's declared input
    assert after["n2"]["tags"] == {"arn": UNKNOWN, "old": "arn:fake:thing/alpha"}
