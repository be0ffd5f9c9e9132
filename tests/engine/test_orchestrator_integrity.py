"""No unknown value reaches the cloud, and an interrupted stage never starves its dependents.

An update interrupted at the wrong moment leaves a stage's stack with its
resources recorded but its exported outputs empty. Downstream stages then read
upstream values from the resources' own recorded outputs, the stage's exports
are written again by the next apply, and a reference that still has no value
fails the apply naming it, before anything of that resource is sent.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from provision.engine.declare import stage_declaration
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import Engine, RunResult, StackSnapshot, UpRequest
from provision.engine.runner import StackRunner
from provision.engine.testing import FakeEngine
from provision.errors import UnresolvedReferenceError
from provision.plan.model import UNKNOWN
from provision import spec as specs
from provision.vocabulary import StageStatus
from providers.testing import FakeAdapter, fake_registry

SPEC = """
name: t
environments:
  dev: {}
resources:
  a:
    type: test:fake:Thing
    stage: first
    properties:
      name: alpha
  b:
    type: test:fake:Other
    stage: second
    properties:
      name: beta
      tags: {ref: "${a.arn}"}
"""

Make = Callable[..., Orchestrator]


def live() -> dict[str, dict[str, Any]]:
    """The fake cloud by physical name (``alpha`` is resource a, ``beta`` is b)."""
    return {name: props for (_, name), props in FakeAdapter.cloud.resources().items()}


def lose_exports(engine: Engine, stack: str) -> None:
    """Leave ``stack``'s resources recorded but its exported outputs empty, as an
    update interrupted before it wrote them does."""
    if isinstance(engine, FakeEngine):
        engine.lose_exports(stack)
        return
    assert isinstance(engine, StackRunner)
    deployment = engine.export(stack)
    assert deployment is not None
    for res in deployment["resources"]:
        if res.get("type") == "pulumi:pulumi:Stack":
            res["outputs"] = {}
    engine.import_(stack, deployment)


@pytest.mark.real_engine
def test_a_stage_with_lost_exports_still_feeds_its_dependents(
        make_orchestrator: Make, engine: Engine) -> None:
    # The first stage applied, then its exports were lost (an interrupted update).
    make_orchestrator(SPEC, selection={"a"}).apply(make_orchestrator(SPEC, selection={"a"}).plan())
    lose_exports(engine, "t.dev.first")
    snap = engine.snapshot("t.dev.first")
    assert snap is not None and "a" not in snap.outputs and "a" in snap.recorded
    assert not snap.exports_cover()

    orch = make_orchestrator(SPEC)
    plan = orch.plan()
    b = next(c for s in plan.stages for c in s.changes if c.id == "b")
    arn = live()["alpha"]["arn"]
    assert b.after is not None and b.after["tags"] == {"ref": arn}   # known, not UNKNOWN
    report = orch.apply(plan)
    assert report.failed is None
    assert live()["beta"]["tags"] == {"ref": arn}                         # the tag reached the cloud
    refreshed = engine.snapshot("t.dev.first")
    assert refreshed is not None and refreshed.exports_cover()        # exports written again
    assert not make_orchestrator(SPEC).plan().has_changes()


class _Forgetful(FakeEngine):
    """A fake whose first stage records its resource but never any of its values
    (not in its exports, not with the resource, not in an update's outputs)."""

    def snapshot(self, stack: str) -> StackSnapshot | None:
        snap = super().snapshot(stack)
        if snap is None or stack != "t.dev.first":
            return snap
        return StackSnapshot(outputs={}, digest=snap.digest, inputs={}, recorded={})

    def up(self, request: UpRequest) -> RunResult:
        result = super().up(request)
        if request.stack == "t.dev.first":
            return RunResult(result.steps, {}, result.summary)
        return result


def test_an_apply_refuses_to_send_a_value_that_is_still_unknown(tmp_path: Any) -> None:
    FakeAdapter.cloud.reset()
    registry = fake_registry()
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    raw = specs.load(spec_file)
    specs.validate(raw, registry)
    resolved = specs.resolve(raw, "dev")
    from provision.graph.stages import build_stages
    from provision.provider import CloudConfig

    engine = _Forgetful(configs={"test": CloudConfig("test", {"zone": "z1"})})
    orch = Orchestrator(resolved, resolved.environments["dev"], build_stages(resolved),
                        registry, engine)
    first = Orchestrator(resolved, resolved.environments["dev"], build_stages(resolved),
                         registry, engine, selection={"a"})
    first.apply(first.plan())
    report = orch.apply(orch.plan())
    outcome = report.outcome("second")
    assert outcome.status is StageStatus.FAILED
    assert isinstance(outcome.error, UnresolvedReferenceError)
    message = outcome.error.render()
    assert "${a.arn}" in message and "'b'" in message and "spec.yaml:" in message
    assert "beta" not in live()                                        # nothing was sent


def test_declaring_for_apply_names_the_unresolved_reference(tmp_path: Any) -> None:
    registry = fake_registry()
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    raw = specs.load(spec_file)
    specs.validate(raw, registry)
    resolved = specs.resolve(raw, "dev")
    # At plan time a missing upstream value is UNKNOWN ...
    program = stage_declaration(resolved, ["b"], registry, {"a": None})
    assert program.resources[0].inputs["tags"]["ref"] is UNKNOWN
    # ... at apply time it is an error naming resource, reference and location.
    with pytest.raises(UnresolvedReferenceError) as caught:
        stage_declaration(resolved, ["b"], registry, {"a": {"id": "x"}}, known=True)
    assert caught.value.resource == "b" and caught.value.reference == "${a.arn}"
    assert f"{spec_file}:" in str(caught.value)
    # A known value passes through.
    ok = stage_declaration(resolved, ["b"], registry, {"a": {"arn": "arn:a"}}, known=True)
    assert ok.resources[0].inputs["tags"] == {"ref": "arn:a"}
