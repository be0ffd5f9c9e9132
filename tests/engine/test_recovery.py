"""Reconciling pending operations with the cloud (fake finder, real deployment shapes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import pytest

from provision.engine.dynamic import INPUT_KEYS, PROVIDER_KEY
from provision.engine.recovery import Recovery, reconcile
from provision.engine.pulumi_state import RESOURCE_TYPE, SECRET_SIG
from provision.engine.statestore import FileStateStore
from provision.errors import RecoveryError, StackLockedError
from provision.provider import ReadResult
from providers.testing import fake_registry

STACK = "t.dev.first"


def _urn(rid: str) -> str:
    return f"urn:pulumi:{STACK}::t::{RESOURCE_TYPE}::{rid}"


def _state(rid: str, **inputs: Any) -> dict[str, Any]:
    return {"urn": _urn(rid), "custom": True, "type": RESOURCE_TYPE,
            "inputs": {PROVIDER_KEY: "pickled", **inputs}, "provider": "urn:...::default::1"}


def _deployment() -> dict[str, Any]:
    kept = {**_state("kept", name="kept"), "id": "kept", "outputs": {"name": "kept"}}
    return {"resources": [kept], "pending_operations": [
        {"resource": _state("made", name="made", secret_value={SECRET_SIG: "x",
                                                                 "ciphertext": "zz"}),
         "type": "creating"},
        {"resource": _state("never", name="never"), "type": "creating"},
        {"resource": _state("kept", name="kept"), "type": "updating"},
    ]}


def _find(type_name: str, props: Mapping[str, Any]) -> ReadResult | None:
    assert props.get("secret_value") is None          # encrypted values are never looked at
    if props.get("name") == "made":
        return ReadResult("made", {"name": "made", "arn": "arn:fake:thing/made",
                                   "secret_value": "s3cr3t"})
    return None


TYPES = {"made": "test:fake:Thing", "never": "test:fake:Thing", "kept": "test:fake:Thing"}


def _secrets(type_name: str) -> set[str]:
    return {"secret_value"}


def test_found_creates_are_imported_missing_ones_and_others_dropped() -> None:
    fixed, actions = reconcile(_deployment(), TYPES, _find, _secrets)
    assert "pending_operations" not in fixed
    assert [(a.resource, a.operation, a.action) for a in actions] == [
        ("made", "creating", "import"), ("never", "creating", "drop"),
        ("kept", "updating", "drop")]
    made = next(r for r in fixed["resources"] if r["urn"] == _urn("made"))
    assert made["id"] == "made"
    assert made["outputs"]["arn"] == "arn:fake:thing/made"
    assert made["outputs"][PROVIDER_KEY] == "pickled"
    assert made["outputs"][INPUT_KEYS] == ["name", "secret_value"]
    # the live secret goes back into state only inside a secret envelope
    envelope = made["outputs"]["secret_value"]
    assert SECRET_SIG in envelope and json.loads(envelope["plaintext"]) == "s3cr3t"
    assert [r["urn"] for r in fixed["resources"]] == [_urn("kept"), _urn("made")]


def test_a_create_of_unknown_type_stops_the_repair() -> None:
    with pytest.raises(RecoveryError, match="'made'"):
        reconcile(_deployment(), {}, _find, _secrets)


class _Engine:
    def __init__(self, deployment: dict[str, Any] | None) -> None:
        self.deployment = deployment
        self.calls: list[str] = []

    def lock_prefix(self, stack_name: str) -> str:
        return f".pulumi/locks/organization/t/{stack_name}"

    def export(self, stack_name: str) -> dict[str, Any] | None:
        self.calls.append("export")
        return self.deployment

    def import_(self, stack_name: str, deployment: Mapping[str, Any]) -> None:
        self.calls.append("import")
        self.deployment = dict(deployment)

    def cancel(self, stack_name: str) -> None:
        self.calls.append("cancel")


def _pulumi_lock(store: FileStateStore, pid: int, host: str, timestamp: str = "") -> None:
    body = {"pid": pid, "username": "u", "hostname": host,
            "timestamp": timestamp or datetime.now(timezone.utc).isoformat()}
    store.put(f".pulumi/locks/organization/t/{STACK}/abc.json", json.dumps(body).encode())


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_inspect_changes_nothing_and_repair_cancels_then_imports(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    _pulumi_lock(store, _dead_pid(), socket.gethostname())
    engine = _Engine(_deployment())
    recovery = Recovery(store, engine, fake_registry(), _find, TYPES)
    report = recovery.inspect("first", STACK)
    assert engine.calls == ["export"]
    assert report.locks[0].stale and "no longer running" in report.locks[0].reason
    assert any("creating made: import" in line for line in report.lines())
    recovery.repair("first", STACK)
    assert engine.calls[-2:] == ["cancel", "import"]
    assert engine.deployment is not None and "pending_operations" not in engine.deployment


def test_a_stale_lock_of_a_stack_without_state_is_removed_without_cancel(tmp_path: Path) -> None:
    # Its first update died in ``stack init``: a lock, no checkpoint, nothing to cancel.
    store = FileStateStore(tmp_path)
    _pulumi_lock(store, _dead_pid(), socket.gethostname())
    engine = _Engine(None)
    report = Recovery(store, engine, fake_registry(), _find, TYPES).repair("first", STACK)
    assert report.needed and "cancel" not in engine.calls
    assert store.list(engine.lock_prefix(STACK)) == []


def test_a_lock_of_a_live_process_is_never_removed(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    _pulumi_lock(store, os.getpid(), socket.gethostname())
    engine = _Engine(_deployment())
    with pytest.raises(StackLockedError, match="stage 'first' is locked"):
        Recovery(store, engine, fake_registry(), _find, TYPES).repair("first", STACK)
    assert "cancel" not in engine.calls and "import" not in engine.calls


def test_a_lock_whose_pid_now_names_a_later_process_is_stale(tmp_path: Path) -> None:
    # Written before this process started: the pid was reused, the holder is gone.
    store = FileStateStore(tmp_path)
    _pulumi_lock(store, os.getpid(), socket.gethostname(), "2020-01-01T00:00:00.123456789Z")
    lock = Recovery(store, _Engine({}), fake_registry(), _find, TYPES).inspect(
        "first", STACK).locks[0]
    assert lock.stale and "reused" in lock.reason


def test_a_lock_held_by_a_zombie_is_stale(tmp_path: Path) -> None:
    # An exited child not yet reaped (as under an init that never reaps) holds nothing.
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        store = FileStateStore(tmp_path)
        _pulumi_lock(store, proc.pid, socket.gethostname())
        lock = Recovery(store, _Engine({}), fake_registry(), _find, TYPES).inspect(
            "first", STACK).locks[0]
        assert lock.stale and "no longer running" in lock.reason
    finally:
        proc.wait()


def test_a_foreign_lock_is_stale_only_when_a_crashed_run_had_the_stage_in_flight(
        tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    _pulumi_lock(store, 4242, "another-host")
    recovery = Recovery(store, _Engine({}), fake_registry(), _find, TYPES)
    assert not recovery.inspect("first", STACK).locks[0].stale
    assert recovery.inspect("first", STACK, crashed_in_flight=True).locks[0].stale
