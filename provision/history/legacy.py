"""One-time import of the JSON run records older versions wrote to ``.provision/runs/``.

Each ``<id>.json`` (keys: id, spec, env, operation, started_at, finished_at, status,
stages {stage: status}, policy [{stage, phase, results}], planned, error) becomes a
run with its stage steps and policy results, plus one ``run.imported`` audit row
carrying the file's sha256. The import runs once per database (``meta`` key
``legacy_import``); the files are left where they are. Unreadable files are
skipped and counted, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from provision.history import audit
from provision.history.db import transaction

MARK = "legacy_import"


def import_legacy(conn: sqlite3.Connection, runs_dir: Path, *, who: str) -> int | None:
    """Import every record in ``runs_dir`` unless done before; returns how many runs
    were imported (None when the import had already run)."""
    if conn.execute("SELECT 1 FROM meta WHERE key = ?", (MARK,)).fetchone():
        return None
    files = sorted(runs_dir.glob("*.json")) if runs_dir.is_dir() else []
    imported = skipped = 0
    with transaction(conn):
        if conn.execute("SELECT 1 FROM meta WHERE key = ?", (MARK,)).fetchone():
            return None            # another process imported meanwhile
        for path in files:
            try:
                raw = path.read_bytes()
                data = json.loads(raw)
                if not isinstance(data, dict) or not data.get("id"):
                    raise ValueError("not a run record")
                if _import_one(conn, data, hashlib.sha256(raw).hexdigest(), path.name, who):
                    imported += 1
            except (OSError, ValueError, KeyError, TypeError):
                skipped += 1
        conn.execute("INSERT INTO meta VALUES (?, ?)",
                     (MARK, json.dumps({"imported": imported, "skipped": skipped,
                                        "from": str(runs_dir)})))
    return imported


def _import_one(conn: sqlite3.Connection, data: dict[str, Any], sha: str, name: str,
                who: str) -> bool:
    rid = str(data["id"])
    if conn.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone():
        return False
    detail: dict[str, Any] = {k: data[k] for k in ("planned", "error", "record") if k in data}
    detail["imported_from"] = name
    conn.execute(
        "INSERT INTO runs (id, operation, spec, env, who, started_at, finished_at, outcome, "
        "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (rid, str(data.get("operation", "apply")), str(data.get("spec", "")),
         str(data.get("env", "")), "", str(data.get("started_at", "")),
         data.get("finished_at"), str(data.get("status", "unknown")),
         json.dumps(detail, sort_keys=True, default=str)))
    for seq, (stage, status) in enumerate(dict(data.get("stages", {})).items(), start=1):
        conn.execute("INSERT INTO steps (run_id, seq, env, kind, name, status) "
                     "VALUES (?, ?, ?, 'stage', ?, ?)",
                     (rid, seq, str(data.get("env", "")), str(stage), str(status)))
    seq = 0
    for check in data.get("policy", []):
        for r in check.get("results", []):
            seq += 1
            location = f"{r.get('file', '')}:{r['line']}" if r.get("line") else r.get("file", "")
            conn.execute(
                "INSERT INTO policy VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, seq, str(data.get("env", "")), str(check.get("stage", "")),
                 str(check.get("phase", "")), r.get("rule_id", ""), r.get("status", ""),
                 r.get("resource_id", ""), r.get("severity", ""), r.get("enforcement", ""),
                 r.get("message", ""), location))
    audit.append_in(conn, who=who, run_id=rid, action="run.imported",
                    payload={"file": name, "sha256": sha, "outcome": data.get("status")})
    return True
