"""provision/cli/progress.py: in --json mode every ``stage_start`` is followed by its
``stage_done`` (planning a stage emits neither), and an error is one ``error`` event
before ``run_finished``, the last line."""

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


def _framed_run(body_error: str, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The events of an apply --json whose body fails (``passphrase``: before any stage,
    ``stage``: a stage failed), through the CLI's own error handling."""
    from types import SimpleNamespace

    from provision.cli import commands, main
    from provision.engine.report import ApplyReport, StageOutcome
    from provision.errors import PassphraseError, StageFailedError
    from provision.plan.model import Plan

    record = SimpleNamespace(id="r1", operation=Operation.APPLY, spec="s.yaml", env="local",
                             who="me", finished=None, finish=lambda *a, **k: None)
    progress = Progress(as_json=True, record=record)  # type: ignore[arg-type]

    def body() -> int:
        if body_error == "passphrase":
            raise PassphraseError("the state passphrase does not open stack 's.local.aws'")
        failed = StageOutcome("aws", StageStatus.FAILED,
                              error=StageFailedError("s.local.aws", "q: create failed: 403"))
        return commands._finish(ApplyReport([failed]), progress, Plan("s", "local", "s.yaml"))

    def app(**_: object) -> int:
        return commands._streamed(progress, body)

    monkeypatch.setattr(main, "app", app)
    monkeypatch.setattr("sys.argv", ["provision", "apply", "s.yaml", "--json"])
    with pytest.raises(SystemExit) as exited:
        main.run()
    assert exited.value.code == 1
    from pathlib import Path

    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "events.schema.json").read_text()))
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not [e for e in events if list(validator.iter_errors(e))]
    return [e["event"] for e in events]


@pytest.mark.parametrize("failure, events", [
    ("passphrase", ["run_started", "error", "run_finished"]),
    ("stage", ["run_started", "error", "summary", "run_finished"]),
])
def test_an_error_is_one_event_before_run_finished_the_last_line(
        failure: str, events: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _framed_run(failure, capsys, monkeypatch) == events
