"""The run history as a whole: open it, start runs, record approvals, query, verify."""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provision.errors import RunNotFoundError
from provision.history import audit, seal
from provision.history.db import connect, default_path, transaction
from provision.history.identity import who as current_who
from provision.history.legacy import import_legacy
from provision.history.recorder import RunRecorder
from provision.vocabulary import Operation, Outcome


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-xxxx``: sortable by start time, unique (4 random hex digits)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(2)}"


@dataclass
class Approval:
    run_id: str          # the rollout approved
    env: str
    who: str
    at: str
    plan_digest: str
    comment: str = ""
    approval_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "env": self.env, "who": self.who, "at": self.at,
                "plan_digest": self.plan_digest, "comment": self.comment,
                "approval_id": self.approval_id}


@dataclass
class RunView:
    """One run as ``runs show`` presents it (plain data, JSON-ready through to_dict)."""

    run: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)
    policy: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.run, "steps": self.steps, "policy": self.policy,
                "approvals": [a.to_dict() for a in self.approvals]}


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data["detail"] = json.loads(data["detail"])
    return data


class History:
    """The run history and audit log in one SQLite file (see provision.history.db)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn, self.path = conn, path

    @classmethod
    def open(cls, path: Path | None = None, *, home: Path | None = None) -> "History":
        """Open the history at ``path`` (default: ``$PROVISION_HISTORY_DB`` or
        ``<home>/history.db``; home defaults to ``.provision/``). The first open imports
        the JSON run records older versions wrote to ``<home>/runs/`` (once).
        Raises HistoryError when the file cannot be used."""
        if home is None:
            from provision.engine.clouds import home_dir

            home = home_dir()
        target = path or default_path(home)
        conn = connect(target)
        import_legacy(conn, home / "runs", who=current_who())
        return cls(conn, target)

    def close(self) -> None:
        self.conn.close()

    # -- writing ---------------------------------------------------------------------
    def start(self, operation: Operation, *, spec: str = "", env: str = "",
              spec_file: str = "", spec_digest: str = "", parent_id: str | None = None,
              who: str | None = None, run_id: str | None = None) -> RunRecorder:
        """Record that a run starts (outcome ``running``); returns its recorder."""
        actor = who or current_who()
        rid = run_id or new_run_id()
        now = datetime.now(timezone.utc).isoformat()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO runs (id, operation, spec, spec_file, env, who, started_at, "
                "spec_digest, outcome, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, operation.value, spec, spec_file, env, actor, now, spec_digest,
                 Outcome.RUNNING.value, parent_id))
            audit.append_in(self.conn, who=actor, run_id=rid, action="run.started",
                            payload={"operation": operation.value, "spec": spec, "env": env,
                                     "spec_digest": spec_digest, "parent_id": parent_id})
        return RunRecorder(self.conn, rid, operation, env=env, spec=spec, who=actor)

    def resume(self, run_id: str) -> RunRecorder:
        """A recorder that appends to an existing run (``rollout --resume``)."""
        run = self.run(run_id)
        actor = current_who()
        audit.append(self.conn, who=actor, run_id=run["id"], action="run.resumed",
                     payload={"operation": run["operation"], "outcome_before": run["outcome"]})
        recorder = RunRecorder(self.conn, run["id"], Operation(run["operation"]),
                               env=run["env"], spec=run["spec"], who=actor)
        recorder.earlier_s = float(run["duration_s"] or 0.0)
        return recorder

    def abandon(self, run_id: str, *, found_by: str, reason: str) -> bool:
        """Record that run ``run_id``, still ``running`` here, died unseen (killed or
        crashed): outcome ``abandoned``, no exit code or end time (nobody saw it end),
        ``detail.abandoned`` = {found_at, found_by (a run id), reason}, one
        ``run.abandoned`` audit row. False (nothing written) when the history has no such
        run or it is not ``running``."""
        found_at = datetime.now(timezone.utc).isoformat()
        with transaction(self.conn):
            row = self.conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None or row["outcome"] != Outcome.RUNNING.value:
                return False
            detail = {**json.loads(row["detail"]),
                      "abandoned": {"found_at": found_at, "found_by": found_by,
                                    "reason": reason}}
            self.conn.execute("UPDATE runs SET outcome=?, detail=? WHERE id=?",
                              (Outcome.ABANDONED.value,
                               json.dumps(detail, sort_keys=True, default=str), run_id))
            audit.append_in(self.conn, who=current_who(), run_id=run_id, action="run.abandoned",
                            payload={"operation": row["operation"], "env": row["env"],
                                     "outcome": Outcome.ABANDONED.value, "found_by": found_by,
                                     "reason": reason, **seal.sealed(self.conn, run_id)})
        return True

    def approve(self, run_id: str, env: str, *, plan_digest: str, comment: str = "",
                who: str | None = None) -> Approval:
        """Record an approval of ``env``'s stored plan in rollout ``run_id``: one run of
        its own (operation ``approve``, parent the rollout) and one audit row."""
        actor = who or current_who()
        rec = self.start(Operation.APPROVE, spec=self.run(run_id)["spec"], env=env,
                         parent_id=run_id, who=actor)
        rec.update(plan_digest=plan_digest, detail={"comment": comment})
        at = datetime.now(timezone.utc).isoformat()
        audit.append(self.conn, who=actor, run_id=run_id, action="approval",
                     payload={"env": env, "plan_digest": plan_digest, "comment": comment,
                              "approval_id": rec.id})
        rec.finish(Outcome.APPROVED, exit_code=0)
        return Approval(run_id, env, actor, at, plan_digest, comment, rec.id)

    # -- reading ---------------------------------------------------------------------
    def run(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique id prefix; raises RunNotFoundError."""
        rows = self.conn.execute("SELECT * FROM runs WHERE id = ? OR id LIKE ? ORDER BY id",
                                 (run_id, run_id.replace("%", "") + "%")).fetchall()
        exact = [r for r in rows if r["id"] == run_id]
        if exact:
            return _run_dict(exact[0])
        if len(rows) == 1 and run_id:
            return _run_dict(rows[0])
        raise RunNotFoundError(run_id, ambiguous=[r["id"] for r in rows] if run_id else [])

    def runs(self, *, env: str | None = None, operation: Operation | None = None,
             limit: int = 50) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        query, args = "SELECT * FROM runs WHERE 1=1", []
        if env:
            query += " AND env = ?"
            args.append(env)
        if operation is not None:
            query += " AND operation = ?"
            args.append(operation.value)
        query += " ORDER BY started_at DESC, id DESC LIMIT ?"
        return [_run_dict(r) for r in self.conn.execute(query, (*args, limit))]

    def approvals(self, run_id: str, env: str | None = None) -> list[Approval]:
        query = ("SELECT * FROM runs WHERE operation = ? AND parent_id = ?"
                 + (" AND env = ?" if env else "") + " ORDER BY started_at, id")
        args: tuple[Any, ...] = (Operation.APPROVE.value, run_id) + ((env,) if env else ())
        return [Approval(r["parent_id"], r["env"], r["who"], r["started_at"], r["plan_digest"],
                         json.loads(r["detail"]).get("comment", ""), r["id"])
                for r in self.conn.execute(query, args)]

    def approval(self, run_id: str, env: str, plan_digest: str) -> Approval | None:
        """The first approval of exactly ``plan_digest`` for ``env`` in rollout ``run_id``
        (None when there is none): what the rollout applies, and what makes ``approve``
        refuse a second one."""
        return next((a for a in self.approvals(run_id, env) if a.plan_digest == plan_digest),
                    None)

    def show(self, run_id: str) -> RunView:
        run = self.run(run_id)
        steps = [dict(r) | {"detail": json.loads(r["detail"])} for r in self.conn.execute(
            "SELECT env, kind, name, status, started_at, finished_at, duration_s, detail "
            "FROM steps WHERE run_id = ? ORDER BY seq", (run["id"],))]
        policy = [dict(r) for r in self.conn.execute(
            "SELECT env, stage, phase, rule_id, status, resource, severity, enforcement, "
            "message, location FROM policy WHERE run_id = ? ORDER BY seq", (run["id"],))]
        return RunView(run, steps, policy, self.approvals(run["id"]))

    def verify(self) -> audit.ChainReport:
        """The audit chain walked from its first row (:func:`audit.verify`), then every
        run compared with what the chain says of it (:func:`seal.check_runs`): the first
        problem found, if any, names the audit row and the run."""
        report = audit.verify(self.conn)
        if not report.ok:
            return report
        checked, mismatch = seal.check_runs(self.conn)
        problem = (audit.ChainProblem(mismatch.seq, f"run {mismatch.run_id} does not match "
                                                    f"it: {mismatch.reason}", mismatch.run_id)
                   if mismatch else None)
        return dataclasses.replace(report, runs=checked, problem=problem)
