"""Every NDJSON line a rollout prints validates against docs/events.schema.json
(the state machine on the in-memory world, events through the CLI's progress)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from provision.cli.rollout_cmd import RolloutProgress
from provision.history import History
from provision.rollout.machine import Rollout
from provision.rollout.state import RolloutState
from provision.spec.model import HealthCheck
from provision.vocabulary import Operation
from rollout_fakes import World

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "events.schema.json")
                    .read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_every_rollout_line_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    world.health["staging"] = [HealthCheck("ok", "output", "aws_res.name", equals="aws-1")]
    history = History.open(tmp_path / "h.db", home=tmp_path)
    record = history.start(Operation.ROLLOUT, spec="demo", env="prod")
    ui = RolloutProgress(as_json=True, record=record)
    ui.emit("run_started", run_id=record.id, operation="rollout", spec="demo", env="prod",
            chain=["dev", "staging", "prod"], who=record.who)
    state = RolloutState("demo.yaml", ["dev", "staging", "prod"], rollback_on_failure=True)
    Rollout(state, history=history, record=record, factory=world.driver, ui=ui,
            plans_dir=tmp_path / "plans").run()
    ui.emit("run_finished", run_id=record.id, outcome="halted", exit_code=4, halt=None)
    lines = _lines(capsys)
    names = {e["event"] for e in lines}
    assert {"run_started", "env_start", "plan", "stage_done", "health_check", "gate",
            "approval_needed", "env_done", "run_finished"} <= names
    for event in lines:
        errors = [e.message for e in VALIDATOR.iter_errors(event)]
        assert not errors, (event, errors)
    assert all(e.get("env") for e in lines if e["event"] in ("stage_done", "plan", "gate"))


def test_a_promotion_halt_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World(protected=set())
    history = History.open(tmp_path / "h.db", home=tmp_path)
    record = history.start(Operation.ROLLOUT, spec="demo", env="prod")
    ui = RolloutProgress(as_json=True, record=record)
    state = RolloutState("demo.yaml", ["dev", "staging", "prod"])
    rollout = Rollout(state, history=history, record=record, factory=world.driver, ui=ui,
                      plans_dir=tmp_path / "plans")
    assert rollout.step("dev") is None
    world.desired["aws"] = {"name": "aws-2"}
    result = rollout.step("staging")
    assert result is not None and result.halt is not None
    ui.emit("run_finished", run_id=record.id, outcome="halted", exit_code=4,
            halt=result.halt.to_dict())
    lines = _lines(capsys)
    assert any(e["event"] == "gate" and e["gate"] == "promotion" for e in lines)
    assert lines[-1]["halt"]["gate"] == "promotion"
    for event in lines:
        errors = [e.message for e in VALIDATOR.iter_errors(event)]
        assert not errors, (event, errors)


@pytest.mark.parametrize("bad", [
    {"event": "stage_done", "time": "2026-01-01T00:00:00+00:00", "stage": "aws", "status": "great"},
    {"event": "run_finished", "time": "2026-01-01T00:00:00+00:00", "run_id": "r", "outcome": "halted",
     "exit_code": 7},
    {"event": "approval_needed", "time": "2026-01-01T00:00:00+00:00", "env": "prod", "run_id": "r",
     "plan_digest": "md5:x", "approve": "a", "resume": "r"},
    {"event": "nonsense", "time": "2026-01-01T00:00:00+00:00"},
    {"event": "env_start", "time": "yesterday", "env": "dev"},
])
def test_the_schema_rejects_wrong_events(bad: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(bad))
