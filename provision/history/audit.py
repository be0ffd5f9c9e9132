"""The tamper-evident audit log: a hash chain over the ``audit`` table.

Row ``n`` stores ``hash = sha256(canonical JSON of [seq, at, who, run_id, action,
payload, prev_hash])`` and ``prev_hash`` = the hash of row ``n-1`` (64 zeros for
the first row). Sequence numbers are contiguous from 1. So:

- editing any field of a row changes its recomputed hash (the row is named);
- deleting a row leaves a gap and breaks the next row's ``prev_hash``;
- inserting a row (even with a correct hash of its own) breaks the numbering or
  the ``prev_hash`` of the row after it.

Appends read the last row and insert the next one inside one ``BEGIN IMMEDIATE``
transaction, so concurrent writers cannot fork the chain. The chain proves
integrity against edits, not authorship: anyone able to rewrite the whole file
from the first changed row on can also recompute the hashes (keep a copy of the
last hash elsewhere, e.g. in CI logs, to detect that).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from provision.history.db import transaction

GENESIS = "0" * 64


def row_hash(seq: int, at: str, who: str, run_id: str, action: str, payload: str,
             prev_hash: str) -> str:
    """The sha256 (hex) of one audit row's canonical JSON form."""
    body = json.dumps([seq, at, who, run_id, action, payload, prev_hash],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, *, who: str, run_id: str, action: str,
           payload: dict[str, Any], at: datetime | None = None) -> str:
    """Append one row to the chain in its own transaction; returns the row's hash."""
    with transaction(conn):
        return append_in(conn, who=who, run_id=run_id, action=action, payload=payload, at=at)


def append_in(conn: sqlite3.Connection, *, who: str, run_id: str, action: str,
              payload: dict[str, Any], at: datetime | None = None) -> str:
    """Append one row inside the caller's (immediate) transaction."""
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq = (last["seq"] + 1) if last else 1
    prev = last["hash"] if last else GENESIS
    when = (at or datetime.now(timezone.utc)).isoformat()
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    digest = row_hash(seq, when, who, run_id, action, text, prev)
    conn.execute("INSERT INTO audit (seq, at, who, run_id, action, payload, prev_hash, hash) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (seq, when, who, run_id, action, text, prev, digest))
    return digest


@dataclass(frozen=True)
class ChainProblem:
    """The first row where the chain does not hold, and why."""

    seq: int
    reason: str
    run_id: str = ""    # a run whose record does not match this row (the chain holds)

    def __str__(self) -> str:
        return f"audit row {self.seq}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str                       # hash of the last row (GENESIS when empty)
    problem: ChainProblem | None
    runs: int = 0                   # runs found to match the chain (History.verify)

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(conn: sqlite3.Connection) -> ChainReport:
    """Walk the chain from the first row; stop at the first row that does not hold."""
    prev, expected_seq, rows = GENESIS, 1, 0
    for row in conn.execute("SELECT * FROM audit ORDER BY seq"):
        seq = row["seq"]
        if seq != expected_seq:    # seq is the primary key: only a gap is possible
            missing = (f"row {expected_seq} is" if seq == expected_seq + 1
                       else f"rows {expected_seq}-{seq - 1} are")
            return ChainReport(rows, prev, ChainProblem(
                seq, f"{missing} missing before it (deleted)"))
        if row["prev_hash"] != prev:
            return ChainReport(rows, prev, ChainProblem(
                seq, "does not follow the row before it (a row was inserted or deleted "
                     "before it, or its prev_hash was edited)"))
        digest = row_hash(seq, row["at"], row["who"], row["run_id"], row["action"],
                          row["payload"], row["prev_hash"])
        if digest != row["hash"]:
            return ChainReport(rows, prev, ChainProblem(
                seq, f"content does not match its hash (row edited; action {row['action']!r}, "
                     f"run {row['run_id']})"))
        prev, expected_seq, rows = row["hash"], seq + 1, rows + 1
    return ChainReport(rows, prev, None)
