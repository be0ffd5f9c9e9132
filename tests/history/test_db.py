"""The history database opens safely from many processes at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from provision.history.db import connect

_OPEN = """
import sys, time
from pathlib import Path
from provision.history.db import connect
start = float(sys.argv[2])
while time.time() < start:
    pass
conn = connect(Path(sys.argv[1]))
conn.execute("SELECT count(*) FROM runs").fetchone()
print("ok")
"""


def test_processes_creating_the_file_at_once_all_open_it(tmp_path: Path) -> None:
    # Racing to switch a new file to WAL makes SQLite answer "database is locked"
    # without waiting; every opener must still succeed.
    for round_ in range(5):
        db = tmp_path / f"history-{round_}.db"

        start = str(time.time() + 1.5)
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN, str(db), start],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(12)]
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0] * 12, [err for _, err in results]
    conn = connect(tmp_path / "history-0.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
