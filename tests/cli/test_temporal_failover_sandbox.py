"""Failover with the real Pulumi engine: two ``provision worker`` processes serve a
Temporal dev server; the one running a stage's ``pulumi up`` is SIGKILLed; the stage is
retried on the other (stack recovery first) and completes exactly once. Verified with
each cloud's SDK (no duplicate, no orphan) and /proc (no process of the killed worker
left)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from provision.executor.temporal_server import DevServer
from test_e2e_sandbox import _clients, _spec

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]

PASSPHRASE = "failover-test-passphrase-not-secret"


def _environ_has(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _ours(home: Path) -> list[int]:
    """Live processes started for this test's provision home (workers, Pulumi, plugins)."""
    marker = f"PROVISION_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            except OSError:
                continue
            if state != "Z" and _environ_has(int(entry.name), marker):
                found.append(int(entry.name))
    return found


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "provision.cli.main", *args], cwd=cwd,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_a_killed_worker_s_stage_completes_once_on_the_other(
        sandbox: Any, tmp_path: Path, provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(suffix))
    s3, arm, gcs = _clients(sandbox.cloud_settings())
    procs: list[subprocess.Popen[bytes]] = []
    with DevServer(tmp_path / "dev.sqlite") as server:
        executor = f"temporal://{server.address}?heartbeat=6"
        env = {**os.environ, "PROVISION_HOME": str(provision_home),
               "PROVISION_SANDBOX_DIR": str(sandbox.home), "PROVISION_PASSPHRASE": PASSPHRASE,
               "PROVISION_EXECUTOR": executor}
        try:
            workers = [_start(["worker", "--queue", "provision"], env, tmp_path,
                              tmp_path / f"worker{i}.log") for i in (1, 2)]
            procs += workers
            time.sleep(3)           # both polling before the run starts
            client = _start(["apply", str(spec), "--env", "local", "--yes", "--json"], env,
                            tmp_path, tmp_path / "client.log")
            procs.append(client)
            # Wait for a worker's `pulumi up`, then SIGKILL that worker.
            victim = None
            deadline = time.monotonic() + 300
            while victim is None and time.monotonic() < deadline:
                for pid in _ours(provision_home):
                    argv = _cmdline(pid)
                    if argv and argv[0].endswith("pulumi") and "up" in argv:
                        victim = next((w for w in workers if w.pid == _ppid(pid)), None)
                        if victim is not None:
                            break
                time.sleep(0.1)
            assert victim is not None, (tmp_path / "client.log").read_text()
            # Kill while the update holds its stack lock: the retried stage then has
            # a dead attempt to repair (a fixed sleep could land after a fast update).
            locks = provision_home / "state" / ".pulumi" / "locks"
            deadline = time.monotonic() + 120
            while not any(locks.rglob("*.json")) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert any(locks.rglob("*.json")), "the update never took its stack lock"
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            # The run's watchdog kills the victim's Pulumi at once; on a loaded machine its
            # `up` of a new stack (nothing to refresh) can still finish first and unlock.
            time.sleep(2)           # the retry comes after the 6 s heartbeat timeout
            left_locked = any(locks.rglob("*.json"))
            client.wait(600)
            log = (tmp_path / "client.log").read_text()
            assert client.returncode == 0, log
            events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
            [summary] = [e for e in events if e["event"] == "summary"]
            assert summary["status"] == "applied"
            # The killed worker's processes (Pulumi and its plugins) are all gone.
            survivor = next(w for w in workers if w is not victim)
            leftovers = [p for p in _ours(provision_home)
                         if p != survivor.pid and _ppid(p) != survivor.pid]
            assert leftovers == [], [(p, _cmdline(p)) for p in leftovers]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
    # Exactly one of each resource in the clouds: no duplicate, no orphan.
    assert [b["Name"] for b in s3.list_buckets()["Buckets"] if suffix in b["Name"]] == [
        f"logs-e2e-{suffix}"]
    assert [g.name for g in arm.resource_groups.list() if suffix in g.name] == [
        f"rg-e2e-{suffix}"]
    assert [b.name for b in gcs.list_buckets() if suffix in b.name] == [f"art-rg-e2e-{suffix}"]
    # The other worker took the stage over and repaired the dead attempt's stack first.
    repaired = [line for i in (1, 2) for line in
                (tmp_path / f"worker{i}.log").read_text().splitlines() if "repaired stage" in line]
    if left_locked:
        assert repaired, "the retried stage found nothing to repair"
    assert _ours(provision_home) == []
