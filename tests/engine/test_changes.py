"""The plan's changes from the engine's steps: an update that brings a drifted resource
back shows each property as ``live -> spec`` (the refreshed state), in the model and in
the human and JSON views."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest
from rich.console import Console

from provision.engine.changes import stage_changes
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import Step
from provision.plan.model import UNKNOWN, Action
from provision.plan.render_human import render_plan
from provision.plan.render_json import plan_to_json
from provision import spec as specs
from provision.vocabulary import StepOp
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: drifted
environments:
  dev: {}
resources:
  a:
    type: test:fake:Thing
    properties: {name: a, size: 2, tags: {team: core}}
  b:
    type: test:fake:Thing
    properties: {name: b}
"""


def _changes(step: Step) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(SPEC)
        resolved = specs.resolve(specs.load(path), "dev")
    return stage_changes(resolved, "test", ["a", "b"], [step], fake_registry(), {})


def test_an_update_shows_the_live_value_of_what_it_changes() -> None:
    spec_inputs = {"name": "a", "size": 2, "tags": {"team": "core"}}
    live = {"name": "a", "size": 5, "tags": {"team": "intruder"}, "arn": "arn:fake:thing/a",
            "created_serial": 1}
    step = Step(StepOp.UPDATE, "a", dict(spec_inputs), dict(spec_inputs), (), live)
    [a, b] = _changes(step)
    assert a.action is Action.UPDATE and b.action is Action.NOOP
    assert a.before == {"name": "a", "size": 5, "tags": {"team": "intruder"}}
    assert a.after == spec_inputs
    assert [(d.path, d.before, d.after) for d in a.diffs] == [
        ("size", 5, 2), ("tags", {"team": "intruder"}, {"team": "core"})]


def test_the_engines_diff_keys_choose_what_shows_live() -> None:
    spec_inputs = {"name": "a", "size": 2, "tags": {"team": "core"}}
    live = {"name": "a", "size": 5, "tags": {"team": "other"}}
    step = Step(StepOp.UPDATE, "a", dict(spec_inputs), dict(spec_inputs), (), live, ("size",))
    [a, _] = _changes(step)
    assert [(d.path, d.before, d.after) for d in a.diffs] == [("size", 5, 2)]


def test_without_live_state_or_for_unknowns_the_recorded_inputs_stay() -> None:
    old = {"name": "a", "size": 2}
    new = {"name": "a", "size": 3, "tags": UNKNOWN}
    [a, _] = _changes(Step(StepOp.UPDATE, "a", dict(old), dict(new)))
    assert a.before == old
    live = {"name": "a", "size": 2, "tags": {"x": "y"}}
    [a, _] = _changes(Step(StepOp.UPDATE, "a", dict(old), dict(new), (), live))
    assert a.before == old     # 'tags' was never set by the spec: no live value shown
    assert [(d.path, d.before) for d in a.diffs] == [("size", 2), ("tags", None)]


@pytest.mark.real_engine
def test_plan_after_drift_lists_each_property_to_bring_back(
        make_orchestrator: Callable[..., Orchestrator]) -> None:
    report = make_orchestrator(SPEC).apply(make_orchestrator(SPEC).plan())
    assert report.failed is None
    with FakeAdapter.cloud.transaction() as data:
        data["resources"]["test:fake:Thing|a"].update(size=5, tags={"team": "intruder"})
    plan = make_orchestrator(SPEC).plan()
    [a] = [c for s in plan.stages for c in s.changes if c.action is not Action.NOOP]
    assert (a.id, a.action) == ("a", Action.UPDATE)
    assert [(d.path, d.before, d.after) for d in a.diffs] == [
        ("size", 5, 2), ("tags", {"team": "intruder"}, {"team": "core"})]
    console = Console(record=True, width=200, color_system=None)
    render_plan(plan, console)
    text = console.export_text()
    assert "~ size:       5 -> 2" in text
    assert '~ tags.team:  "intruder" -> "core"' in text
    doc = plan_to_json(plan, fake_registry())
    [change] = [c for s in doc["stages"] for c in s["changes"] if c["id"] == "a"]
    assert change["before"]["size"] == 5 and change["after"]["size"] == 2
