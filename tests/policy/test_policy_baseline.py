"""Every baseline rule through the real engine (Rego via regopy, Python rules): pass and fail.

Each example is checked twice: on the live state (post) and as a planned
create (pre), so both input paths carry the rule.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from policy_helpers import POLICIES, change, plan_of
from provision.policy import PolicyEngine, Status
from provision.policy.testing import run_tests

TAGS = {"owner": "team-a", "env": "prod", "cost-center": "cc-42"}
BLOCKED = {"block_public_acls": True, "block_public_policy": True,
           "ignore_public_acls": True, "restrict_public_buckets": True}
S3_OK = {"bucket": "app-logs", "tags": TAGS, "public_access_block": BLOCKED,
         "server_side_encryption": "AES256", "region": "eu-west-1"}
ACCOUNT_OK = {"name": "stapp01", "location": "westeurope", "tags": TAGS,
              "allow_blob_public_access": False, "min_tls_version": "TLS1_2"}
GCS_OK = {"name": "app-artifacts", "location": "EU", "labels": TAGS,
          "uniform_bucket_level_access": True}
ROLE_OK = {"name": "deployer", "inline_policies": {"objects": '{"Version": "2012-10-17", '
           '"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], '
           '"Resource": "*"}]}'}}
VNET_OK = {"name": "hub", "resource_group_name": "rg", "address_space": ["10.0.0.0/16"],
           "tags": TAGS}
GENERIC_OK = {"resource_type": "Microsoft.KeyVault/vaults", "api_version": "2023-07-01",
              "name": "kv", "parent": "rg", "properties": {}}
TOPIC_OK = {"name": "orders", "labels": TAGS,
            "iam_bindings": {"roles/pubsub.publisher": ["serviceAccount:a@p.iam.gserviceaccount.com"]}}
HTTPS = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}
SG_OK = {"name": "web", "ingress": [HTTPS, {"protocol": "tcp", "from_port": 22, "to_port": 22,
                                            "cidr_blocks": ["10.0.0.0/8"]}]}
TABLE_OK = {"name": "orders", "hash_key": "pk", "attributes": [{"name": "pk", "type": "S"}],
            "server_side_encryption": {"enabled": True}}

# rule id -> (type, compliant properties, violating properties, text in the message)
EXAMPLES: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "PRV-AWS-001": ("aws:s3:Bucket", S3_OK, {**S3_OK, "server_side_encryption": None},
                    "server_side_encryption"),
    "PRV-AWS-002": ("aws:s3:Bucket", S3_OK,
                    {**S3_OK, "public_access_block": {**BLOCKED, "block_public_policy": False}},
                    "block_public_policy"),
    "PRV-AWS-003": ("aws:iam:Role", ROLE_OK,
                    {"name": "admin", "inline_policies": {"ops": {"Statement": [
                        {"Effect": "Allow", "Action": ["ec2:*", "s3:GetObject"], "Resource": "*"}]}}},
                    "policy 'ops' allows wildcard action(s): ec2:*"),
    "PRV-AWS-004": ("aws:ec2:SecurityGroup", SG_OK,
                    {**SG_OK, "ingress": [HTTPS, {"protocol": "tcp", "from_port": 3389,
                                                  "to_port": 3389, "cidr_blocks": ["0.0.0.0/0"]}]},
                    "tcp port 3389"),
    "PRV-AWS-005": ("aws:dynamodb:Table", TABLE_OK, {**TABLE_OK, "server_side_encryption": None},
                    "server_side_encryption is not enabled"),
    "PRV-AWS-006": ("aws:ec2:Vpc", {"cidr_block": "10.60.0.0/16"},
                    {"cidr_block": "52.10.0.0/16"}, "52.10.0.0/16"),
    "PRV-AWS-007": ("aws:sqs:Queue", {"name": "jobs", "sqs_managed_sse_enabled": True},
                    {"name": "jobs", "sqs_managed_sse_enabled": False}, "unencrypted"),
    "PRV-AZ-001": ("azure:storage:Account", ACCOUNT_OK,
                   {**ACCOUNT_OK, "allow_blob_public_access": True}, "allow_blob_public_access"),
    "PRV-AZ-002": ("azure:storage:BlobContainer", {"name": "reports", "public_access": "none"},
                   {"name": "reports", "public_access": "container"}, "container"),
    "PRV-AZ-003": ("azure:storage:Account", ACCOUNT_OK, {**ACCOUNT_OK, "min_tls_version": "TLS1_0"},
                   "TLS1_0"),
    "PRV-GCP-001": ("gcp:storage:Bucket", GCS_OK, {**GCS_OK, "uniform_bucket_level_access": False},
                    "uniform_bucket_level_access"),
    "PRV-AZ-004": ("azure:network:VirtualNetwork", VNET_OK,
                   {**VNET_OK, "address_space": ["10.0.0.0/16", "52.0.0.0/16"]}, "52.0.0.0/16"),
    "PRV-AZ-005": ("azure:resources:Resource", GENERIC_OK,
                   {**GENERIC_OK, "api_version": "2024-10-02-preview"}, "2024-10-02-preview"),
    "PRV-GCP-003": ("gcp:pubsub:Topic", TOPIC_OK,
                    {**TOPIC_OK, "iam_bindings": {"roles/pubsub.publisher": ["allUsers"]}},
                    "allUsers roles/pubsub.publisher"),
    "PRV-GCP-004": ("gcp:pubsub:Subscription", {"name": "work", "topic": "orders"},
                    {"name": "work", "topic": "orders", "push_endpoint": "http://x.example/p"},
                    "http://x.example/p"),
    "PRV-GCP-002": ("gcp:storage:Bucket", GCS_OK,
                    {**GCS_OK, "iam_members": ["allUsers:roles/storage.objectViewer"]}, "allUsers"),
    "PRV-GOV-001": ("gcp:resourcemanager:Project", {"project_id": "app-prod-1", "labels": TAGS},
                    {"project_id": "app-prod-1", "labels": {"owner": "team-a"}}, "cost-center"),
    "PRV-GOV-002": ("azure:resources:ResourceGroup", {"name": "rg-app", "location": "westeurope",
                                                      "tags": TAGS},
                    {"name": "rg-app", "location": "eastus", "tags": TAGS}, "eastus"),
    "PRV-GOV-003": ("azure:storage:Account", ACCOUNT_OK, {**ACCOUNT_OK, "name": "St_App"},
                    "St_App"),
}


def _results(engine: PolicyEngine, rule_id: str, type_name: str, props: dict[str, Any],
             phase: str) -> list[Any]:
    props = {k: v for k, v in props.items() if v is not None}
    if phase == "post":
        report = engine.check_post("s1", {"r1": (type_name, props)})
    else:
        stage, plan = plan_of(change("r1", type_name, props))
        report = engine.check_pre(stage, plan)
    return [r for r in report.results if r.rule_id == rule_id and r.resource_id == "r1"]


def test_every_baseline_rule_has_examples(baseline: Callable[..., PolicyEngine]) -> None:
    assert sorted(baseline("prod").rules) == sorted(EXAMPLES)


@pytest.mark.parametrize("phase", ["pre", "post"])
@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_baseline_rule_passes_compliant_example(baseline: Callable[..., PolicyEngine],
                                                rule_id: str, phase: str) -> None:
    type_name, good, _, _ = EXAMPLES[rule_id]
    results = _results(baseline("prod"), rule_id, type_name, good, phase)
    assert [r.status for r in results] == [Status.PASS]


@pytest.mark.parametrize("phase", ["pre", "post"])
@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_baseline_rule_fails_violating_example(baseline: Callable[..., PolicyEngine],
                                               rule_id: str, phase: str) -> None:
    type_name, _, bad, needle = EXAMPLES[rule_id]
    engine = baseline("prod")
    results = _results(engine, rule_id, type_name, bad, phase)
    expected = Status.FAIL if engine.rules[rule_id].enforcement.value == "mandatory" else Status.WARN
    assert [r.status for r in results] == [expected]
    assert needle in results[0].message
    assert results[0].pack == engine.rules[rule_id].pack


def test_pack_tests_all_pass_rego_and_python(rego_engine: str) -> None:
    run = run_tests(POLICIES)
    failed = [o for o in run.outcomes if o.status != "pass"]
    assert failed == []
    kinds = {o.kind for o in run.outcomes}
    assert kinds == {"rego", "python"}
    assert {o.pack for o in run.outcomes} == {"aws", "azure", "gcp", "governance"}


def test_iam_policy_written_as_json_string_is_checked(baseline: Callable[..., PolicyEngine]) -> None:
    policy = '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    [result] = _results(baseline("prod"), "PRV-AWS-003", "aws:iam:Role",
                        {"name": "admin", "inline_policies": {"all": policy}}, "post")
    assert (result.status, result.message) == (Status.FAIL,
                                               "policy 'all' allows wildcard action(s): *")


def test_python_rule_tests_also_run_under_pytest() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(POLICIES)], cwd=POLICIES.parent, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python_tests = [o for o in run_tests(POLICIES).outcomes if o.kind == "python"]
    assert f"{len(python_tests)} passed" in proc.stdout
