"""A rollout's approval gate as a workflow (approvals.py, gates.py): it waits with no
worker running; an approval naming another plan is refused by the update's validator;
the dev server dies (SIGKILL) and comes back on the same SQLite file while the gate
waits, and the approval then completes it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from provision.errors import PlanError, WorkflowError
from provision.executor.gates import Gates
from provision.executor.records import ApprovalGate, ApprovalRecord
from provision.executor.status import describe
from provision.executor.temporal import Target
from provision.executor.temporal_server import DevServer
from provision.sandbox import process
from provision.vocabulary import WorkflowState

PASSPHRASE = "test-passphrase-not-secret"


def test_an_approval_survives_a_killed_and_restarted_dev_server(tmp_path: Path) -> None:
    first = DevServer(tmp_path / "dev.sqlite").start()
    second = DevServer(tmp_path / "dev.sqlite", port=first.port, ui_port=first.ui_port)
    gates = Gates(Target(first.address), PASSPHRASE, in_process_worker=True)
    gate = ApprovalGate("r-1", "prod", "sha256:aaa")
    try:
        opened = gates.open(gate)
        assert opened["id"] == "provision/rollout/r-1/prod" and opened["run_id"]
        assert opened["address"] == first.address                 # for runs show
        assert gates.approved(gate) is None                       # waiting, no worker runs
        assert describe(opened).state is WorkflowState.RUNNING
        with pytest.raises(PlanError, match="waits for plan sha256:aaa"):
            gates.approve(gate, ApprovalRecord("sha256:bbb", "github:octo"))

        assert first.pid is not None
        os.killpg(first.pid, signal.SIGKILL)                      # the server dies
        while process.is_alive(first.pid):
            time.sleep(0.05)
        first.pid = None
        second.start()                                            # same address and SQLite

        approval = ApprovalRecord("sha256:aaa", "github:octo", "looks right")
        assert gates.approve(gate, approval) == approval
        assert gates.approved(gate) == approval
        assert describe(opened).state is WorkflowState.COMPLETED
        with pytest.raises(WorkflowError, match="no approval gate waits"):   # closed now
            gates.approve(gate, approval)
        assert gates.approved(ApprovalGate("r-1", "prod", "sha256:ccc")) is None  # another plan
        assert gates.approved(ApprovalGate("r-2", "prod", "sha256:aaa")) is None  # no gate
        with pytest.raises(WorkflowError):
            gates.approve(ApprovalGate("r-2", "prod", "sha256:aaa"), approval)
    finally:
        first.stop()
        second.stop()
    assert not first.running() and not second.running()
