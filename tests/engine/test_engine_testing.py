"""FakeEngine: the in-memory engine the orchestration tests run on."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from provision.engine.protocol import (Declared, DestroyRequest, Engine, LockHolder, PendingKind,
                                       PendingOperation, PreviewRequest, RefreshRequest,
                                       StackProgram, UpRequest)
from provision.engine.runner import StackRunner
from provision.engine.testing import FakeEngine
from provision.errors import EngineError, StackLockedError, StageFailedError
from provision.plan.model import UNKNOWN
from provision.spec.model import Reference, Template
from provision.vocabulary import StepOp
from providers.testing import FakeAdapter

THING = "providers.testing:FakeThing"


def decl(rid: str, **inputs: object) -> Declared:
    return Declared(id=rid, type="test:fake:Thing", adapter=THING, inputs=inputs,
                    outputs=("arn", "created_serial"), readable=("arn", "name", "size", "tags"))


@pytest.fixture(autouse=True)
def _clean_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVISION_FAKE_CLOUD_FILE", raising=False)
    FakeAdapter.cloud.reset()


def test_both_engines_implement_the_protocol() -> None:
    assert isinstance(FakeEngine(), Engine)
    assert issubclass(StackRunner, Engine)


def test_preview_marks_values_of_resources_still_to_create_unknown_then_up_resolves_them() -> None:
    engine = FakeEngine()
    program = StackProgram((decl("a", name="alpha"),
                            decl("b", name=Template(("b-", Reference("resource", "a", "arn"))),
                                 tags={"up": UNKNOWN})))
    steps = engine.preview(PreviewRequest("s", program)).steps
    assert [(s.op, s.resource) for s in steps] == [(StepOp.CREATE, "a"), (StepOp.CREATE, "b")]
    assert steps[1].new_inputs == {"name": UNKNOWN, "tags": {"up": UNKNOWN}}
    assert engine.snapshot("s") is None                       # a preview changes nothing

    program = StackProgram((program.resources[0],
                            decl("b", name=Template(("b-", Reference("resource", "a", "arn"))))))
    result = engine.up(UpRequest("s", program))
    assert result.outputs["b"]["name"] == "b-arn:fake:thing/alpha"
    assert result.summary == {"create": 2}
    again = engine.preview(PreviewRequest("s", program)).steps
    assert [s.op for s in again] == [StepOp.SAME, StepOp.SAME]


def test_update_replace_and_delete_follow_the_schema() -> None:
    engine = FakeEngine()
    engine.up(UpRequest("s", StackProgram((decl("a", name="alpha", size=1), decl("b", name="beta")))))
    steps = engine.up(UpRequest("s", StackProgram((decl("a", name="alpha2", size=1),)))).steps
    ops = {s.resource: s.op for s in steps}
    assert ops == {"a": StepOp.REPLACE, "b": StepOp.DELETE}
    assert steps[0].replace_keys == ("name",)
    assert {rid for (_, rid) in FakeAdapter.cloud.resources()} == {"alpha2"}
    steps = engine.up(UpRequest("s", StackProgram((decl("a", name="alpha2", size=3),)))).steps
    assert [s.op for s in steps] == [StepOp.UPDATE]


def test_adapter_failure_names_stack_and_resource_and_keeps_what_finished() -> None:
    engine = FakeEngine()
    engine.fail_resource("b", "quota exceeded")
    with pytest.raises(StageFailedError) as caught:
        engine.up(UpRequest("s", StackProgram((decl("a", name="alpha"), decl("b", name="beta")))))
    assert caught.value.resource == "b"
    assert "b (test:fake:Thing): create failed: quota exceeded" in caught.value.message
    snap = engine.snapshot("s")
    assert snap is not None and set(snap.inputs) == {"a"}


def test_locks_pending_operations_and_injected_failures_are_visible() -> None:
    engine = FakeEngine()
    holder = LockHolder("alice", "build-7", 4242, datetime(2026, 1, 1, tzinfo=timezone.utc))
    engine.up(UpRequest("s", StackProgram((decl("a", name="alpha"),))))
    engine.lock("s", holder)
    engine.add_pending("s", PendingOperation("b", "test:fake:Thing", PendingKind.CREATING))
    snap = engine.snapshot("s")
    assert snap is not None and snap.lock == holder
    assert snap.pending == (PendingOperation("b", "test:fake:Thing", PendingKind.CREATING),)
    with pytest.raises(StackLockedError, match="alice on build-7 \\(pid 4242\\) since 2026"):
        engine.up(UpRequest("s", StackProgram()))
    engine.preview(PreviewRequest("s", StackProgram()))       # reading needs no lock
    engine.unlock("s")
    engine.fail("s", "backend unreachable", operation="refresh")
    with pytest.raises(StageFailedError, match="backend unreachable"):
        engine.refresh(RefreshRequest("s"))
    engine.destroy(DestroyRequest("s"))
    assert engine.snapshot("s") is None and FakeAdapter.cloud.resources() == {}
    with pytest.raises(EngineError, match="does not exist"):
        engine.destroy(DestroyRequest("s"))


def test_cancel_stops_a_held_update_before_its_next_resource() -> None:
    engine = FakeEngine()
    engine.hold("s")
    engine.cancel("s")
    with pytest.raises(EngineError, match="cancelled"):
        engine.up(UpRequest("s", StackProgram((decl("a", name="alpha"),))))
    assert FakeAdapter.cloud.resources() == {}
