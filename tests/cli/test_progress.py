"""provision/cli/progress.py: in --json mode every ``stage_start`` is followed by its
``stage_done`` (planning a stage emits neither)."""

from __future__ import annotations

import json

import pytest

from provision.cli.progress import Progress
from provision.vocabulary import Operation, StageStatus


def test_planning_a_stage_emits_no_unmatched_stage_start(
        capsys: pytest.CaptureFixture[str]) -> None:
    hooks = Progress(as_json=True).hooks()
    hooks.stage_start("aws", Operation.PLAN)
    hooks.stage_start("aws", Operation.APPLY)
    hooks.stage_done("aws", StageStatus.APPLIED, None)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["event"], e.get("operation", e.get("status"))) for e in events] == [
        ("stage_start", "apply"), ("stage_done", "applied")]
