"""The gate after a stage: which live records come from the update's own read-backs,
which are read live again (``provision.engine.live``, ``StageApply.verify``)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Callable

import pytest

from provision.engine.hooks import Hooks
from provision.engine.live import read_back_records, read_live
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import MASKED_SECRET, RunResult, Step
from provision.plan.model import Live
from provision.provider import CloudConfig
from provision.vocabulary import StageStatus, StepOp
from providers.testing import FakeAdapter, fake_registry

Make = Callable[..., Orchestrator]

CONFIGS = {"test": CloudConfig("test", {"zone": "z1"})}

SPEC = """
name: t
environments: {dev: {}}
resources:
  a: {type: test:fake:Thing, stage: one, properties: {name: alpha, size: 1, secret_value: hush}}
  b: {type: test:fake:Thing, stage: one, properties: {name: beta, size: 1}}
  c: {type: test:fake:Other, stage: one, properties: {name: gamma, tags: {k: v}}}
  d: {type: test:fake:Thing, stage: one, properties: {name: delta}}
"""


class _Verdict:
    blocking = False
    results: list[Any] = []


class RecordingGate:
    """Passes everything; keeps the live records each stage's gate after was given."""

    def __init__(self) -> None:
        self.post: dict[str, Live] = {}

    def check_pre(self, stage_plan: Any, plan: Any) -> _Verdict:
        return _Verdict()

    def check_post(self, stage: str, live: Live) -> _Verdict:
        self.post[stage] = dict(live)
        return _Verdict()


class CountingReader:
    """The product's live read (``read_live`` through the adapters), recording the ids
    it is asked to read."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.orch: Orchestrator | None = None
        self._lock = threading.Lock()

    def __call__(self, stage: str, ids: list[str], outputs: Any) -> Live:
        assert self.orch is not None
        with self._lock:
            self.asked.append(list(ids))
        return read_live(self.orch.spec, self.orch.registry, CONFIGS, ids, outputs)


def gated(make: Make, text: str, **kwargs: Any) -> tuple[Orchestrator, RecordingGate,
                                                          CountingReader]:
    gate, reader = RecordingGate(), CountingReader()
    orch = make(text, gate=gate, live_reader=reader, **kwargs)
    reader.orch = orch
    return orch, gate, reader


def everything_read(orch: Orchestrator, stage: str) -> Live:
    """Every resource of ``stage`` read live now, as the gate after used to."""
    snap = orch.engine.snapshot(orch.stack_name(stage))
    assert snap is not None
    return read_live(orch.spec, orch.registry, CONFIGS, orch.stages.stage(stage).resources,
                     snap.outputs)


def reads() -> int:
    return sum(1 for op, _, _ in FakeAdapter.cloud.calls() if op == "read")


def test_a_created_stage_is_judged_on_its_read_backs_and_read_again_nowhere(
        make_orchestrator: Make) -> None:
    orch, gate, reader = gated(make_orchestrator, SPEC)
    report = orch.apply(orch.plan())
    assert report.outcome("one").status is StageStatus.APPLIED
    assert reader.asked == [["a"]]              # the one holding a secret, read live
    assert reads() == 1                         # no other adapter read happened at all
    judged = gate.post["one"]
    assert list(judged) == ["a", "b", "c", "d"]
    assert judged == everything_read(orch, "one")    # the same records a live read gives
    assert judged["a"].properties["secret_value"] == "hush"    # as the adapter reads it
    assert judged["d"].properties["size"] == 1                 # filled in by the cloud
    assert (judged["b"].file, judged["b"].line) == (orch.spec.path, 6)


@pytest.mark.real_engine
def test_only_unchanged_resources_are_read_live_after_an_update(make_orchestrator: Make) -> None:
    first = make_orchestrator(SPEC)
    first.apply(first.plan())
    changed = SPEC.replace("name: beta, size: 1", "name: beta, size: 5") \
        .replace("name: gamma,", "name: epsilon,")     # b updated, c replaced, a and d same
    changed += "  e: {type: test:fake:Thing, stage: one, properties: {name: eta, secret_value: psst}}\n"
    orch, gate, reader = gated(make_orchestrator, changed)
    report = orch.apply(orch.plan())
    assert report.outcome("one").status is StageStatus.APPLIED
    assert reader.asked == [["a", "d", "e"]]    # the unchanged ones and the secret one, live
    judged = gate.post["one"]
    assert list(judged) == ["a", "b", "c", "d", "e"]
    assert judged == everything_read(orch, "one")
    assert judged["e"].properties["secret_value"] == "psst"     # as the adapter reads it
    assert judged["b"].properties["size"] == 5 and judged["c"].properties["name"] == "epsilon"
    assert judged["c"].properties["size"] == 1                 # filled in by the cloud


def test_an_unchanged_resource_that_drifted_during_the_update_is_judged_as_it_is_now(
        make_orchestrator: Make) -> None:
    first = make_orchestrator(SPEC)
    first.apply(first.plan())

    def drift(stage: str, step: Step) -> None:
        """Someone resizes ``delta`` after the update's refresh read it."""
        if step.resource == "b":
            with FakeAdapter.cloud.transaction() as data:
                data["resources"]["test:fake:Thing|delta"]["size"] = 9

    orch, gate, reader = gated(make_orchestrator,
                               SPEC.replace("name: beta, size: 1", "name: beta, size: 5"),
                               hooks=Hooks(step=drift))
    orch.apply(orch.plan())
    assert reader.asked == [["a", "c", "d"]]
    assert gate.post["one"]["d"].properties["size"] == 9          # not the update's 1
    assert gate.post["one"]["b"].properties["size"] == 5


def test_a_type_whose_adapter_does_not_read_back_is_read_live_even_when_created(
        make_orchestrator: Make) -> None:
    orch, gate, reader = gated(make_orchestrator, SPEC)
    other = orch.registry.get("test:fake:Other")
    other.schema = replace(other.schema, read_back=False)
    orch.apply(orch.plan())
    assert reader.asked == [["a", "c"]]
    assert gate.post["one"] == everything_read(orch, "one")


def test_read_back_records_need_a_read_back_step_what_it_wrote_and_an_exported_id(
        make_orchestrator: Make) -> None:
    orch = make_orchestrator(SPEC)
    registry = fake_registry()
    outputs = {rid: {"id": f"id-{rid}"} for rid in ("a", "b", "c")}
    wrote = {rid: {"name": rid, "size": 2} for rid in ("a", "b", "c")}

    def taken(*steps: tuple[StepOp, str], out: dict[str, Any] = outputs,
              written: dict[str, Any] = wrote) -> list[str]:
        result = RunResult([Step(op, rid, None, None) for op, rid in steps], {}, {},
                           written=written)
        return sorted(read_back_records(orch.spec, registry, ["a", "b", "c"], result, out))

    assert taken() == []                                         # steps unknown: read all
    assert taken((StepOp.SAME, "a"), (StepOp.CREATE, "b"), (StepOp.UPDATE, "c")) == ["b", "c"]
    assert taken((StepOp.REPLACE, "a"), (StepOp.CREATE_REPLACEMENT, "a"),
                 (StepOp.DELETE_REPLACED, "a")) == ["a"]         # Pulumi's replacement
    assert taken((StepOp.IMPORT, "a")) == ["a"]
    assert taken((StepOp.DELETE_REPLACED, "a"), (StepOp.READ, "b"),
                 (StepOp.REFRESH, "c")) == []
    assert taken((StepOp.CREATE, "a"), out={"a": {"name": "a"}}) == []    # no id exported
    assert taken((StepOp.CREATE, "a"), (StepOp.CREATE, "b"), written={"a": {}}) == ["a"]
    assert taken((StepOp.CREATE, "a"), (StepOp.CREATE, "b"), written={
        "a": {"tags": {"k": MASKED_SECRET}}, "b": {"secret_value": MASKED_SECRET}}) == []
    record = read_back_records(orch.spec, registry, ["a"],
                               RunResult([Step(StepOp.CREATE, "a", None, None)], {}, {},
                                         written=wrote), outputs)["a"]
    assert record.type == "test:fake:Thing" and record.properties == {"name": "a", "size": 2, "tags": None, "members": None,
                                 "secret_value": None, "arn": None, "created_serial": None}
    assert (record.file, record.line) == (orch.spec.path, 5)
