"""Typed steps from Pulumi's structured engine events (never from parsing stdout).

:class:`EventSink` collects a run's steps, error diagnostics and summary from the
engine events the Automation API delivers, and forwards each step as it comes.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Mapping

from pulumi.automation import events as ev

from provision.engine.dynamic import INPUT_KEYS, PROVIDER_KEY, unwire
from provision.engine.protocol import Step, StepSink
from provision.engine.pulumi_state import RESOURCE_TYPE, STACK_TYPE
from provision.provider import CREATE_TOKEN
from provision.vocabulary import StepOp


def clean(props: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Recorded properties without provision's bookkeeping keys, wire values decoded."""
    if props is None:
        return None
    return {k: unwire(v) for k, v in props.items()
            if k not in (PROVIDER_KEY, INPUT_KEYS, CREATE_TOKEN)}


class EventSink:
    """Collects steps and error diagnostics from engine events; forwards them."""

    def __init__(self, forward: StepSink | None) -> None:
        self.steps: list[Step] = []
        self.errors: list[str] = []
        self.summary_seen = False
        self.changes: dict[str, int] | None = None     # the summary event's resource changes
        # Steps on the stack's own resource (pulumi:pulumi:Stack), which Pulumi's resource
        # changes count too (its providers they do not): left out of the summary shown.
        self.own: dict[str, int] = {}
        # Resource id -> its outputs when its last step finished (``RunResult.written``).
        self.written: dict[str, dict[str, Any]] = {}
        self.started = datetime.now(timezone.utc)
        self._forward = forward
        self._lock = threading.Lock()

    def __call__(self, event: ev.EngineEvent) -> None:
        if event.summary_event is not None:
            self.summary_seen = True
            # Keys arrive as the engine's op names (plain strings), as in the history.
            self.changes = {str(getattr(op, "value", op)): int(n) for op, n in
                            (event.summary_event.resource_changes or {}).items()}
        diag = event.diagnostic_event
        if diag is not None and diag.severity == "error":
            with self._lock:
                self.errors.append(diag.message.strip())
        done = event.res_outputs_event
        if done is not None and not done.planning and done.metadata.type == RESOURCE_TYPE:
            state = done.metadata.new
            if state is not None and state.outputs is not None:
                with self._lock:
                    self.written[done.metadata.urn.rsplit("::", 1)[-1]] = \
                        clean(state.outputs) or {}
        pre = event.resource_pre_event
        if pre is None:
            return
        if pre.metadata.type == STACK_TYPE:
            with self._lock:
                op = str(pre.metadata.op.value)
                self.own[op] = self.own.get(op, 0) + 1
        if pre.metadata.type != RESOURCE_TYPE:
            return
        meta = pre.metadata
        if meta.op in (ev.OpType.REFRESH, ev.OpType.READ):
            return
        step = Step(
            op=StepOp(meta.op.value),
            resource=meta.urn.rsplit("::", 1)[-1],
            old_inputs=clean(meta.old.inputs) if meta.old else None,
            new_inputs=clean(meta.new.inputs) if meta.new else None,
            replace_keys=tuple(k for k in (meta.keys or []) if k != PROVIDER_KEY),
            old_outputs=clean(meta.old.outputs) if meta.old else None,
            diff_keys=tuple(k for k in (meta.diffs or []) if k not in (PROVIDER_KEY, INPUT_KEYS)),
        )
        with self._lock:
            self.steps.append(step)
        if self._forward is not None:
            self._forward(step)


def resource_counts(changes: Mapping[str, int] | None, own: Mapping[str, int]) -> dict[str, int]:
    """Pulumi's resource changes less the steps on the stack's own resource: the counts
    of the spec's resources only."""
    counts = {op: n - own.get(op, 0) for op, n in (changes or {}).items()}
    return {op: n for op, n in counts.items() if n > 0}
