"""StackRunner pieces that need no engine run: the lock holder of a file-backend stack."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from provision.engine.protocol import LockHolder
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.toolchain import Toolchain


def runner(tmp_path: Path, backend: str) -> StackRunner:
    options = EngineOptions(toolchain=Toolchain(tmp_path / "bin", "0"), backend_url=backend,
                            passphrase="not-secret", cloud_configs={}, work_dir=tmp_path / "work")
    return StackRunner("demo", options)


def test_the_lock_holder_is_read_from_the_backends_lock_record(tmp_path: Path) -> None:
    # Pulumi's file backend: .pulumi/locks/<organization>/<project>/<stack>/<lock id>.json
    folder = tmp_path / "state" / ".pulumi" / "locks" / "organization" / "demo" / "demo.dev.aws"
    folder.mkdir(parents=True)
    (folder / "0b6e.json").write_text(json.dumps({
        "pid": 4242, "username": "alice", "hostname": "build-7",
        "timestamp": "2026-01-02T03:04:05.123456789Z"}))
    engine = runner(tmp_path, f"file://{tmp_path / 'state'}")
    holder = engine._lock_holder("demo.dev.aws")
    assert holder is not None
    assert (holder.who, holder.host, holder.pid) == ("alice", "build-7", 4242)
    assert holder.describe().startswith("alice on build-7 (pid 4242)")
    assert engine._lock_holder("demo.dev.gcp") is None                  # no lock: free


def test_a_lock_holder_describes_itself() -> None:
    holder = LockHolder("bob", "ci-1", 7, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert holder.describe() == "bob on ci-1 (pid 7) since 2026-01-02T03:04:05+00:00"
    assert LockHolder("").describe() == "an unknown user"


def test_an_engine_diagnostic_is_reported_by_the_line_that_says_why() -> None:
    from provision.engine.runner import diagnostic_reason

    trace = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
             "RuntimeError: Event loop stopped before Future completed.\n")
    assert diagnostic_reason(trace) == "RuntimeError: Event loop stopped before Future completed."
    assert diagnostic_reason("preview failed: bad input\ndetail") == "preview failed: bad input"
    assert diagnostic_reason("  \n") == "the engine failed"
