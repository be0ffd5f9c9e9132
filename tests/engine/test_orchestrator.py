"""The orchestrator on the real Pulumi engine, over the file-backed fake cloud."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from fake_cloud import cloud, snapshot
from provision.engine.orchestrator import Orchestrator
from provision.errors import StageFailedError
from provision.plan.model import UNKNOWN, Action

pytestmark = pytest.mark.engine

SPEC = """
name: t
environments:
  dev: {}
resources:
  c:
    type: test:file:Thing
    stage: third
    properties:
      name: "c-${b.arn}"
  a:
    type: test:file:Thing
    stage: first
    properties:
      name: alpha
      size: 1
      tags: {team: core}
  b:
    type: test:file:Thing
    stage: second
    properties:
      name: beta
      ref: "${a.arn}"
"""

Make = Callable[..., Orchestrator]


def actions(plan: Any) -> dict[str, str]:
    return {c.id: c.action.value for s in plan.stages for c in s.changes}


def items_by_name() -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in snapshot()["items"].values()}


def test_plan_orders_stages_by_reference_and_marks_unknowns(make_orchestrator: Make) -> None:
    plan = make_orchestrator(SPEC).plan()
    assert [s.name for s in plan.stages] == ["first", "second", "third"]
    assert actions(plan) == {"a": "create", "b": "create", "c": "create"}
    b = plan.stages[1].changes[0]
    assert b.after is not None and b.after["ref"] is UNKNOWN
    assert "ref" in b.unknown
    assert plan.stages[0].changes[0].after == {"name": "alpha", "size": 1, "tags": {"team": "core"}}
    assert snapshot()["items"] == {}  # planning changed nothing


def test_apply_then_plan_is_clean_then_update_replace_and_destroy(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    report = orch.apply(orch.plan())
    assert [o.status for o in report.outcomes] == ["applied", "applied", "applied"]
    items = items_by_name()
    assert items["beta"]["ref"] == "arn:test:alpha:z1"          # cross-stage value
    assert "c-arn:test:beta:z1" in items                         # template across stages
    assert all(a == "noop" for a in actions(make_orchestrator(SPEC).plan()).values())

    changed = SPEC.replace("size: 1", "size: 2").replace("name: beta", "name: beta2")
    plan = make_orchestrator(changed).plan()
    acts = actions(plan)
    assert acts["a"] == "update" and acts["b"] == "replace"
    diff = {d.path: d for d in plan.stages[0].changes[0].diffs}
    assert (diff["size"].before, diff["size"].after) == (1, 2)
    assert any(d.path == "name" and d.replaces for d in plan.stages[1].changes[0].diffs)
    make_orchestrator(changed).apply(plan)
    assert items_by_name()["alpha"]["size"] == 2 and "beta2" in items_by_name()

    destroyed = make_orchestrator(changed).destroy()
    assert [o.stage for o in destroyed.outcomes] == ["third", "second", "first"]
    assert snapshot()["items"] == {}


def test_drift_out_of_band_delete_is_planned_as_create(make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    orch.apply(orch.plan())
    with cloud() as data:
        data["items"] = {k: v for k, v in data["items"].items() if v["name"] != "alpha"}
    assert actions(make_orchestrator(SPEC).plan())["a"] == "create"


def test_resource_removed_from_spec_is_planned_as_delete(make_orchestrator: Make) -> None:
    two = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:file:Thing, stage: s, properties: {name: alpha}}
  b: {type: test:file:Thing, stage: s, properties: {name: beta}}
"""
    orch = make_orchestrator(two)
    orch.apply(orch.plan())
    one = two.replace("  b: {type: test:file:Thing, stage: s, properties: {name: beta}}\n", "")
    plan = make_orchestrator(one).plan()
    assert actions(plan) == {"a": "noop", "b": "delete"}
    assert plan.stages[0].changes[1].type == "test:file:Thing"


def test_cloud_error_fails_stage_cleanly_and_keeps_earlier_stages(make_orchestrator: Make) -> None:
    broken = SPEC.replace("ref: \"${a.arn}\"", "ref: \"${a.arn}\"\n      fail: true")
    orch = make_orchestrator(broken)
    report = orch.apply(orch.plan())
    assert [o.status for o in report.outcomes] == ["applied", "failed", "skipped"]
    error = report.failed
    assert isinstance(error, StageFailedError)
    assert "b (test:file:Thing): create failed" in error.message
    assert "InvalidRequest" in error.message and "Traceback" not in error.message
    assert error.hint == "remove `fail: true`"
    assert set(items_by_name()) == {"alpha"}            # stage one stays applied
    assert actions(make_orchestrator(SPEC).plan())["a"] == "noop"  # and recorded in state


def test_secret_property_never_reaches_state_in_plaintext(make_orchestrator: Make,
                                                          tmp_path: Any) -> None:
    spec = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:file:Thing, stage: s, properties: {name: alpha, password: hunter2-very-secret}}
"""
    orch = make_orchestrator(spec)
    orch.apply(orch.plan())
    state_text = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.json"))
    assert "hunter2-very-secret" not in state_text
    assert items_by_name()["alpha"]["password"] == "hunter2-very-secret"
