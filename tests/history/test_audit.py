"""The audit chain: intact after appends (also concurrent ones); every kind of
tampering is detected and the first bad row named."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from provision.history import History
from provision.history.audit import append, row_hash, verify
from provision.history.db import connect
from provision.vocabulary import Operation, Outcome


def _fill(db: Path, rows: int = 5) -> None:
    conn = connect(db)
    for i in range(rows):
        append(conn, who="alice", run_id=f"r{i}", action="run.finished", payload={"n": i})
    conn.close()


def _raw(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def test_intact_chain_verifies(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    report = verify(connect(db))
    assert report.ok and report.rows == 5
    assert report.head == _raw(db).execute("SELECT hash FROM audit WHERE seq=5").fetchone()[0]


def test_modified_row_is_named(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    _raw(db).execute("""UPDATE audit SET payload='{"n":99}' WHERE seq=3""")
    report = verify(connect(db))
    assert not report.ok and report.problem is not None
    assert report.problem.seq == 3 and "edited" in report.problem.reason
    assert report.rows == 2


def test_deleted_row_is_detected_at_the_gap(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    _raw(db).execute("DELETE FROM audit WHERE seq=2")
    report = verify(connect(db))
    assert report.problem is not None and report.problem.seq == 3
    assert "row 2 is missing" in report.problem.reason


def test_deleted_row_with_renumbering_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    raw = _raw(db)
    raw.execute("DELETE FROM audit WHERE seq=2")
    for seq in (3, 4, 5):
        raw.execute("UPDATE audit SET seq=? WHERE seq=?", (seq - 1, seq))
    report = verify(connect(db))
    assert report.problem is not None and report.problem.seq == 2


def test_inserted_row_is_detected_even_with_a_correct_own_hash(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    raw = _raw(db)
    # Make room after row 3 and insert a forged row chained correctly to row 3.
    for seq in (5, 4):
        raw.execute("UPDATE audit SET seq=? WHERE seq=?", (seq + 1, seq))
    prev = raw.execute("SELECT hash FROM audit WHERE seq=3").fetchone()[0]
    forged = ("2026-01-01T00:00:00+00:00", "mallory", "rX", "approval", '{"env":"prod"}')
    raw.execute("INSERT INTO audit VALUES (4, ?, ?, ?, ?, ?, ?, ?)",
                (*forged, prev, row_hash(4, *forged, prev)))
    report = verify(connect(db))
    assert report.problem is not None and report.problem.seq == 5   # the row after the forgery
    assert "does not follow" in report.problem.reason or "edited" in report.problem.reason


def test_inserted_row_at_the_end_with_a_wrong_link_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _fill(db)
    raw = _raw(db)
    prev = raw.execute("SELECT hash FROM audit WHERE seq=2").fetchone()[0]
    forged = ("2026-01-01T00:00:00+00:00", "mallory", "rX", "approval", "{}")
    raw.execute("INSERT INTO audit VALUES (6, ?, ?, ?, ?, ?, ?, ?)",
                (*forged, prev, row_hash(6, *forged, prev)))
    report = verify(connect(db))
    assert report.problem is not None and report.problem.seq == 6


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    connect(db).close()

    def writer(n: int) -> None:
        hist = History.open(db, home=tmp_path)
        for _ in range(10):
            hist.start(Operation.PLAN, spec="s", env=f"e{n}").finish(Outcome.PLANNED, exit_code=0)
        hist.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # And a second process at the same time as this one.
    code = ("import sys; from pathlib import Path; from provision.history import History;"
            "from provision.vocabulary import Operation, Outcome;"
            "h = History.open(Path(sys.argv[1]), home=Path(sys.argv[2]));"
            "[h.start(Operation.APPLY, spec='s', env='p').finish(Outcome.APPLIED, exit_code=0)"
            " for _ in range(10)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(tmp_path)])
             for _ in range(2)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    report = verify(connect(db))
    assert report.ok, report.problem
    assert report.rows == (4 * 10 + 2 * 10) * 2   # started + finished per run


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    from provision.errors import HistoryError

    bad = tmp_path / "h.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot open the run history"):
        connect(bad)
