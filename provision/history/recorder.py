"""Recording one run as it happens: its steps, stage outcomes, policy results, outcome.

A :class:`RunRecorder` is what a command holds while it runs (``History.start``).
Every call writes at once (one short transaction), so a run that dies midway
still shows what it did, with outcome ``running``. Calls are thread-safe: the
orchestrator reports stages from its worker threads. No secret may be passed in:
callers record counts, statuses, digests and policy results, never plan values.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime, timezone
from typing import Any, Mapping

from provision.history import audit, seal
from provision.history.db import transaction
from provision.vocabulary import GateStatus, Operation, Outcome, Phase, StageStatus, StepKind


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class RunRecorder:
    """One run in the history (created by :meth:`provision.history.History.start`)."""

    def __init__(self, conn: sqlite3.Connection, run_id: str, operation: Operation,
                 *, env: str, spec: str, who: str) -> None:
        self.conn, self.id, self.operation = conn, run_id, operation
        self.env, self.spec, self.who = env, spec, who
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        # A resumed run: the time its earlier sessions took (duration adds up).
        self.earlier_s = 0.0
        self._stage_t0: dict[tuple[str, str], tuple[str, float]] = {}
        self._stages: dict[str, str] = {}
        self.finished: Outcome | None = None

    # -- what happened ---------------------------------------------------------------
    def stage_started(self, stage: str, *, env: str | None = None) -> None:
        """Note when a stage starts (its duration is recorded by :meth:`stage`)."""
        with self._lock:
            self._stage_t0[(env or self.env, stage)] = (_now(), time.monotonic())

    def stage(self, stage: str, status: StageStatus, *, env: str | None = None,
              changes: Mapping[str, int] | None = None, error: str = "") -> None:
        """Record how one stage ended (timed from :meth:`stage_started` when called)."""
        env = env or self.env
        with self._lock:
            started, t0 = self._stage_t0.pop((env, stage), (None, None))
            self._stages[f"{env}/{stage}" if env != self.env else stage] = status.value
        detail: dict[str, Any] = {}
        if changes:
            detail["changes"] = dict(changes)
        if error:
            detail["error"] = error
        self._insert_step(env, StepKind.STAGE, stage, status.value, detail, started, t0)

    def step(self, kind: StepKind, name: str, status: StageStatus | GateStatus | Outcome,
             *, env: str | None = None, detail: Mapping[str, Any] | None = None,
             started_at: str | None = None, started_monotonic: float | None = None) -> None:
        """Record one step that is not a stage: a plan, health checks, an approval gate."""
        self._insert_step(env or self.env, kind, name, status.value, dict(detail or {}),
                          started_at, started_monotonic)

    def policy(self, stage: str, phase: Phase | str, results: list[dict[str, Any]], *,
               env: str | None = None) -> None:
        """Record every result of one policy check (``Result.to_dict()`` shapes)."""
        env = env or self.env
        with self._lock, transaction(self.conn):
            seq = self._next_seq("policy")
            for offset, r in enumerate(results):
                location = f"{r.get('file', '')}:{r['line']}" if r.get("line") else r.get("file", "")
                self.conn.execute(
                    "INSERT INTO policy VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.id, seq + offset, env, stage, Phase(phase).value, r.get("rule_id", ""),
                     r.get("status", ""), r.get("resource_id", ""), r.get("severity", ""),
                     r.get("enforcement", ""), r.get("message", ""), location))

    def update(self, *, spec_digest: str | None = None, plan_digest: str | None = None,
               spec_file: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        """Set the run's digests or merge keys into its detail document."""
        with self._lock, transaction(self.conn):
            if spec_digest is not None:
                self.conn.execute("UPDATE runs SET spec_digest=? WHERE id=?", (spec_digest, self.id))
            if plan_digest is not None:
                self.conn.execute("UPDATE runs SET plan_digest=? WHERE id=?", (plan_digest, self.id))
            if spec_file is not None:
                self.conn.execute("UPDATE runs SET spec_file=? WHERE id=?", (spec_file, self.id))
            if detail:
                row = self.conn.execute("SELECT detail FROM runs WHERE id=?", (self.id,)).fetchone()
                merged = {**json.loads(row["detail"]), **detail}
                self.conn.execute("UPDATE runs SET detail=? WHERE id=?", (_json(merged), self.id))

    def finish(self, outcome: Outcome, *, exit_code: int, error: str = "",
               detail: Mapping[str, Any] | None = None) -> None:
        """Close the run: outcome, exit code, duration; one audit row with the summary.
        A second call updates the outcome again (a resumed rollout finishes again): the
        earlier ending moves to ``detail.attempts`` ([{finished_at, outcome, exit_code,
        error[, abandoned]}], oldest first), and ``detail.error`` is this ending's error or absent."""
        duration = round(self.earlier_s + time.monotonic() - self._t0, 3)
        with self._lock, transaction(self.conn):
            row = self.conn.execute("SELECT * FROM runs WHERE id=?", (self.id,)).fetchone()
            merged = {**json.loads(row["detail"]), **(detail or {})}
            if row["outcome"] != Outcome.RUNNING.value:
                abandoned = merged.pop("abandoned", None)
                merged["attempts"] = [*merged.get("attempts", []), {
                    "finished_at": row["finished_at"], "outcome": row["outcome"],
                    "exit_code": row["exit_code"], "error": merged.get("error", ""),
                    **({"abandoned": abandoned} if abandoned else {})}]
            merged.pop("error", None)
            if error:
                merged["error"] = error
            self.conn.execute(
                "UPDATE runs SET finished_at=?, duration_s=?, outcome=?, exit_code=?, detail=? "
                "WHERE id=?", (_now(), duration, outcome.value, exit_code, _json(merged), self.id))
            audit.append_in(self.conn, who=self.who, run_id=self.id, action="run.finished",
                            payload={"operation": self.operation.value, "spec": row["spec"],
                                     "env": row["env"], "spec_digest": row["spec_digest"],
                                     "plan_digest": row["plan_digest"], "outcome": outcome.value,
                                     "exit_code": exit_code, "duration_s": duration,
                                     "stages": dict(self._stages), "error": error,
                                     **seal.sealed(self.conn, self.id)})
            self.finished = outcome

    def audit(self, action: str, payload: Mapping[str, Any]) -> None:
        """Append one row for this run to the audit log (e.g. ``policy.skipped``)."""
        with self._lock, transaction(self.conn):
            audit.append_in(self.conn, who=self.who, run_id=self.id, action=action,
                            payload={"operation": self.operation.value, "env": self.env,
                                     **payload})

    # -- internals ---------------------------------------------------------------------
    def _next_seq(self, table: str) -> int:
        row = self.conn.execute(f"SELECT COALESCE(MAX(seq), 0) AS n FROM {table} WHERE run_id=?",
                                (self.id,)).fetchone()
        return int(row["n"]) + 1

    def _insert_step(self, env: str, kind: StepKind, name: str, status: str,
                     detail: dict[str, Any], started: str | None, t0: float | None) -> None:
        duration = round(time.monotonic() - t0, 3) if t0 is not None else None
        with self._lock, transaction(self.conn):
            self.conn.execute(
                "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.id, self._next_seq("steps"), env, kind.value, name, status,
                 started, _now(), duration, _json(detail)))
