"""Recording runs, approvals and queries; the one-time import of old JSON records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.errors import RunNotFoundError
from provision.history import History, who
from provision.vocabulary import GateStatus, Operation, Outcome, StageStatus, StepKind


@pytest.fixture
def hist(tmp_path: Path) -> History:
    return History.open(tmp_path / "h.db", home=tmp_path)


def test_a_run_records_steps_policy_and_outcome(hist: History) -> None:
    run = hist.start(Operation.APPLY, spec="demo", env="dev", spec_digest="abc", who="ci:bob")
    run.stage_started("aws")
    run.stage("aws", StageStatus.APPLIED, changes={"create": 1, "update": 0})
    run.stage("gcp", StageStatus.SKIPPED, error="upstream failed")
    run.step(StepKind.HEALTH, "health", GateStatus.FAILED, detail={"reason": "HTTP 503"})
    run.policy("aws", "pre", [{"rule_id": "R1", "status": "fail", "resource_id": "logs",
                               "file": "spec.yaml", "line": 7, "message": "no tags"}])
    run.update(plan_digest="sha256:1")
    run.finish(Outcome.FAILED, exit_code=1, error="stage gcp failed")
    view = hist.show(run.id)
    assert view.run["outcome"] == "failed" and view.run["exit_code"] == 1
    assert view.run["who"] == "ci:bob" and view.run["plan_digest"] == "sha256:1"
    assert view.run["duration_s"] is not None and view.run["detail"]["error"] == "stage gcp failed"
    assert [(s["kind"], s["name"], s["status"]) for s in view.steps] == [
        ("stage", "aws", "applied"), ("stage", "gcp", "skipped"), ("health", "health", "failed")]
    assert view.steps[0]["duration_s"] is not None and view.steps[1]["duration_s"] is None
    assert view.steps[0]["detail"]["changes"]["create"] == 1
    assert view.policy[0]["location"] == "spec.yaml:7" and view.policy[0]["phase"] == "pre"
    assert hist.verify().ok and hist.verify().rows == 2


def test_a_resumed_run_adds_up_its_duration(hist: History) -> None:
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    run.finish(Outcome.HALTED, exit_code=4)
    hist.conn.execute("UPDATE runs SET duration_s = 100 WHERE id = ?", (run.id,))
    again = hist.resume(run.id)
    again.finish(Outcome.APPLIED, exit_code=0)
    row = hist.run(run.id)
    assert row["outcome"] == "applied" and 100 <= row["duration_s"] < 101
    actions = [r["action"] for r in hist.conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions == ["run.started", "run.finished", "run.resumed", "run.finished"]


def test_a_resumed_run_keeps_its_earlier_attempts_apart_from_its_outcome(hist: History) -> None:
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    run.finish(Outcome.FAILED, exit_code=1, error="incorrect passphrase")
    hist.resume(run.id).finish(Outcome.APPLIED, exit_code=0)
    row = hist.run(run.id)
    assert (row["outcome"], row["exit_code"]) == ("applied", 0)
    assert "error" not in row["detail"]                    # no stale error as if current
    [attempt] = row["detail"]["attempts"]
    assert (attempt["outcome"], attempt["exit_code"], attempt["error"]) == (
        "failed", 1, "incorrect passphrase")
    assert attempt["finished_at"]


def test_unfinished_run_shows_running(hist: History) -> None:
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    assert hist.run(run.id)["outcome"] == "running"


def test_prefix_lookup_and_errors(hist: History) -> None:
    a = hist.start(Operation.PLAN, spec="s", env="e", run_id="20260101-000000-aaaa")
    hist.start(Operation.PLAN, spec="s", env="e", run_id="20260101-000000-aabb")
    assert hist.run("20260101-000000-aaa")["id"] == a.id
    with pytest.raises(RunNotFoundError, match="ambiguous"):
        hist.run("20260101-000000-aa")
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        hist.run("nope")


def test_list_filters_by_env_newest_first(hist: History) -> None:
    ids = [hist.start(Operation.APPLY, spec="s", env=env).id for env in ("dev", "prod", "dev")]
    assert [r["id"] for r in hist.runs(env="dev")] == [ids[2], ids[0]]
    assert len(hist.runs()) == 3


def test_approvals_are_runs_and_audited(hist: History) -> None:
    rollout = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    approval = hist.approve(rollout.id, "prod", plan_digest="sha256:p", comment="lgtm",
                            who="github:carol")
    [found] = hist.approvals(rollout.id, "prod")
    assert (found.who, found.plan_digest, found.comment) == ("github:carol", "sha256:p", "lgtm")
    assert found.approval_id == approval.approval_id
    assert hist.run(approval.approval_id)["operation"] == "approve"
    assert hist.approvals(rollout.id, "staging") == []
    actions = [r["action"] for r in hist.conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert "approval" in actions and hist.verify().ok


def test_who_prefers_ci_identity() -> None:
    assert who({"GITHUB_ACTOR": "octo", "USER": "x"}) == "github:octo"
    assert who({"GITLAB_USER_LOGIN": "gl"}) == "gitlab:gl"
    assert who({"PROVISION_ACTOR": "release-bot", "GITHUB_ACTOR": "octo"}) == "release-bot"
    assert who({}) != ""


def test_old_json_records_are_imported_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "20250101T000000000000Z-apply-demo-local.json").write_text(json.dumps({
        "id": "20250101T000000000000Z-apply-demo-local", "spec": "demo", "env": "local",
        "operation": "apply", "started_at": "2025-01-01T00:00:00+00:00",
        "finished_at": "2025-01-01T00:00:09+00:00", "status": "policy-violation",
        "stages": {"aws": "applied", "gcp": "blocked"},
        "policy": [{"stage": "gcp", "phase": "pre", "results": [
            {"rule_id": "PRV-GCP-001", "status": "fail", "resource_id": "site"}]}]}))
    (runs / "broken.json").write_text("{not json")
    hist = History.open(tmp_path / "h.db", home=tmp_path)
    view = hist.show("20250101T000000000000Z-apply-demo-local")
    assert view.run["outcome"] == "policy-violation"
    assert {s["name"]: s["status"] for s in view.steps} == {"aws": "applied", "gcp": "blocked"}
    assert view.policy[0]["rule_id"] == "PRV-GCP-001"
    assert hist.verify().ok and hist.verify().rows == 1
    hist.close()
    # A second open imports nothing again, even with a new file present.
    (runs / "later.json").write_text(json.dumps({"id": "later", "status": "applied"}))
    again = History.open(tmp_path / "h.db", home=tmp_path)
    assert len(again.runs()) == 1


def test_history_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HISTORY_DB", str(tmp_path / "elsewhere" / "audit.db"))
    hist = History.open(home=tmp_path)
    assert hist.path == tmp_path / "elsewhere" / "audit.db" and hist.path.exists()
