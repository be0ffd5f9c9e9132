"""What the gate before a stage knows: the environment's cloud settings, deferral only on
the paths a rule reads, and every resource the stage keeps (unchanged ones too)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import providers
from policy_helpers import TODAY, change, plan_of
from provision.plan.model import UNKNOWN, Action, Change
from provision.policy import PolicyEngine, Status
from provision.policy.inputs import paths_overlap
from provision.spec.model import Reference

TAGS = {"owner": "a", "env": "prod", "cost-center": "c"}
BLOCKED = dict.fromkeys(["block_public_acls", "block_public_policy", "ignore_public_acls",
                         "restrict_public_buckets"], True)
BUCKET = {"bucket": "app-b1", "tags": TAGS, "public_access_block": BLOCKED,
          "server_side_encryption": "AES256"}


def _with(base: PolicyEngine, settings: dict[str, dict[str, Any]]) -> PolicyEngine:
    """The baseline packs for prod, judged under an environment's cloud settings."""
    return PolicyEngine(base.packs, env=base.env, waivers=[], registry=providers.registry(),
                        today=TODAY, settings=settings)


def _status(report: Any, rule: str, rid: str = "b1") -> Status:
    [result] = [r for r in report.results if r.rule_id == rule and r.resource_id == rid]
    return result.status


def _result(report: Any, rule: str, rid: str = "b1") -> Any:
    return next(r for r in report.results if r.rule_id == rule and r.resource_id == rid)


# -- (a) values the environment's settings fix at plan time -------------------------------

def test_a_bucket_region_from_the_environment_settings_fails_before_apply(
        baseline: Callable[..., PolicyEngine]) -> None:
    stage, plan = plan_of(change("b1", "aws:s3:Bucket", BUCKET))
    outside = _with(baseline("prod"), {"aws": {"region": "ap-southeast-2"}}).check_pre(stage, plan)
    result = _result(outside, "PRV-GOV-002")
    assert result.status is Status.FAIL and outside.blocking
    assert "creating it in region 'ap-southeast-2', which is not allowed in prod" in result.message
    inside = _with(baseline("prod"), {"aws": {"region": "eu-west-1"}}).check_pre(stage, plan)
    assert _status(inside, "PRV-GOV-002") is Status.PASS
    # No region setting: the region is known only after apply, as before.
    assert _status(baseline("prod").check_pre(stage, plan), "PRV-GOV-002") is Status.DEFERRED


def test_a_location_the_spec_gives_wins_over_the_setting(
        baseline: Callable[..., PolicyEngine]) -> None:
    engine = _with(baseline("prod"), {"azure": {"location": "eastus"}})
    left_out = change("rg", "azure:resources:ResourceGroup", {"name": "rg", "tags": TAGS})
    given = change("rg", "azure:resources:ResourceGroup",
                   {"name": "rg", "tags": TAGS, "location": "westeurope"})
    assert _status(engine.check_pre(*plan_of(left_out)), "PRV-GOV-002", "rg") is Status.FAIL
    assert _status(engine.check_pre(*plan_of(given)), "PRV-GOV-002", "rg") is Status.PASS


def test_a_setting_never_fills_a_value_known_only_after_apply(
        baseline: Callable[..., PolicyEngine]) -> None:
    engine = _with(baseline("prod"), {"gcp": {"region": "europe-west1"}})
    later = change("b1", "gcp:storage:Bucket", {"name": "app-b1", "labels": TAGS,
                                                "location": UNKNOWN}, unknown=["location"])
    assert _status(engine.check_pre(*plan_of(later)), "PRV-GOV-002") is Status.DEFERRED


# -- (b) deferral scoped to the paths a rule reads ----------------------------------------

def _role(statement: dict[str, Any], unknown: list[str]) -> Change:
    return change("r1", "aws:iam:Role", {
        "name": "app-role", "tags": TAGS, "assume_role_policy": "{}",
        "inline_policies": {"all": {"Version": "2012-10-17", "Statement": [statement]}}},
        unknown=unknown)


def test_a_literal_wildcard_action_fails_though_its_resource_is_known_only_after_apply(
        baseline: Callable[..., PolicyEngine]) -> None:
    arn = Reference("resource", "q", "arn", "${q.arn}")
    role = _role({"Effect": "Allow", "Action": "*", "Resource": [arn]},
                 ["inline_policies.all.Statement.0.Resource.0"])
    report = baseline("prod").check_pre(*plan_of(role))
    result = _result(report, "PRV-AWS-003", "r1")
    assert result.status is Status.FAIL and report.blocking
    assert "wildcard action(s): *" in result.message


def test_an_action_known_only_after_apply_is_still_deferred(
        baseline: Callable[..., PolicyEngine]) -> None:
    action = Reference("resource", "q", "action", "${q.action}")
    role = _role({"Effect": "Allow", "Action": action, "Resource": "*"},
                 ["inline_policies.all.Statement.0.Action"])
    result = _result(baseline("prod").check_pre(*plan_of(role)), "PRV-AWS-003", "r1")
    assert result.status is Status.DEFERRED
    assert "inline_policies.all.Statement.0.Action" in result.message


def test_a_security_group_rule_description_known_later_defers_nothing(
        baseline: Callable[..., PolicyEngine]) -> None:
    rule = {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"],
            "description": Reference("resource", "q", "arn", "${q.arn}")}
    sg = change("sg", "aws:ec2:SecurityGroup", {"name": "app-sg", "vpc_id": "vpc-1",
                                                "tags": TAGS, "ingress": [rule]},
                unknown=["ingress.0.description"])
    assert _status(baseline("prod").check_pre(*plan_of(sg)), "PRV-AWS-004", "sg") is Status.FAIL


@pytest.mark.parametrize("a, b, overlap", [
    ("inline_policies.*.Statement.*.Action", "inline_policies.p.Statement.0.Action", True),
    ("inline_policies.*.Statement.*.Action", "inline_policies.p.Statement.0.Resource.0", False),
    ("inline_policies.*.Statement.*.Action", "inline_policies.p", True),    # whole document
    ("inline_policies.*.Statement.*.Action", "inline_policies.p.Statement.0.Action.1", True),
    ("tags", "tags.owner", True), ("tags.owner", "tags.team", False), ("*", "x", True),
])
def test_read_paths_match_unknown_paths_with_wildcard_segments(a: str, b: str,
                                                               overlap: bool) -> None:
    assert paths_overlap(a, b) is overlap and paths_overlap(b, a) is overlap


# -- (c) unchanged resources are judged too ----------------------------------------------

def test_an_unchanged_violating_resource_blocks_and_a_deleted_one_is_not_judged(
        baseline: Callable[..., PolicyEngine]) -> None:
    unencrypted = {k: v for k, v in BUCKET.items() if k != "server_side_encryption"}
    kept = Change(id="b1", type="aws:s3:Bucket", action=Action.NOOP, stage="s1",
                  before=unencrypted, after=unencrypted, file="stacks/app.yaml", line=9)
    gone = Change(id="b2", type="aws:s3:Bucket", action=Action.DELETE, stage="s1",
                  before=unencrypted, file="stacks/app.yaml", line=0)
    report = baseline("prod").check_pre(*plan_of(kept, gone))
    result = _result(report, "PRV-AWS-001")
    assert (result.status, result.file, result.line) == (Status.FAIL, "stacks/app.yaml", 9)
    assert report.blocking
    assert not [r for r in report.results if r.resource_id == "b2"]


# -- (b) rules that declare no reads: judged with unknowns marked -------------------------

BLIND_REGO = """package t.blind

import rego.v1

metadata := {"id": "T-BLIND", "title": "encrypted, and not named bad",
             "resource_types": ["t:a:B"]}

deny contains v if {
	some r in input.by_type["t:a:B"]
	not r.properties.encrypted
	v := {"resource": r.id, "message": "not encrypted"}
}

deny contains v if {
	some r in input.by_type["t:a:B"]
	r.properties.name == "bad"
	v := {"resource": r.id, "message": "named bad"}
}
"""

BLIND_PY = '''from provision.policy.rules import rule


@rule(id="T-BLIND-PY", title="size under 10", resource_types=["t:a:B"])
def small(subject, ctx):
    size = subject.get("size", 0)
    return None if int(size) < 10 else f"size {size} is 10 or more"


RULES = [small]
'''


def _blind(tmp_path: Any) -> PolicyEngine:
    from policy_helpers import write_pack

    write_pack(tmp_path, "p", {"blind.rego": BLIND_REGO, "rules.py": BLIND_PY})
    return PolicyEngine.load(tmp_path, env="dev", waivers=[])


def test_a_rule_without_reads_is_deferred_only_when_its_result_depends_on_unknowns(
        tmp_path: Any, rego_engine: str) -> None:
    engine = _blind(tmp_path)
    later = Reference("resource", "k", "arn", "${k.arn}")
    # `encrypted` known only after apply: absent it fails, present it passes -> deferred.
    depends = change("x", "t:a:B", {"name": "ok", "encrypted": later, "size": 1})
    # Only the name decides this one (the tag is unknown, the rule reads no tags) -> fail.
    decided = change("y", "t:a:B", {"name": "bad", "encrypted": True, "size": 1,
                                    "tags": {"k": later}})
    report = engine.check_pre(*plan_of(depends, decided))
    assert _status(report, "T-BLIND", "x") is Status.DEFERRED
    assert "encrypted known only after apply" in _result(report, "T-BLIND", "x").message
    assert _status(report, "T-BLIND", "y") is Status.FAIL
    # A Python rule that cannot judge the marked value (int() of it) is deferred too.
    size = change("z", "t:a:B", {"name": "ok", "encrypted": True, "size": later})
    assert _status(engine.check_pre(*plan_of(size)), "T-BLIND-PY", "z") is Status.DEFERRED
    assert _status(report, "T-BLIND-PY", "y") is Status.PASS
