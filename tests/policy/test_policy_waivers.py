"""Waivers: a valid one waives, an expired one no longer applies and says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import providers
from policy_helpers import POLICIES, change, plan_of
from provision.errors import PolicyError
from provision.policy import PolicyEngine, Status
from provision.policy.waivers import load_waivers, parse_waivers

WAIVERS = """
waivers:
  - rule: PRV-AWS-002
    resource: "legacy-*"
    reason: static website, reviewed in SEC-123
    approver: alice@example.com
    expires: 2026-12-31
  - rule: PRV-AWS-002
    resource: old-site
    reason: was to be migrated
    approver: bob@example.com
    expires: 2026-01-31
  - rule: PRV-AWS-002
    resource: "*"
    reason: only in dev
    approver: carol@example.com
    expires: 2027-01-01
    env: dev
"""


def _engine(tmp_path: Path, env: str = "prod", today: dt.date = dt.date(2026, 6, 1)) -> PolicyEngine:
    file = tmp_path / "waivers.yaml"
    file.write_text(WAIVERS)
    return PolicyEngine.load(POLICIES, env=env, waivers=file, today=today,
                             registry=providers.registry())


def _status(engine: PolicyEngine, rid: str) -> tuple[Status, str, str]:
    stage, plan = plan_of(change(rid, "aws:s3:Bucket", {"bucket": rid, "tags": {}}))
    [r] = [r for r in engine.check_pre(stage, plan).results if r.rule_id == "PRV-AWS-002"]
    return r.status, r.waiver, r.message


def test_glob_waiver_waives_and_unblocks_that_rule(tmp_path: Path) -> None:
    status, waiver, _ = _status(_engine(tmp_path), "legacy-site")
    assert status is Status.WAIVED
    assert "alice@example.com" in waiver and "2026-12-31" in waiver


def test_expired_waiver_no_longer_applies_and_says_so(tmp_path: Path) -> None:
    status, waiver, message = _status(_engine(tmp_path), "old-site")
    assert status is Status.FAIL
    assert "waiver expired on 2026-01-31" in waiver
    assert "waiver expired on 2026-01-31" in message


def test_waiver_is_valid_through_its_expiry_day(tmp_path: Path) -> None:
    assert _status(_engine(tmp_path, today=dt.date(2026, 12, 31)), "legacy-x")[0] is Status.WAIVED
    assert _status(_engine(tmp_path, today=dt.date(2027, 1, 1)), "legacy-x")[0] is Status.FAIL


def test_environment_scoped_waiver(tmp_path: Path) -> None:
    assert _status(_engine(tmp_path, env="dev"), "anything")[0] is Status.WAIVED
    assert _status(_engine(tmp_path, env="prod"), "anything")[0] is Status.FAIL


def test_unmatched_resource_is_not_waived(tmp_path: Path) -> None:
    assert _status(_engine(tmp_path), "new-site")[0] is Status.FAIL


def test_waived_results_do_not_block(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    bucket = {"bucket": "legacy-a", "tags": {"owner": "o", "env": "prod", "cost-center": "c"},
              "server_side_encryption": "AES256"}
    stage, plan = plan_of(change("legacy-a", "aws:s3:Bucket", bucket))
    report = engine.check_pre(stage, plan)
    assert report.by_status(Status.WAIVED) and not report.blocking


ENTRY = "{rule: PRV-AWS-002, resource: a, reason: r, approver: p, expires: 2026-12-31}"


@pytest.mark.parametrize("text, message", [
    ("waivers:\n  - rule: X\n    resource: a\n",
     "waivers.yaml:2:5: waiver #1: missing reason, approver, expires"),
    ("waivers:\n  - {rule: X, resource: a, reason: r, approver: p, expires: soon}\n",
     "waivers.yaml:2:52: waiver #1: 'expires': 'soon' is not a date; write it as YYYY-MM-DD"),
    ("waivers:\n  - " + ENTRY + "\n  - " + ENTRY.replace("2026-12-31", "2027-02-30") + "\n",
     "waivers.yaml:3:62: waiver #2: 'expires': 2027-02-30 is not a date that exists "
     "(day is out of range for month)"),
    ("waivers:\n  - " + ENTRY.replace("approver", "approved") + "\n",
     "waivers.yaml:2:49: waiver #1: unknown key 'approved' (did you mean 'approver'?)"),
    ("waivers:\n  - " + ENTRY.replace("resource: a", "resource: [a, b]") + "\n",
     "waivers.yaml:2:25: waiver #1: 'resource' must be text, got list ['a', 'b']"),
    ("waivers:\n  - " + ENTRY.replace("expires: 2026-12-31", "expires: 20261231") + "\n",
     "waivers.yaml:2:62: waiver #1: 'expires' must be text, got int 20261231"),
    ("waiver:\n  - " + ENTRY + "\n", "unknown top-level key 'waiver' (did you mean 'waivers'?)"),
    ("waivers: 3\n", "expected 'waivers:'"),
    ("waivers: [&a [*a]]\n", "nest deeper than 64 levels"),
])
def test_broken_waiver_file_is_a_policy_error(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "waivers.yaml"
    file.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_waivers(file)
    assert message in info.value.message


def test_waiver_for_an_unknown_rule_or_resource_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "waivers.yaml"
    file.write_text("waivers:\n  - " + ENTRY.replace("PRV-AWS-002", "PRV-AWS-02") + "\n")
    with pytest.raises(PolicyError) as info:
        PolicyEngine.load(POLICIES, env="prod", waivers=file, registry=providers.registry())
    assert "waivers.yaml:2:5: waiver #1: unknown rule 'PRV-AWS-02' (did you mean" in \
        info.value.message
    file.write_text("waivers:\n  - " + ENTRY.replace("resource: a", "resource: logz") + "\n")
    engine = PolicyEngine.load(POLICIES, env="prod", waivers=file, registry=providers.registry())
    stage, plan = plan_of(change("logs", "aws:s3:Bucket", {"bucket": "logs"}))
    with pytest.raises(PolicyError) as info:
        engine.check_plan(plan)
    assert "waiver #1: unknown resource 'logz' (did you mean 'logs'?)" in info.value.message


def test_repo_waivers_file_parses() -> None:
    waivers = load_waivers(POLICIES / "waivers.yaml")
    assert waivers and all(w.approver and w.reason for w in waivers)
    assert parse_waivers(None) == []
