"""No unknown value reaches the cloud, and an interrupted stage never starves its dependents.

An update interrupted at the wrong moment leaves a stage's stack with its
resources recorded but its exported outputs empty. Downstream stages then read
upstream values from the resources' own recorded outputs, the stage's exports
are written again by the next apply, and a reference that still has no value
fails the apply naming it, before anything of that resource is sent.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from rich.console import Console

from provision.engine.declare import stage_declaration
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import Engine, RunResult, StackSnapshot, UpRequest
from provision.engine.runner import StackRunner
from provision.engine.secrets import secret_properties
from provision.engine.testing import FakeEngine
from provision.errors import CloudError, LiveCheckError, UnresolvedReferenceError
from provision.plan.model import UNKNOWN
from provision.plan.render_human import render_plan
from provision.plan.render_json import plan_to_json
from provision.plan.saved import write_plan
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


class StubGate:
    """A gate that passes everything."""

    def check_pre(self, stage_plan: Any, plan: Any) -> Any:
        return type("Verdict", (), {"blocking": False, "results": []})()

    def check_post(self, stage: str, live: Any) -> Any:
        return type("Verdict", (), {"blocking": False, "results": []})()


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


SECRET = "hunter2-do-not-leak-7731"
SECRET_SPEC = f"""
name: t
environments:
  dev: {{}}
resources:
  a:
    type: test:fake:Thing
    stage: first
    properties:
      name: alpha
      secret_value: {SECRET}
  b:
    type: test:fake:Other
    stage: second
    properties:
      name: beta
      tags: {{copy: "pre-${{a.secret_value}}"}}
"""


def _text_of(path: Path) -> str:
    """Every file under ``path`` but the spec and the fake cloud (which hold the value)."""
    return "\n".join(p.read_text(errors="replace") for p in sorted(path.rglob("*"))
                     if p.is_file() and p.name not in ("cloud.json", "spec.yaml"))


def _views(plan: Any, tmp_path: Path) -> str:
    out = io.StringIO()
    render_plan(plan, Console(file=out, width=200))
    saved = tmp_path / "plan.json"
    write_plan(plan, saved, fake_registry())
    return out.getvalue() + json.dumps(plan_to_json(plan, fake_registry())) + saved.read_text()


@pytest.mark.real_engine
def test_a_secret_referenced_across_stages_stays_secret_everywhere(
        make_orchestrator: Make, tmp_path: Path) -> None:
    # Before anything exists, the downstream value is an unknown secret (no crash).
    first = make_orchestrator(SECRET_SPEC).plan()
    b = next(c for s in first.stages for c in s.changes if c.id == "b")
    assert "tags" in b.secrets
    assert {"tags", "tags.copy"} & set(b.unknown)     # the engine may mark the whole secret map
    views = _views(first, tmp_path)
    assert SECRET not in views and "(sensitive)" in views and "$sensitive" in views

    report = make_orchestrator(SECRET_SPEC).apply(first)
    assert report.failed is None
    assert live()["beta"]["tags"] == {"copy": f"pre-{SECRET}"}        # the cloud got the value

    again = make_orchestrator(SECRET_SPEC).plan()
    assert not again.has_changes()
    b = next(c for s in again.stages for c in s.changes if c.id == "b")
    assert "tags" in b.secrets
    assert SECRET not in _views(again, tmp_path)
    assert SECRET not in _text_of(tmp_path)                            # state, work dir, plans


def test_secrets_derive_through_references_and_templates(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SECRET_SPEC + """
  c:
    type: test:fake:Other
    stage: third
    properties:
      name: gamma
      members: ["${b.tags.copy}"]
      tags: {plain: "${a.arn}"}
""")
    registry = fake_registry()
    raw = specs.load(spec_file)
    specs.validate(raw, registry)
    secrets = secret_properties(specs.resolve(raw, "dev"), registry)
    assert secrets["a"] == {"secret_value"}
    assert secrets["b"] == {"secret_value", "tags"}
    assert secrets["c"] == {"secret_value", "members"}                # transitively; arn is not


class _FlakyReader:
    """A live reader whose reads of ``stage`` fail ``failures`` times with a cloud error."""

    def __init__(self, stage: str, failures: int) -> None:
        self.stage, self.failures, self.calls = stage, failures, 0

    def __call__(self, stage: str, ids: list[str], outputs: Any) -> dict[str, Any]:
        if stage == self.stage:
            self.calls += 1
            if self.calls <= self.failures:
                raise CloudError("GetBucket answered 503 SlowDown", resource="a",
                                 resource_type="test:fake:Thing")
        return {}


def test_a_transient_live_read_failure_is_retried_and_the_stage_applied(
        make_orchestrator: Make) -> None:
    reader = _FlakyReader("first", failures=2)
    orch = make_orchestrator(SPEC, gate=StubGate(), live_reader=reader, live_read_backoff=0.001)
    report = orch.apply(orch.plan())
    assert report.failed is None and reader.calls == 3
    assert report.outcome("first").status is StageStatus.APPLIED


def test_a_live_read_that_keeps_failing_reports_applied_but_unverified(
        make_orchestrator: Make) -> None:
    reader = _FlakyReader("first", failures=99)
    orch = make_orchestrator(SPEC, gate=StubGate(), live_reader=reader, live_read_backoff=0.001)
    report = orch.apply(orch.plan())
    first = report.outcome("first")
    assert first.status is StageStatus.UNVERIFIED and reader.calls == 3
    assert isinstance(first.error, LiveCheckError)
    text = first.error.render()
    assert "stage 'first' applied; live check failed" in text
    assert "spec.yaml:" in text and "503 SlowDown" in text            # stage, file:line, cause
    assert "alpha" in live()                                           # the apply itself happened
    assert report.outcome("second").status is StageStatus.SKIPPED      # its dependents wait
    assert "beta" not in live()
