"""The runs the audit log speaks of agree with it: ``History.verify`` names a run whose
outcome, exit code, shown detail, steps or policy results were changed after the fact,
and still verifies (for what they carry) runs written before the chain sealed them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from provision.history import History
from provision.history.audit import append
from provision.vocabulary import GateStatus, Operation, Outcome, StageStatus, StepKind


@pytest.fixture
def hist(tmp_path: Path) -> History:
    return History.open(tmp_path / "h.db", home=tmp_path)


def _raw(hist: History) -> sqlite3.Connection:
    return sqlite3.connect(hist.path, isolation_level=None)


def _failed_apply(hist: History) -> str:
    run = hist.start(Operation.APPLY, spec="demo", env="prod", who="github:octo")
    run.stage("aws", StageStatus.FAILED, error="boom")
    run.policy("aws", "pre", [{"rule_id": "R1", "status": "fail", "message": "no"}])
    run.finish(Outcome.FAILED, exit_code=1, error="stage 'aws' failed: boom")
    return run.id


@pytest.mark.parametrize("edit, named", [
    ("UPDATE runs SET outcome='applied', exit_code=0 WHERE id=?", "outcome is 'applied'"),
    ("UPDATE runs SET exit_code=0 WHERE id=?", "exit_code is 0"),
    ("UPDATE runs SET who='github:mallory' WHERE id=?", "differs from what the audit log"),
    ("UPDATE runs SET detail='{}' WHERE id=?", "differs"),                    # the error
    ("UPDATE steps SET status='applied' WHERE run_id=?", "differs"),
    ("DELETE FROM policy WHERE run_id=?", "differs"),
    ("DELETE FROM runs WHERE id=?", "missing from runs"),
])
def test_an_edited_run_is_named_with_its_audit_row(hist: History, edit: str, named: str) -> None:
    rid = _failed_apply(hist)
    other = hist.start(Operation.PLAN, spec="demo", env="dev")
    other.finish(Outcome.PLANNED, exit_code=0)
    report = hist.verify()
    assert report.ok and report.runs == 2
    if edit.startswith("DELETE FROM runs"):
        _raw(hist).execute("DELETE FROM steps WHERE run_id=?", (rid,))
        _raw(hist).execute("DELETE FROM policy WHERE run_id=?", (rid,))
    _raw(hist).execute(edit, (rid,))
    report = hist.verify()
    assert report.problem is not None and report.problem.run_id == rid
    finished = hist.conn.execute("SELECT seq FROM audit WHERE run_id=? AND action='run.finished'",
                                 (rid,)).fetchone()[0]
    assert report.problem.seq == finished and named in report.problem.reason


def test_a_running_run_whose_outcome_is_edited_is_named(hist: History) -> None:
    run = hist.start(Operation.APPLY, spec="demo", env="prod")
    _raw(hist).execute("UPDATE runs SET outcome='applied' WHERE id=?", (run.id,))
    report = hist.verify()
    assert report.problem is not None and "where the audit log says 'running'" in str(report.problem)


def test_resumed_abandoned_and_approved_runs_verify(hist: History) -> None:
    rollout = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    rollout.step(StepKind.APPROVAL, "approval", GateStatus.WAITING, env="prod")
    rollout.finish(Outcome.HALTED, exit_code=4)
    hist.approve(rollout.id, "prod", plan_digest="sha256:x")
    again = hist.resume(rollout.id)
    again.step(StepKind.APPROVAL, "approval", GateStatus.APPROVED, env="prod")
    assert hist.verify().ok                      # steps after its ending, before the next
    again.finish(Outcome.APPLIED, exit_code=0)
    killed = hist.start(Operation.APPLY, spec="demo", env="prod")
    assert hist.abandon(killed.id, found_by="r2", reason="its process 1 is no longer running")
    report = hist.verify()
    assert report.ok and report.runs == 3, report.problem
    _raw(hist).execute("UPDATE runs SET outcome='applied' WHERE id=?", (killed.id,))
    assert hist.verify().problem is not None


def test_runs_written_before_the_seal_verify_and_their_outcome_is_still_checked(
        hist: History) -> None:
    # As an older provision wrote a run: run.started and run.finished payloads without
    # "v", facts or counts.
    hist.conn.execute("INSERT INTO runs (id, operation, spec, env, who, started_at, "
                      "finished_at, duration_s, outcome, exit_code) VALUES "
                      "('old', 'apply', 'demo', 'prod', 'octo', '2026-01-01', '2026-01-01', "
                      "1.5, 'failed', 1)")
    hist.conn.execute("INSERT INTO steps (run_id, seq, env, kind, name, status) VALUES "
                      "('old', 1, 'prod', 'stage', 'aws', 'failed')")
    append(hist.conn, who="octo", run_id="old", action="run.started",
           payload={"operation": "apply", "spec": "demo", "env": "prod"})
    append(hist.conn, who="octo", run_id="old", action="run.finished",
           payload={"operation": "apply", "outcome": "failed", "exit_code": 1,
                    "duration_s": 1.5, "error": "boom", "stages": {"aws": "failed"}})
    _failed_apply(hist)
    report = hist.verify()
    assert report.ok and report.runs == 2, report.problem
    _raw(hist).execute("UPDATE steps SET status='applied' WHERE run_id='old'")
    assert hist.verify().ok                      # not sealed then: nothing to compare
    _raw(hist).execute("UPDATE runs SET outcome='applied', exit_code=0 WHERE id='old'")
    report = hist.verify()
    assert report.problem is not None and report.problem.run_id == "old"
