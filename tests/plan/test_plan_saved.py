"""Saved plan files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.errors import PlanError
from provision.plan.model import UNKNOWN, Plan
from provision.plan.saved import read_plan, write_plan


def test_round_trip_keeps_changes_unknowns_and_digests(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "out" / "plan.json"
    write_plan(plan, path)
    back = read_plan(path)
    assert back.spec_digest == "abc" and back.state_digests == {"aws": "d1"}
    assert [(c.id, c.action) for s in back.stages for c in s.changes] == \
        [(c.id, c.action) for s in plan.stages for c in s.changes]
    rg = back.stages[1].changes[0]
    assert rg.after is not None and rg.after["tags"]["logs"] is UNKNOWN
    assert rg.diffs[0].after is UNKNOWN
    assert back.stages[2].changes[0].after is not None
    assert back.stages[2].changes[0].after["hmac_secret"] == {"$sensitive": True}
    assert back.summary() == plan.summary()
    assert "s3cr3t" not in path.read_text()


def test_rejects_other_files_and_versions(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": "1.0"}))
    with pytest.raises(PlanError, match="not a saved provision plan"):
        read_plan(path)
    write_plan(plan, path)
    data = json.loads(path.read_text())
    data["format_version"] = "2.0"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="plan format 2.0"):
        read_plan(path)
    path.write_text("{not json")
    with pytest.raises(PlanError, match="cannot read saved plan"):
        read_plan(path)
    with pytest.raises(PlanError, match="not found"):
        read_plan(tmp_path / "missing.json")


def test_round_trip_keeps_targets_and_excludes(plan: Plan, tmp_path: Path) -> None:
    plan.targets, plan.excludes = ["logs", "rg"], ["site"]
    write_plan(plan, tmp_path / "p.json")
    back = read_plan(tmp_path / "p.json")
    assert (back.targets, back.excludes) == (["logs", "rg"], ["site"])
