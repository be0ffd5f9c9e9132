"""A rollout on a temporal executor from the CLI's side (provision/cli/rollout_gates.py):
on ``local`` there is no workflow; on a temporal one the rollout's workflow is named in
the run record, the environment waiting for an approval as its gate (sealed with the
chain's last environment's passphrase), and an unreachable server fails the rollout with
a clear message, recorded. The rollout itself through temporal-local:
test_temporal_rollout_sandbox.py; the workflows: tests/executor."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from cli_helpers import Run
from provision.cli import rollout_gates
from provision.history import History
from provision.rollout.state import RolloutState
from provision.sandbox.process import free_port
from provision.vocabulary import Operation, Outcome
from test_rollout_sandbox import _demo


def _rollout(tmp_path: Path, hist: History) -> tuple[RolloutState, object]:
    spec = tmp_path / "demo.yaml"
    _demo(spec, uuid.uuid4().hex[:6], failing_check=False)
    state = RolloutState(str(spec), ["dev", "staging", "prod"])
    record = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    record.update(detail={"rollout": state.to_dict()})
    return state, record


def test_no_workflow_on_the_local_executor(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_EXECUTOR", "local")
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        state, record = _rollout(tmp_path, hist)
        assert rollout_gates.workflow_rollout(state, record, None) is None  # type: ignore[arg-type]
    finally:
        hist.close()


def test_the_workflow_and_the_waiting_environment_go_into_the_run_record(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_PASSPHRASE", "test-passphrase-not-secret")
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        state, record = _rollout(tmp_path, hist)
        runner = rollout_gates.workflow_rollout(state, record, "temporal-local")  # type: ignore[arg-type]
        assert runner is not None and runner.target.local and runner.in_process
        runner.started({"id": "provision/rollout/r", "run_id": "w1"})
        runner.waiting({"id": "provision/rollout/r/prod", "run_id": "w2", "env": "prod",
                        "plan_digest": "sha256:aaa"})
        detail = hist.run(record.id)["detail"]      # type: ignore[attr-defined]
        assert detail["workflow"] == {"id": "provision/rollout/r", "run_id": "w1",
                                      "executor": "temporal-local"}
        assert detail["approval_gate"] == {
            "id": "provision/rollout/r/prod", "run_id": "w2", "env": "prod",
            "plan_digest": "sha256:aaa", "executor": "temporal-local", "sealed_by": "prod"}
    finally:
        hist.close()


def test_an_unreachable_cluster_fails_the_rollout_naming_it(
        run_cli: Run, tmp_path: Path) -> None:
    spec = tmp_path / "demo.yaml"
    _demo(spec, uuid.uuid4().hex[:6], failing_check=False)
    address = f"127.0.0.1:{free_port()}"
    result = run_cli("rollout", str(spec), "--to", "prod", "--json", "--non-interactive",
                     "--executor", f"temporal://{address}",
                     env={"PROVISION_PASSPHRASE": "test-passphrase-not-secret"})
    assert result.code == 1, result.stdout + result.stderr
    assert f"cannot reach the Temporal server at {address}" in result.stderr
    assert "Traceback" not in result.stderr
    run_id = json.loads(result.stdout.splitlines()[0])["run_id"]
    shown = json.loads(run_cli("runs", "show", run_id, "--json").stdout)
    assert (shown["outcome"], shown["exit_code"]) == ("failed", 1)
    assert "cannot reach the Temporal server" in shown["detail"]["error"]


def test_resume_runs_on_the_executor_the_rollout_started_on(
        run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    """``rollout --resume RUN`` (the command a halt prints) goes back to the rollout's own
    executor, where its workflow waits, not to ``local``; naming another is refused."""
    address = f"127.0.0.1:{free_port()}"            # nothing listens: where it is tried shows
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        _, record = _rollout(tmp_path, hist)
        record.update(detail={"workflow": {"id": "provision/rollout/r", "run_id": "w1",
                                           "executor": f"temporal://{address}"}})
        record.finish(Outcome.HALTED, exit_code=4)     # type: ignore[attr-defined]
        run_id = record.id                       # type: ignore[attr-defined]
    finally:
        hist.close()
    env = {"PROVISION_PASSPHRASE": "test-passphrase-not-secret"}
    resumed = run_cli("rollout", "--resume", run_id, "--non-interactive", env=env)
    assert resumed.code == 1, resumed.stdout + resumed.stderr
    assert f"cannot reach the Temporal server at {address}" in resumed.stderr
    elsewhere = run_cli("rollout", "--resume", run_id, "--executor", "local", env=env)
    assert elsewhere.code == 1
    assert f"rollout {run_id} runs on the temporal://{address} executor, not local" \
        in elsewhere.stderr
    assert f"provision rollout --resume {run_id}" in elsewhere.stderr
    assert "Traceback" not in resumed.stderr + elsewhere.stderr
