"""``provision output``: stage outputs from state as one document, secrets masked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from provision.cli import output_cmd, session
from provision.engine.protocol import StackSnapshot
from provision.graph.stages import build_stages
from provision.provider import AdapterRegistry
from provision.spec import loads, resolve
from providers.testing import FAKE_TYPES

SPEC = """
name: out
environments: {dev: {}}
resources:
  a: {type: "test:fake:Thing", properties: {name: a, secret_value: "${var.x}"}}
  b: {type: "test:fake:Other", properties: {name: "${a.arn}"}}
  c: {type: "test:fake:Other", properties: {name: c, tags: {copy: "${a.secret_value}"}}}
variables: {x: {type: string, default: hush}}
"""


def _loaded() -> session.Loaded:
    spec = resolve(loads(SPEC, "out.yaml"), "dev")
    return session.Loaded(spec, spec.environments["dev"], build_stages(spec),
                          AdapterRegistry(FAKE_TYPES))


def test_outputs_by_stage_with_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _loaded()
    stages = [s.name for s in loaded.stages.stages]
    state = {stages[0]: StackSnapshot(outputs={
        "a": {"id": "a-1", "arn": "arn:a", "secret_value": "hush"},
        "c": {"id": "c-1", "name": "c", "size": 1, "tags": {"copy": "hush"}},
        "__provision": {"types": {"a": "test:fake:Thing"}}}, digest="d")}

    def snapshot(stack: str) -> StackSnapshot | None:
        return state.get(stack.rsplit(".", 1)[-1])

    fake = SimpleNamespace(engine=SimpleNamespace(snapshot=snapshot),
                           stack_name=lambda stage: f"out.dev.{stage}")
    monkeypatch.setattr(session, "orchestrator", lambda loaded, **kw: fake)
    masked: dict[str, Any] = output_cmd.collect(loaded, show_secrets=False)
    assert masked == {stages[0]: {
        "a": {"arn": "arn:a", "id": "a-1", "secret_value": {"$sensitive": True}},
        # A value derived from a secret is secret; what the cloud filled in (size) shows.
        "c": {"id": "c-1", "name": "c", "size": 1, "tags": {"$sensitive": True}}}}
    shown = output_cmd.collect(loaded, show_secrets=True)
    assert shown[stages[0]]["a"]["secret_value"] == "hush"
    assert shown[stages[0]]["c"]["tags"] == {"copy": "hush"}
