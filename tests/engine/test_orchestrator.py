"""The orchestrator on the real Pulumi engine, over the file-backed fake cloud."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from provision.engine.orchestrator import Hooks, Orchestrator
from provision.errors import ProtectedResourceError, StageFailedError
from provision.plan.model import UNKNOWN
from providers.testing import FakeAdapter

pytestmark = pytest.mark.engine

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


def test_apply_then_plan_is_clean_then_update_replace_and_destroy(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    report = orch.apply(orch.plan())
    assert [o.status for o in report.outcomes] == ["applied", "applied", "applied"]
    assert live()["beta"]["tags"] == {"ref": "arn:fake:thing/alpha"}  # cross-stage value
    assert f"c-{live()['beta']['created_serial']}" in live()            # template across stages
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
