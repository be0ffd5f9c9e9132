"""The run-history database: one SQLite file, WAL mode, safe for concurrent writers.

Tables (schema version 1):

    meta     key/value: schema version, one-time imports done
    runs     one row per run: operation, spec, env, who, times, digests, outcome, exit code
    steps    what a run did, in order: stage outcomes, plans, health checks, approvals
    policy   every policy result of a run (advisory ones too)
    audit    the hash-chained audit log (see provision.history.audit)

Several processes may write at once (a rollout in one terminal, an approval in
another): every write is one ``BEGIN IMMEDIATE`` transaction, and readers are
never blocked (WAL). A writer waits up to ``BUSY_TIMEOUT_S`` for the write lock.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tenacity

from provision.errors import HistoryError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
ENV_DB = "PROVISION_HISTORY_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    spec TEXT NOT NULL DEFAULT '',
    spec_file TEXT NOT NULL DEFAULT '',
    env TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_s REAL,
    spec_digest TEXT NOT NULL DEFAULT '',
    plan_digest TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    exit_code INTEGER,
    parent_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_env ON runs (env, started_at);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    env TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    duration_s REAL,
    detail TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS policy (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    env TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    status TEXT NOT NULL,
    resource TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    enforcement TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    run_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


def default_path(home: Path) -> Path:
    """``$PROVISION_HISTORY_DB``, else ``<home>/history.db`` (home: ``.provision/``)."""
    configured = os.environ.get(ENV_DB)
    return Path(configured).absolute() if configured else home / "history.db"


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc))


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` with the schema in place.

    Raises HistoryError when the file cannot be opened or is not a history database.
    The connection is in autocommit mode; write through :func:`transaction`.

    Two processes opening a new file at once race to switch it to WAL; SQLite
    answers the loser "database is locked" without calling its busy handler, so
    opening is retried (with jittered backoff) for up to ``BUSY_TIMEOUT_S``.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in tenacity.Retrying(
                retry=tenacity.retry_if_exception(_is_busy), reraise=True,
                stop=tenacity.stop_after_delay(BUSY_TIMEOUT_S),
                wait=tenacity.wait_random_exponential(multiplier=0.02, max=0.5)):
            with attempt:
                return _open(path)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise HistoryError(f"{path}: cannot open the run history: {exc}",
                           hint="check the path and its permissions, or set "
                                f"{ENV_DB} to another file") from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with transaction(conn):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row["value"]) > SCHEMA_VERSION:
                raise HistoryError(
                    f"{path}: run history written by a newer provision (schema {row['value']})",
                    hint="upgrade provision, or point PROVISION_HISTORY_DB at another file")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken with the write lock up front (``BEGIN IMMEDIATE``),
    so a read-then-write (the audit chain) cannot interleave with another writer."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
