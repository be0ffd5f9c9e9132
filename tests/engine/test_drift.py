"""Drift detection over the in-memory engine and the fake cloud: changed properties
(expected vs actual), deletions, secrets masked, cloud-chosen values ignored."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from provision.engine.drift import DriftReport, StageTarget, detect
from provision.engine.protocol import Declared, StackProgram, UpRequest
from provision.engine.testing import FakeEngine
from provision.provider import CloudConfig
from provision.vocabulary import DriftKind
from providers.testing import FakeAdapter, fake_registry

TYPE = "test:fake:Thing"
STACK = "s.dev.app"


@pytest.fixture(autouse=True)
def clean_cloud() -> Iterator[None]:
    FakeAdapter.cloud.reset()
    yield
    FakeAdapter.cloud.reset()


def _declared(rid: str, inputs: dict[str, Any]) -> Declared:
    registry = fake_registry()
    schema = registry.schema(TYPE)
    return Declared(rid, TYPE, registry.ref(TYPE), inputs,
                    secret=frozenset(k for k, p in schema.properties.items() if p.secret),
                    outputs=tuple(schema.outputs), readable=tuple(sorted(schema.readable())))


def _engine() -> FakeEngine:
    engine = FakeEngine(configs={"test": CloudConfig("test")})
    program = StackProgram((
        _declared("a", {"name": "a", "size": 2, "tags": {"team": "core"}}),
        _declared("b", {"name": "b"}),
        _declared("c", {"name": "c", "secret_value": "hush"}),
    ))
    engine.up(UpRequest(STACK, program))
    return engine


def _cloud(change: Any) -> None:
    with FakeAdapter.cloud.transaction() as data:
        change(data["resources"])


def _detect(engine: FakeEngine) -> DriftReport:
    targets = [StageTarget("app", STACK, {"a": ("s.yaml", 3), "b": ("s.yaml", 9)}),
               StageTarget("later", "s.dev.later")]
    return detect(engine, targets, fake_registry(), spec="s.yaml", env="dev")


def test_no_drift_right_after_apply() -> None:
    report = _detect(_engine())
    assert not report.drifted and report.resources == []
    assert report.refreshed == ["app"] and report.not_applied == ["later"]
    assert report.to_json()["summary"] == {"changed": 0, "deleted": 0}


def test_changes_and_deletions_behind_our_back() -> None:
    engine = _engine()

    def meddle(resources: dict[str, Any]) -> None:
        resources[f"{TYPE}|a"]["size"] = 5
        resources[f"{TYPE}|a"]["tags"] = {"team": "intruder"}
        resources[f"{TYPE}|b"]["size"] = 7          # b's spec leaves size to the cloud
        resources[f"{TYPE}|c"]["secret_value"] = "leaked?"
        del resources[f"{TYPE}|b"]

    _cloud(meddle)
    report = _detect(engine)
    assert report.drifted
    assert [(r.resource, r.kind) for r in report.resources] == [
        ("a", DriftKind.CHANGED), ("b", DriftKind.DELETED), ("c", DriftKind.CHANGED)]
    a, b, c = report.resources
    assert [(p.name, p.expected, p.actual) for p in a.properties] == [
        ("size", 2, 5), ("tags", {"team": "core"}, {"team": "intruder"})]
    assert (a.file, a.line, a.cloud_id, a.stage, a.type) == ("s.yaml", 3, "a", "app", TYPE)
    assert (b.cloud_id, b.properties, b.line) == ("b", (), 9)
    assert [(p.name, p.expected, p.actual) for p in c.properties] == [("secret_value", "***", "***")]
    doc = report.to_json()
    assert "hush" not in str(doc) and "leaked" not in str(doc)
    assert doc["summary"] == {"changed": 2, "deleted": 1}
    assert doc["resources"][0] == {
        "stage": "app", "resource": "a", "type": TYPE, "status": "changed", "cloud_id": "a",
        "file": "s.yaml", "line": 3,
        "properties": [{"name": "size", "expected": 2, "actual": 5},
                       {"name": "tags", "expected": {"team": "core"},
                        "actual": {"team": "intruder"}}]}

    # Checking again changes nothing in the cloud and still reports the change.
    again = _detect(engine)
    assert [(r.resource, r.kind) for r in again.resources] == [
        ("a", DriftKind.CHANGED), ("c", DriftKind.CHANGED)]
    assert FakeAdapter.cloud.resources()[(TYPE, "a")]["size"] == 5


def test_a_value_the_cloud_chose_is_not_drift() -> None:
    engine = _engine()
    _cloud(lambda resources: resources[f"{TYPE}|b"].update(size=9))
    assert _detect(engine).resources == []
