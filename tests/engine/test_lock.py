"""The environment lock: one holder, a clear refusal, takeover of provably dead holders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from provision.engine.lock import (EnvironmentLock, LockHolder, current_holder, force_unlock,
                                   lock_key)
from provision.engine.statestore import FileStateStore
from provision.errors import EnvironmentLockedError
from provision.vocabulary import Operation


def _lock(store: FileStateStore, run: str, **kw: object) -> EnvironmentLock:
    return EnvironmentLock(store, "demo", "local", run, Operation.APPLY, **kw)  # type: ignore[arg-type]


def test_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    with _lock(store, "run-1"):
        with pytest.raises(EnvironmentLockedError) as info:
            _lock(store, "run-2").acquire()
        text = info.value.render()
        assert "environment 'local' of spec 'demo' is locked by run run-1 (apply)" in text
        assert "pid" in text and "since" in text
        assert "provision unlock SPEC --env local" in text
    # released: the next run gets it
    with _lock(store, "run-3"):
        holder = current_holder(store, "demo", "local")
        assert holder is not None and holder[0].run_id == "run-3"
    assert current_holder(store, "demo", "local") is None


def test_a_dead_holder_on_this_machine_is_taken_over_and_logged(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = LockHolder.me("run-dead", Operation.APPLY, 600)
    data = json.loads(holder.encode())
    data.update(pid=dead.pid, pid_start="1")
    store.create(lock_key("demo", "local"), json.dumps(data).encode())
    lines: list[str] = []
    lock = _lock(store, "run-2", log=lines.append)
    lock.acquire()
    try:
        assert lock.took_over is not None and lock.took_over.run_id == "run-dead"
        assert len(lines) == 1 and "took over the lock of demo/local from run run-dead" in lines[0]
        assert "no longer running" in lines[0]
    finally:
        lock.release()


def test_an_expired_lease_from_another_host_is_taken_over(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    holder = LockHolder(run_id="run-far", operation="apply", user="ci", host="elsewhere",
                        pid=1, since=past.isoformat(),
                        expires=(past + timedelta(seconds=120)).isoformat())
    store.create(lock_key("demo", "local"), holder.encode())
    lines: list[str] = []
    with _lock(store, "run-2", log=lines.append) as lock:
        assert lock.took_over is not None
    assert "lease expired" in lines[0]


def test_a_live_holder_on_another_host_is_not_taken_over(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    now = datetime.now(timezone.utc)
    holder = LockHolder(run_id="run-far", operation="destroy", user="ci", host="elsewhere",
                        pid=1, since=now.isoformat(),
                        expires=(now + timedelta(seconds=120)).isoformat())
    store.create(lock_key("demo", "local"), holder.encode())
    with pytest.raises(EnvironmentLockedError, match="run run-far \\(destroy\\) by ci@elsewhere"):
        _lock(store, "run-2").acquire()


def test_the_lease_is_renewed_and_a_lost_lock_is_noticed(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    lock = _lock(store, "run-1", lease=0.4)
    lock.acquire()
    try:
        first = LockHolder.parse((store.read(lock_key("demo", "local")) or (b"", ""))[0])
        renewed = False
        for _ in range(100):                              # the lease thread renews it
            time.sleep(0.05)
            now = LockHolder.parse((store.read(lock_key("demo", "local")) or (b"", ""))[0])
            if now.expires > first.expires:
                renewed = True
                break
        assert renewed
        held = current_holder(store, "demo", "local")
        assert held is not None and force_unlock(store, "demo", "local", held[1])
        store.create(lock_key("demo", "local"), LockHolder.me("run-x", Operation.APPLY, 60).encode())
        assert not lock.renew() and lock.lost
    finally:
        lock.release()
    # a lost lock is not deleted by its former holder
    held = current_holder(store, "demo", "local")
    assert held is not None and held[0].run_id == "run-x"


def test_two_processes_at_once_exactly_one_holds(tmp_path: Path) -> None:
    code = """
import sys, time
from pathlib import Path
from provision.engine.lock import EnvironmentLock
from provision.engine.statestore import FileStateStore
from provision.errors import EnvironmentLockedError
from provision.vocabulary import Operation
lock = EnvironmentLock(FileStateStore(Path(sys.argv[1])), "demo", "local", sys.argv[2], Operation.APPLY)
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))   # all start together
try:
    lock.acquire()
except EnvironmentLockedError as exc:
    print("refused", exc.holder); sys.exit(1)
time.sleep(3); lock.release(); print("held")
"""
    start = str(time.time() + 4)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"run-{i}", start],
                              stdout=subprocess.PIPE, text=True) for i in range(4)]
    outs = [p.communicate()[0] for p in procs]
    assert [p.returncode for p in procs].count(0) == 1
    assert sum("refused run run-" in o for o in outs) == 3
