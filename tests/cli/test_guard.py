"""Every mutating command goes through the run guard (provision.cli.guard): while a
live run holds the environment lock, a second one exits 1 at once naming the holder,
with a hint that names the real spec file and environment. The lock is taken before
any engine or cloud call, so no sandbox is needed: the holder is this test process."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import providers
from cli_helpers import Run
from provision.engine.lock import EnvironmentLock
from provision.engine.statestore import StoreRegistry
from provision.errors import EnvironmentLockedError, StackLockedError
from provision.vocabulary import Operation

SPEC = """
name: guarded
promotion: [ci, prod]
environments:
  ci: {aws: {region: us-east-1}}
  prod: {aws: {region: us-east-1}}
resources:
  logs: {type: aws:s3:Bucket, properties: {bucket: guarded-logs-example}}
"""


@pytest.fixture
def backend(tmp_path: Path) -> str:
    return f"file://{tmp_path / 'state'}"


@pytest.fixture
def held(backend: str) -> Iterator[EnvironmentLock]:
    """The lock of guarded/ci, held by this (live) process as run 'holder-run'."""
    (Path(backend[len("file://"):])).mkdir(parents=True, exist_ok=True)
    store = StoreRegistry(providers.state_stores()).open(backend)
    lock = EnvironmentLock(store, "guarded", "ci", "holder-run", Operation.APPLY)
    lock.acquire()
    yield lock
    lock.release()


MUTATING = {
    "apply": ["apply", "my specs/guarded.yaml", "--env", "ci", "--yes", "--no-policy"],
    "destroy": ["destroy", "my specs/guarded.yaml", "--env", "ci", "--yes"],
    "import": ["import", "my specs/guarded.yaml", "logs", "guarded-logs-example", "--env", "ci"],
    "repair": ["repair", "my specs/guarded.yaml", "--env", "ci"],
    "rollout": ["rollout", "my specs/guarded.yaml", "--to", "ci", "--non-interactive",
                "--no-policy"],
}


@pytest.mark.parametrize("command", sorted(MUTATING))
def test_a_mutating_command_on_a_locked_environment_exits_1_naming_the_holder(
        command: str, held: EnvironmentLock, backend: str, run_cli: Run,
        tmp_path: Path) -> None:
    (tmp_path / "my specs").mkdir()
    (tmp_path / "my specs" / "guarded.yaml").write_text(SPEC)
    # With the passphrase 'ci' needs (a rollout checks it before it starts), the lock
    # is what stops each command.
    result = run_cli(*MUTATING[command], env={"PROVISION_BACKEND_URL": backend,
                                              "PULUMI_CONFIG_PASSPHRASE": "guard-test"},
                     timeout=120)
    text = result.stdout + result.stderr
    assert result.code == 1, text
    assert "environment 'ci' of spec 'guarded' is locked by run holder-run (apply)" in text
    assert f"pid {os.getpid()}" in text and socket.gethostname() in text
    # The spec file as given (a rollout remembers it as an absolute path), quoted.
    assert re.search(r"provision unlock '(\S*/)?my specs/guarded\.yaml' --env ci\n", text), text
    assert "SPEC" not in text and "Traceback" not in text
    assert held.renew()   # the holder's lock is untouched


def test_approve_changes_no_state_and_takes_no_lock(held: EnvironmentLock, backend: str,
                                                    run_cli: Run) -> None:
    result = run_cli("approve", "no-such-run", "--env", "ci",
                     env={"PROVISION_BACKEND_URL": backend})
    assert result.code == 1 and "locked" not in result.stderr, result.stderr


def test_lock_hints_name_the_command_to_run() -> None:
    env_locked = EnvironmentLockedError("guarded", "ci", "run r1")
    assert env_locked.hint.endswith("provision unlock SPEC --env ci")
    env_locked.name_command("stacks/app.yaml", "ci")
    assert env_locked.hint.endswith("provision unlock stacks/app.yaml --env ci")
    stack_locked = StackLockedError("guarded.ci.aws", "ci@host (pid 1)")
    stack_locked.name_command("my spec.yaml", "prod")
    assert "provision repair 'my spec.yaml' --env prod (it clears" in stack_locked.hint


def test_a_run_that_takes_over_a_dead_run_s_lock_records_it_abandoned(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import subprocess
    import sys

    from provision.cli import guard, session
    from provision.cli.runs_cmd import _print_view
    from provision.engine.lock import LockHolder, lock_key
    from provision.history import History

    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROVISION_BACKEND_URL", backend)
    (tmp_path / "guarded.yaml").write_text(SPEC)
    history = History.open(tmp_path / "home" / "history.db", home=tmp_path / "home")
    killed = history.start(Operation.APPLY, spec="guarded", env="ci")   # kill -9: no finish
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = json.loads(LockHolder.me(killed.id, Operation.APPLY, 600).encode())
    holder.update(pid=dead.pid, pid_start="1")
    Path(backend[len("file://"):]).mkdir(parents=True, exist_ok=True)
    store = StoreRegistry(providers.state_stores()).open(backend)
    store.create(lock_key("guarded", "ci"), json.dumps(holder).encode())

    loaded = session.load(str(tmp_path / "guarded.yaml"), "ci")
    with guard.engine_run(loaded, Operation.APPLY, "run-next", notice=lambda text: None):
        pass
    run = history.run(killed.id)
    assert (run["outcome"], run["exit_code"], run["finished_at"]) == ("abandoned", None, None)
    found = run["detail"]["abandoned"]
    assert found["found_by"] == "run-next" and "no longer running" in found["reason"]
    assert found["found_at"]
    actions = [r["action"] for r in history.conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions[-1] == "run.abandoned" and history.verify().ok
    _print_view(history.show(killed.id))
    shown = capsys.readouterr().out
    assert "outcome abandoned  exit -" in shown and "None" not in shown
    assert "found dead at 20" in shown and "by run run-next (its process" in shown
    # Only a run still 'running' is abandoned: a finished one keeps its outcome.
    assert not history.abandon(killed.id, found_by="x", reason="y")
    history.close()
