"""A conftest-style Rego policy written for Terraform plan JSON runs unchanged in a pack."""

from __future__ import annotations

from pathlib import Path

import pytest

import providers
from policy_helpers import change, plan_of, write_pack
from provision.policy import PolicyEngine, Status

# Typical of policies written for `terraform show -json` + conftest/OPA: legacy
# `deny[msg]` syntax, iterating input.resource_changes, messages naming the address.
TF_POLICY = '''package terraform.s3

deny[msg] {
  rc := input.resource_changes[_]
  rc.type == "aws_s3_bucket"
  rc.change.actions[_] == "create"
  not rc.change.after.tags.owner
  msg := sprintf("%s: S3 buckets must have an owner tag", [rc.address])
}

warn[msg] {
  rc := input.resource_changes[_]
  rc.type == "aws_s3_bucket"
  not rc.change.after.versioning
  msg := sprintf("%s: versioning is off", [rc.address])
}
'''

# The same policy in Rego v1 syntax (OPA 1.x / current conftest).
TF_POLICY_V1 = '''package terraform.s3

import rego.v1

deny contains msg if {
  some rc in input.resource_changes
  rc.type == "aws_s3_bucket"
  "create" in rc.change.actions
  not rc.change.after.tags.owner
  msg := sprintf("%s: S3 buckets must have an owner tag", [rc.address])
}

warn contains msg if {
  some rc in input.resource_changes
  rc.type == "aws_s3_bucket"
  not rc.change.after.versioning
  msg := sprintf("%s: versioning is off", [rc.address])
}
'''


def _engine(tmp_path: Path, policy: str = TF_POLICY) -> PolicyEngine:
    write_pack(tmp_path, "tf", {"s3.rego": policy},
               manifest="name: tf\nversion: 1.0.0\nenforcement: mandatory\ninput: terraform\n")
    return PolicyEngine.load(tmp_path, env="prod", registry=providers.registry())


@pytest.mark.parametrize("policy", [TF_POLICY, TF_POLICY_V1], ids=["rego-v0", "rego-v1"])
def test_terraform_plan_policy_runs_unchanged_pre(tmp_path: Path, policy: str) -> None:
    engine = _engine(tmp_path, policy)
    [info] = engine.rules.values()
    assert info.meta.id == "tf/terraform.s3" and info.language == "rego"
    stage, plan = plan_of(
        change("owned", "aws:s3:Bucket", {"bucket": "owned", "tags": {"owner": "a"},
                                          "versioning": True}),
        change("orphan", "aws:s3:Bucket", {"bucket": "orphan", "tags": {}}, line=21))
    report = engine.check_pre(stage, plan)
    by = {(r.resource_id, r.status) for r in report.results}
    assert ("orphan", Status.FAIL) in by
    assert ("orphan", Status.WARN) in by           # `warn` rules stay advisory
    assert {r.status for r in report.results if r.resource_id == "owned"} == {Status.PASS}
    [blocking] = report.blocking_results()
    assert blocking.message == "aws_s3_bucket.orphan: S3 buckets must have an owner tag"
    assert (blocking.resource_id, blocking.file, blocking.line) == ("orphan", "stacks/app.yaml", 21)


def test_terraform_plan_policy_sees_live_state_post(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    live = {"orphan": ("aws:s3:Bucket", {"bucket": "orphan", "tags": {}})}
    report = engine.check_post("s1", live)
    # in the post shape every resource is a no-op: the create-only deny rule is silent
    assert [(r.resource_id, r.status) for r in report.results] == [("orphan", Status.WARN)]
    assert report.results[0].message == "aws_s3_bucket.orphan: versioning is off"


def test_terraform_rule_without_violations_reports_nothing_blocking(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    stage, plan = plan_of(change("owned", "aws:s3:Bucket",
                                 {"bucket": "owned", "tags": {"owner": "a"}, "versioning": True}))
    report = engine.check_pre(stage, plan)
    assert not report.blocking and report.by_status(Status.FAIL) == []
