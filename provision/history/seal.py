"""What the audit chain says about each run, and the check that the ``runs`` table agrees.

The hash chain (:mod:`provision.history.audit`) proves the audit rows were not edited;
this module ties the rows ``runs show`` presents as fact to it. Every row that starts,
resumes, ends or abandons a run (its *lifecycle* rows) says what the run is at that
point, and :func:`check_runs` compares each run with its latest lifecycle row:

- ``run.started``: the run is ``running``; ``run.resumed``: it still has the outcome it
  had (``outcome_before``); ``run.imported``: it has the imported outcome;
- ``run.finished`` and ``run.abandoned``: the outcome, exit code and duration in the
  payload. From audit version 2 (payload ``"v": 2``) these rows also *seal* the run:
  ``facts`` is the sha256 of :func:`facts` (every column of its ``runs`` row, the
  keys of its detail that ``runs show`` prints, and its first ``steps``/``policy``
  steps and policy results), so an edit of any of them is named. Rows written before
  version 2 (no ``"v"``) are checked for what they carry; nothing is rewritten.

A run's steps recorded after its ending (a rollout resumed later) are sealed by its next
ending; a run in progress (latest row ``run.started``/``run.resumed``) is checked for its
outcome only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

VERSION = 2
LIFECYCLE = ("run.started", "run.resumed", "run.finished", "run.abandoned", "run.imported")
# The keys of a run's detail that ``runs show`` prints as fact.
SHOWN_DETAIL = ("error", "attempts", "abandoned", "workflow", "approval_gate")
_COLUMNS = ("id", "operation", "spec", "spec_file", "env", "who", "started_at", "finished_at",
            "duration_s", "spec_digest", "plan_digest", "outcome", "exit_code", "parent_id")


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def counts(conn: sqlite3.Connection, run_id: str) -> tuple[int, int]:
    """(steps, policy results) the run has recorded so far."""
    steps = conn.execute("SELECT COUNT(*) FROM steps WHERE run_id=?", (run_id,)).fetchone()
    policy = conn.execute("SELECT COUNT(*) FROM policy WHERE run_id=?", (run_id,)).fetchone()
    return int(steps[0]), int(policy[0])


def facts(conn: sqlite3.Connection, run_id: str, steps: int, policy: int) -> str | None:
    """The sha256 (hex) of what ``runs show`` presents of run ``run_id``: its row, the
    shown detail keys, its steps and policy results with seq <= ``steps``/``policy``;
    None when the run is not in the table."""
    row = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
    if row is None:
        return None
    detail = json.loads(row["detail"] or "{}")
    return _sha({
        "run": {k: row[k] for k in _COLUMNS},
        "detail": {k: detail[k] for k in SHOWN_DETAIL if k in detail},
        "steps": [list(r) for r in conn.execute(
            "SELECT * FROM steps WHERE run_id=? AND seq<=? ORDER BY seq", (run_id, steps))],
        "policy": [list(r) for r in conn.execute(
            "SELECT * FROM policy WHERE run_id=? AND seq<=? ORDER BY seq", (run_id, policy))]})


def sealed(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The keys a version-2 ending row adds to its payload: {v, steps, policy, facts}."""
    steps, policy = counts(conn, run_id)
    return {"v": VERSION, "steps": steps, "policy": policy,
            "facts": facts(conn, run_id, steps, policy)}


@dataclass(frozen=True)
class RunMismatch:
    """A run that does not agree with its latest lifecycle row (audit row ``seq``)."""

    seq: int
    run_id: str
    reason: str


def check_runs(conn: sqlite3.Connection) -> tuple[int, RunMismatch | None]:
    """(how many runs were checked, the first that does not agree or None)."""
    latest: dict[str, sqlite3.Row] = {}
    marks = ",".join("?" * len(LIFECYCLE))
    for row in conn.execute(f"SELECT seq, run_id, action, payload FROM audit "
                            f"WHERE action IN ({marks}) ORDER BY seq", LIFECYCLE):
        latest[row["run_id"]] = row
    checked = 0
    for run_id, row in latest.items():
        problem = _check(conn, run_id, row["action"], json.loads(row["payload"]))
        if problem:
            return checked, RunMismatch(row["seq"], run_id, problem)
        checked += 1
    return checked, None


def _check(conn: sqlite3.Connection, run_id: str, action: str,
           payload: dict[str, Any]) -> str:
    run = conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
    if run is None:
        return "its row is missing from runs (deleted)"
    expected: dict[str, Any] = {}
    if action == "run.started":
        expected = {"outcome": "running"}
    elif action == "run.resumed":
        expected = {"outcome": payload.get("outcome_before")}
    elif action == "run.imported" and payload.get("outcome") is not None:
        expected = {"outcome": str(payload["outcome"])}
    else:       # run.finished / run.abandoned
        expected = {k: payload[k] for k in ("outcome", "exit_code", "duration_s")
                    if k in payload}
    for key, value in expected.items():
        if run[key] != value:
            return f"{key} is {run[key]!r} where the audit log says {value!r}"
    if payload.get("v", 1) >= VERSION and "facts" in payload:
        now = facts(conn, run_id, int(payload.get("steps", 0)), int(payload.get("policy", 0)))
        if now != payload["facts"]:
            return ("its record (row, shown detail, steps or policy results) differs from "
                    "what the audit log sealed")
    return ""
