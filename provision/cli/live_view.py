"""The live progress view on a terminal: one table of stages with their status,
resources changed and elapsed time, redrawn as the run goes (rich ``Live``).

Used when stderr is a terminal and ``--json`` is off; otherwise progress is plain
lines (:class:`provision.cli.progress.Progress`). Lines said during the run (policy
results, health checks) print above the table.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from provision.cli.progress import Progress
from provision.engine.hooks import GateVerdict, Hooks
from provision.engine.protocol import RunResult, Step
from provision.history import RunRecorder
from provision.vocabulary import Operation, Phase, StageStatus

_STYLE = {"applied": "green", "unchanged": "green", "destroyed": "green", "blocked": "red",
          "failed": "red", "rolled-back": "magenta", "skipped": "yellow"}


@dataclass
class _Row:
    env: str
    stage: str
    status: str
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    resources: int = 0


class LiveProgress(Progress):
    def __init__(self, *, console: Console | None = None, record: RunRecorder | None = None,
                 title: str = "") -> None:
        super().__init__(as_json=False, console=console, record=record)
        self.title = title
        self._rows: dict[tuple[str, str], _Row] = {}
        self._t0 = time.monotonic()
        self._live: Live | None = None
        self._view_lock = threading.Lock()

    # -- the table ---------------------------------------------------------------------
    def render(self) -> Group:
        table = Table(box=None, pad_edge=False, show_edge=False)
        for col in ("env", "stage", "status", "resources", "elapsed"):
            table.add_column(col, no_wrap=True)
        now = time.monotonic()
        for row in self._rows.values():
            took = (row.ended or now) - row.started
            table.add_row(row.env or "-", row.stage,
                          Text(row.status, style=_STYLE.get(row.status, "cyan")),
                          str(row.resources), f"{took:5.1f}s")
        head = Text(f"{self.title}  {now - self._t0:.0f}s", style="bold")
        return Group(head, table)

    def _start(self) -> None:
        if self._live is None:
            self._live = Live(self.render(), console=self.console, refresh_per_second=4,
                              get_renderable=self.render, transient=False)
            self._live.start()

    def close(self) -> None:
        with self._view_lock:
            if self._live is not None:
                self._live.refresh()
                self._live.stop()
                self._live = None

    def say(self, text: str) -> None:
        with self._view_lock:
            self.console.print(text)     # above the live table while it runs

    def pause(self) -> None:
        """Stop redrawing (before asking a question at the terminal)."""
        self.close()

    # -- hooks -------------------------------------------------------------------------
    def hooks(self) -> Hooks:
        base = super().hooks()
        env = str(self.context.get("env", ""))

        def stage_start(stage: str, op: Operation) -> None:
            if op is Operation.PLAN:   # plans are quick; the view starts with the first change
                return
            if self.record is not None:
                self.record.stage_started(stage)
            with self._view_lock:
                self._rows[(env, stage)] = _Row(env, stage, f"{op.value}…")
                self._start()

        def step(stage: str, s: Step) -> None:
            if not s.op.changes:
                return
            row = self._rows.get((env, stage))
            if row is not None:
                row.resources += 1

        def stage_done(stage: str, status: StageStatus, result: RunResult | None) -> None:
            if self.record is not None:
                self.record.stage(stage, StageStatus(status),
                                  changes=result.summary if result else {})
            with self._view_lock:
                row = self._rows.setdefault((env, stage), _Row(env, stage, ""))
                row.status, row.ended = str(getattr(status, "value", status)), time.monotonic()
                self._start()

        def stage_skipped(stage: str, reason: str) -> None:
            if self.record is not None:
                self.record.stage(stage, StageStatus.SKIPPED, error=reason)
            with self._view_lock:
                row = self._rows.setdefault((env, stage), _Row(env, stage, ""))
                row.status, row.ended = StageStatus.SKIPPED.value, time.monotonic()
            self.say(f"  stage {stage}: skipped ({reason})")

        return Hooks(stage_start=stage_start, step=step, stage_done=stage_done,
                     policy=base.policy, stage_skipped=stage_skipped)


def make_progress(*, as_json: bool, record: RunRecorder | None = None, title: str = "",
                  console: Console | None = None) -> Progress:
    """A live view on a terminal (not with --json), plain lines otherwise."""
    con = console or Console(stderr=True, highlight=False, soft_wrap=True)
    if not as_json and con.is_terminal:
        return LiveProgress(console=con, record=record, title=title)
    return Progress(as_json=as_json, console=con, record=record)


__all__ = ["LiveProgress", "make_progress"]


