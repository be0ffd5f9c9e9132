"""StackRunner pieces that need no engine run: the lock holder of a file-backend stack,
the listing that tells a stack does not exist."""

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
    from provision.engine.pulumi_cli import diagnostic_reason

    trace = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
             "RuntimeError: Event loop stopped before Future completed.\n")
    assert diagnostic_reason(trace) == "RuntimeError: Event loop stopped before Future completed."
    assert diagnostic_reason("preview failed: bad input\ndetail") == "preview failed: bad input"
    assert diagnostic_reason("  \n") == "the engine failed"


def test_a_stack_without_a_checkpoint_file_is_absent_without_asking_the_cli(
        tmp_path: Path) -> None:
    """snapshot() of a stack the file backend has no checkpoint for is None at once (the
    toolchain here has no CLI: any CLI call would fail); either DIY layout, plain or
    compressed, counts as present."""
    from dataclasses import replace

    from provision.engine.statestore import FileStateStore

    state = tmp_path / "state"
    stacks = state / ".pulumi" / "stacks"
    run = runner(tmp_path, f"file://{state}")
    run.options = replace(run.options, state_store=FileStateStore(state))
    assert run.snapshot("demo.dev.net") is None
    (stacks / "demo").mkdir(parents=True)
    (stacks / "demo" / "demo.dev.old.json.bak").write_text("{}")   # removed: only a backup
    assert run.snapshot("demo.dev.old") is None
    for path in (stacks / "demo" / "demo.dev.a.json", stacks / "demo" / "demo.dev.b.json.gz",
                 stacks / "demo.dev.c.json"):
        path.write_text("{}")
    assert not any(run._surely_absent(name) for name in ("demo.dev.a", "demo.dev.b", "demo.dev.c"))
    assert run._surely_absent("demo.dev.d")
    assert not runner(tmp_path, f"file://{state}")._surely_absent("demo.dev.d")   # no store
