"""The live progress view on a terminal; plain lines when not a terminal."""

from __future__ import annotations

import io
from pathlib import Path

from provision.cli.live_view import LiveProgress, make_progress
from provision.cli.progress import Progress
from provision.engine.protocol import Step
from provision.history import History
from provision.vocabulary import Operation, StageStatus, StepOp
from rich.console import Console


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100, color_system=None), buf


def test_terminal_gets_a_live_table_and_the_run_is_recorded(tmp_path: Path) -> None:
    console, buf = _console(True)
    record = History.open(tmp_path / "h.db", home=tmp_path).start(Operation.APPLY, env="dev")
    progress = make_progress(as_json=False, record=record, title="apply demo", console=console)
    assert isinstance(progress, LiveProgress)
    hooks = progress.hooks_for("dev")
    hooks.stage_start("aws", Operation.PLAN)           # planning does not start the view
    assert progress._live is None
    hooks.stage_start("aws", Operation.APPLY)
    hooks.step("aws", Step(op=StepOp.CREATE, resource="logs", old_inputs=None, new_inputs={}))
    hooks.stage_done("aws", StageStatus.APPLIED, None)
    progress.say("a line above the table")
    progress.close()
    text = buf.getvalue()
    assert "apply demo" in text and "a line above the table" in text
    row = [line for line in text.splitlines() if "aws" in line and "applied" in line]
    assert row and "dev" in row[-1] and " 1 " in row[-1]
    assert record.conn.execute("SELECT status FROM steps").fetchone()[0] == "applied"


def test_not_a_terminal_gets_plain_lines() -> None:
    console, buf = _console(False)
    progress = make_progress(as_json=False, console=console)
    assert type(progress) is Progress
    hooks = progress.hooks()
    hooks.stage_start("aws", Operation.APPLY)
    hooks.stage_done("aws", StageStatus.APPLIED, None)
    assert "stage aws: applied" in buf.getvalue()
    assert type(make_progress(as_json=True, console=_console(True)[0])) is Progress
