"""A halted rollout's approval gate on ``temporal-local`` (provision/cli/rollout_gates.py):
the halt opens the gate (its ids in the run record), ``approve`` sends the approval to it
(one naming another plan is refused), ``--resume`` takes an approval the gate holds into
the history once; on ``local`` no gate is opened. The dev server the calls start is
stopped after each one (none is left running)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from provision.cli import rollout_gates
from provision.errors import PlanError
from provision.history import History
from provision.rollout.state import EnvState, RolloutState
from provision.vocabulary import GateStatus, Operation
from test_rollout_sandbox import _demo
from test_temporal_executor_sandbox import _temporal_processes


def _halted(tmp_path: Path, hist: History) -> tuple[RolloutState, str]:
    spec = tmp_path / "demo.yaml"
    _demo(spec, uuid.uuid4().hex[:6], failing_check=False)
    state = RolloutState(str(spec), ["dev", "staging", "prod"])
    state.envs["prod"] = EnvState(GateStatus.WAITING.value, "sha256:aaa", str(tmp_path / "p"))
    record = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    record.update(detail={"rollout": state.to_dict()})
    rollout_gates.open_gate(state, record, None)
    return state, record.id


def test_the_gate_takes_the_approval_on_temporal_local(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_PASSPHRASE", "test-passphrase-not-secret")
    monkeypatch.setenv("PROVISION_EXECUTOR", "temporal-local")
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        state, run_id = _halted(tmp_path, hist)
        gate = hist.run(run_id)["detail"]["approval_gate"]
        assert gate["id"] == f"provision/rollout/{run_id}/prod" and gate["run_id"]
        assert (gate["env"], gate["plan_digest"], gate["executor"]) == (
            "prod", "sha256:aaa", "temporal-local")
        assert gate["db_file"] == str(provision_home / "temporal" / "dev.sqlite")

        rollout_gates.take_approval(hist, state, hist.run(run_id), None)   # nothing yet
        assert hist.approvals(run_id, "prod") == []
        with pytest.raises(PlanError, match="waits for plan sha256:aaa"):
            rollout_gates.send_approval(hist.run(run_id), "prod", "sha256:bbb", "", "github:octo")
        rollout_gates.send_approval(hist.run(run_id), "prod", "sha256:aaa", "fine",
                                    "github:octo")
        for _ in range(2):      # resume: the gate's approval enters the history once
            rollout_gates.take_approval(hist, state, hist.run(run_id), None)
        [approval] = hist.approvals(run_id, "prod")
        assert (approval.who, approval.plan_digest, approval.comment) == (
            "github:octo", "sha256:aaa", "fine")
    finally:
        hist.close()
    assert _temporal_processes(provision_home) == []


def test_no_gate_on_the_local_executor(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_EXECUTOR", "local")
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        _, run_id = _halted(tmp_path, hist)
        assert "approval_gate" not in hist.run(run_id)["detail"]
    finally:
        hist.close()


def test_an_unreachable_cluster_is_an_executor_error_the_halt_survives(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provision.errors import ExecutorError
    from provision.sandbox.process import free_port

    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_PASSPHRASE", "test-passphrase-not-secret")
    monkeypatch.setenv("PROVISION_EXECUTOR", f"temporal://127.0.0.1:{free_port()}")
    hist = History.open(provision_home / "history.db", home=provision_home)
    try:
        with pytest.raises(ExecutorError, match="cannot reach the Temporal server"):
            _halted(tmp_path, hist)      # rollout_cmd reports it as a notice, halted still
    finally:
        hist.close()
