"""``provision runs list|show|verify`` on a history recorded through the API."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_helpers import Run
from provision.history import History
from provision.vocabulary import Operation, Outcome, StageStatus


def _history(home: Path) -> tuple[str, str]:
    hist = History.open(home / "history.db", home=home)
    a = hist.start(Operation.APPLY, spec="demo", env="dev", who="github:octo")
    a.stage("aws", StageStatus.APPLIED)
    a.finish(Outcome.APPLIED, exit_code=0)
    b = hist.start(Operation.APPLY, spec="demo", env="prod", who="github:octo")
    b.stage("aws", StageStatus.FAILED, error="boom")
    b.finish(Outcome.FAILED, exit_code=1, error="stage 'aws' failed: boom")
    hist.close()
    return a.id, b.id


def test_list_show_verify(run_cli: Run, provision_home: Path, tmp_path: Path) -> None:
    dev, prod = _history(provision_home)
    listed = run_cli("runs", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)["runs"]] == [prod, dev]
    only = json.loads(run_cli("runs", "list", "--env", "dev", "--json").stdout)["runs"]
    assert [r["id"] for r in only] == [dev]
    human = run_cli("runs", "list")
    assert dev in human.stdout and "failed" in human.stdout

    shown = run_cli("runs", "show", prod)
    assert shown.code == 0 and "stage aws: failed" in shown.stdout and "boom" in shown.stdout
    doc = json.loads(run_cli("runs", "show", prod, "--json").stdout)
    assert doc["outcome"] == "failed" and doc["steps"][0]["detail"]["error"] == "boom"
    page = tmp_path / "report.html"
    assert run_cli("runs", "show", prod, "--html", str(page)).code == 0
    assert page.read_text().startswith("<!DOCTYPE html>")

    missing = run_cli("runs", "show", "nope")
    assert missing.code == 1 and "no run 'nope'" in missing.stderr and "Traceback" not in missing.stderr

    ok = run_cli("runs", "verify")
    assert ok.code == 0 and "audit log intact: 4 rows" in ok.stderr
    conn = sqlite3.connect(provision_home / "history.db", isolation_level=None)
    conn.execute("UPDATE audit SET who='someone-else' WHERE seq=2")
    conn.close()
    bad = run_cli("runs", "verify")
    assert bad.code == 1 and "audit row 2" in bad.stderr, bad.stderr
    assert json.loads(run_cli("runs", "verify", "--json").stdout)["first_bad_row"] == 2


def test_db_option_and_empty_history(run_cli: Run, tmp_path: Path) -> None:
    db = tmp_path / "custom.db"
    empty = run_cli("runs", "list", "--db", str(db))
    assert empty.code == 0 and "no runs recorded yet" in empty.stderr and db.exists()


def test_show_reports_the_workflow_status_and_degrades_when_its_server_is_gone(
        run_cli: Run, provision_home: Path) -> None:
    from provision.sandbox.process import free_port

    address = f"127.0.0.1:{free_port()}"
    hist = History.open(provision_home / "history.db", home=provision_home)
    run = hist.start(Operation.APPLY, spec="demo", env="dev", who="github:octo")
    run.update(detail={"workflow": {"id": "provision/demo/dev", "run_id": "r-1",
                                    "address": address, "namespace": "default"}})
    run.finish(Outcome.APPLIED, exit_code=0)
    plain = hist.start(Operation.APPLY, spec="demo", env="dev", who="github:octo")
    plain.finish(Outcome.APPLIED, exit_code=0)
    gated = hist.start(Operation.ROLLOUT, spec="demo", env="prod", who="github:octo")
    gated.update(detail={"approval_gate": {"id": f"provision/rollout/{gated.id}/prod",
                                           "run_id": "r-2", "address": address,
                                           "namespace": "default", "env": "prod"}})
    gated.finish(Outcome.HALTED, exit_code=4)
    hist.close()

    human = run_cli("runs", "show", run.id)
    assert human.code == 0, human.stderr
    assert "workflow provision/demo/dev (run r-1)" in human.stdout
    assert f"workflow status unreachable: the Temporal server {address} did not answer" \
        in human.stdout
    doc = json.loads(run_cli("runs", "show", run.id, "--json").stdout)
    assert doc["outcome"] == "applied" and doc["workflow_status"]["state"] == "unreachable"
    # A run of no workflow shows no status and never asks a server.
    assert "workflow_status" not in json.loads(run_cli("runs", "show", plain.id, "--json").stdout)
    rollout = run_cli("runs", "show", gated.id).stdout
    assert f"approval gate provision/rollout/{gated.id}/prod (run r-2)" in rollout
    assert "workflow status unreachable" in rollout


def test_show_names_a_rollout_s_target_and_each_step_once(
        run_cli: Run, provision_home: Path) -> None:
    from provision.vocabulary import GateStatus, StepKind

    hist = History.open(provision_home / "history.db", home=provision_home)
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod", who="github:octo")
    run.step(StepKind.APPROVAL, "approval", GateStatus.WAITING, env="prod")
    run.stage("aws", StageStatus.APPLIED, env="dev")
    run.finish(Outcome.HALTED, exit_code=4)
    hist.close()
    shown = run_cli("runs", "show", run.id).stdout
    assert f"run {run.id}: rollout demo to prod by github:octo" in shown
    assert "  prod: approval: waiting" in shown and "approval approval" not in shown
    assert "  dev: stage aws: applied" in shown


def test_show_of_a_resumed_run_tells_its_outcome_from_earlier_attempts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from provision.cli.runs_cmd import _print_view

    hist = History.open(tmp_path / "history.db", home=tmp_path)
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod", who="github:octo")
    run.finish(Outcome.FAILED, exit_code=1, error="incorrect passphrase")
    hist.resume(run.id).finish(Outcome.APPLIED, exit_code=0)
    _print_view(hist.show(run.id))
    hist.close()
    shown = capsys.readouterr().out
    assert "outcome applied  exit 0" in shown and "error:" not in shown
    assert "earlier attempt: failed exit 1 at 20" in shown
    assert shown.rstrip().endswith(": incorrect passphrase")
