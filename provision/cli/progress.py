"""Progress output for apply/destroy: human lines on stderr, or JSON events on stdout.

JSON events are one object per line with an ``event`` field (``stage_start``,
``step``, ``stage_done``, ``policy``, ``summary``, ``error``), so pipelines can
follow a run without parsing text.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from typing import Any

from rich.console import Console
from rich.markup import escape

from provision.engine.hooks import GateVerdict, Hooks
from provision.history import RunRecorder
from provision.engine.protocol import RunResult, Step
from provision.errors import ProvisionError
from provision.vocabulary import Operation, Phase, StageStatus, StepOp

_COLOUR = {"fail": "red", "error": "red", "warn": "yellow", "deferred": "cyan"}
_STATUS_COLOUR = {StageStatus.APPLIED: "green", StageStatus.DESTROYED: "green",
                  StageStatus.BLOCKED: "red", StageStatus.FAILED: "red",
                  StageStatus.ROLLED_BACK: "red", StageStatus.INTERRUPTED: "red",
                  StageStatus.UNVERIFIED: "red"}
_SYMBOL = {StepOp.CREATE: "+", StepOp.UPDATE: "~", StepOp.REPLACE: "-/+", StepOp.DELETE: "-",
           StepOp.SAME: " ", StepOp.CREATE_REPLACEMENT: "+>", StepOp.DELETE_REPLACED: "<-",
           StepOp.IMPORT: "<="}


def status_counts(report: Any) -> dict[str, int]:
    """A policy report's result counts by status, leaving out statuses with none."""
    return {status: n for status, n in report.counts().items() if n}


def status_summary(report: Any) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(status_counts(report).items()))


class Progress:
    def __init__(self, *, as_json: bool, console: Console | None = None,
                 record: RunRecorder | None = None) -> None:
        self.as_json = as_json
        self.record = record
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self._lock = threading.Lock()
        # Fields every event carries (a rollout adds the environment it is in).
        self.context: dict[str, Any] = {}

    def emit(self, event: str, **fields: Any) -> None:
        if not self.as_json:
            return
        record = {"event": event, "time": datetime.now(timezone.utc).isoformat(),
                  **self.context, **fields}
        with self._lock:
            sys.stdout.write(json.dumps(record, default=str) + "\n")
            sys.stdout.flush()

    def error(self, exc: ProvisionError) -> None:
        """The ``error`` event of ``exc``, once: an error already reported is not emitted
        again (it is marked reported, also without ``--json``)."""
        if not exc.reported:
            self.emit("error", message=exc.message, hint=exc.hint)
            exc.reported = True

    def say(self, text: str) -> None:
        if not self.as_json:
            with self._lock:
                self.console.print(text)

    def hooks_for(self, env: str) -> Hooks:
        """The hooks for one environment of a rollout: its events carry ``env``."""
        self.context["env"] = env
        return self.hooks()

    def close(self) -> None:
        """End the output (a live view stops here)."""

    def hooks(self) -> Hooks:
        def stage_start(stage: str, op: Operation) -> None:
            if op is Operation.PLAN:   # planning a stage ends in no stage_done: the plan
                return                 # (and its `plan` event in a rollout) reports it
            self.emit("stage_start", stage=stage, operation=op.value)
            if self.record is not None:
                self.record.stage_started(stage)
            self.say(f"[bold]{op.value}[/bold] stage [cyan]{stage}[/cyan]")

        def step(stage: str, s: Step) -> None:
            if not s.op.changes:
                return
            self.emit("step", stage=stage, resource=s.resource, op=s.op.value)
            self.say(f"  {_SYMBOL.get(s.op, '?')} {s.resource} ({s.op.value})")

        def stage_done(stage: str, status: StageStatus, result: RunResult | None) -> None:
            changes = result.summary if result else {}
            self.emit("stage_done", stage=stage, status=status.value, changes=changes)
            if self.record is not None:
                self.record.stage(stage, status, changes=changes)
            colour = _STATUS_COLOUR.get(status, "yellow")
            self.say(f"  stage [cyan]{stage}[/cyan]: [{colour}]{status.value}[/{colour}]")

        def stage_skipped(stage: str, reason: str) -> None:
            self.emit("stage_done", stage=stage, status=StageStatus.SKIPPED.value, changes={},
                      reason=reason)
            if self.record is not None:
                self.record.stage(stage, StageStatus.SKIPPED)
            self.say(f"  stage [cyan]{stage}[/cyan]: [yellow]{StageStatus.SKIPPED.value}[/yellow]"
                     f" ({escape(reason)})")

        def policy(stage: str, phase: Phase, verdict: GateVerdict) -> None:
            results = list(getattr(verdict, "results", []))
            counts = status_counts(verdict)
            self.emit("policy", stage=stage, phase=phase.value, blocking=verdict.blocking,
                      counts=counts, results=[r.to_dict() for r in results
                                              if r.status.value not in ("pass",)])
            if self.record is not None:
                self.record.policy(stage, phase, [r.to_dict() for r in results])
            if results:
                self.say(f"  policy {phase.value}: {status_summary(verdict)}")
            for r in results:
                if r.status.value in ("fail", "warn", "error", "deferred"):
                    where = f"{r.file}:{r.line}" if r.line else r.file
                    self.say(f"    [{_COLOUR.get(r.status.value, 'white')}]{r.status.value}"
                             f"[/] {r.rule_id} {r.resource_id} ({where}): {escape(r.message)}")

        return Hooks(stage_start=stage_start, step=step, stage_done=stage_done, policy=policy,
                     stage_skipped=stage_skipped)
