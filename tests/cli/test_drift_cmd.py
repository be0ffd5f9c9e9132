"""``provision drift`` end to end on the sandbox: every AWS type applied through the
real engine, then changed and deleted behind provision's back with boto3; drift
reports each property (expected vs actual) and each deletion, exit 2."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}


def _spec(s: str) -> str:
    return f"""
name: drift{s}
environments:
  local: {{aws: {{region: us-east-1}}}}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {{bucket: drift-{s}, tags: {{team: core}}}}
  role:
    type: aws:iam:Role
    properties:
      name: drift-{s}
      description: before
      assume_role_policy: '{json.dumps(TRUST)}'
  vpc:
    type: aws:ec2:Vpc
    properties: {{cidr_block: 10.70.0.0/16, enable_dns_hostnames: true}}
  subnet:
    type: aws:ec2:Subnet
    properties:
      vpc_id: "${{vpc.id}}"
      cidr_block: 10.70.1.0/24
      map_public_ip_on_launch: false
  web:
    type: aws:ec2:SecurityGroup
    properties:
      name: drift-{s}
      vpc_id: "${{vpc.id}}"
      ingress: [{{protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/8]}}]
  table:
    type: aws:dynamodb:Table
    properties:
      name: drift-{s}
      hash_key: pk
      attributes: [{{name: pk, type: S}}]
      tags: {{team: core}}
  jobs:
    type: aws:sqs:Queue
    properties: {{name: drift-{s}, visibility_timeout_seconds: 30}}
"""


def _client(settings: dict[str, Any], service: str) -> Any:
    return boto3.client(service, endpoint_url=settings["endpoint_url"],
                        region_name=settings["region"], aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _last_run(run_cli: Run) -> dict[str, Any]:
    """The newest run of the run history (``provision runs list --json``)."""
    listed = run_cli("runs", "list", "--json", "--limit", "1")
    assert listed.code == 0, listed.stderr
    run: dict[str, Any] = json.loads(listed.stdout)["runs"][0]
    return run


def _drift(run_cli: Run, spec: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run_cli("drift", str(spec), "--env", "local", "--json", env=env)
    assert result.code in (0, 2), result.stderr
    return result.code, json.loads(result.stdout)


def test_drift_reports_out_of_band_changes_and_deletions(sandbox: Any, run_cli: Run,
                                                          tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(s))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    aws = sandbox.cloud_settings()["aws"]
    s3, iam, ec2, ddb, sqs = (_client(aws, n) for n in ("s3", "iam", "ec2", "dynamodb", "sqs"))

    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert applied.code == 0, applied.stdout + applied.stderr
    code, doc = _drift(run_cli, spec, env)
    assert (code, doc["drift"], doc["resources"]) == (0, False, [])
    assert doc["stages"] == [{"stage": "aws", "status": "refreshed"}]

    # Behind provision's back, through the SDK: one change per resource.
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.70.0.0/16"]}])["Vpcs"]
    vpc_id = next(v["VpcId"] for v in vpc_id)
    subnet_id = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "Subnets"][0]["SubnetId"]
    group_id = ec2.describe_security_groups(Filters=[{"Name": "group-name",
                                                      "Values": [f"drift-{s}"]}])[
        "SecurityGroups"][0]["GroupId"]
    url = sqs.get_queue_url(QueueName=f"drift-{s}")["QueueUrl"]
    s3.put_bucket_tagging(Bucket=f"drift-{s}",
                          Tagging={"TagSet": [{"Key": "team", "Value": "intruder"}]})
    iam.update_role(RoleName=f"drift-{s}", Description="after")
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": False})
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    arn = ddb.describe_table(TableName=f"drift-{s}")["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "300"})

    code, doc = _drift(run_cli, spec, env)
    assert code == 2 and doc["drift"] is True and doc["format"] == "1.0"
    found = {r["resource"]: r for r in doc["resources"]}
    assert {r["status"] for r in found.values()} == {"changed"}
    props = {rid: {p["name"]: (p["expected"], p["actual"]) for p in r["properties"]}
             for rid, r in found.items()}
    assert props["logs"] == {"tags": ({"team": "core"}, {"team": "intruder"})}
    assert props["role"] == {"description": ("before", "after")}
    assert props["vpc"] == {"enable_dns_hostnames": (True, False)}
    assert props["subnet"] == {"map_public_ip_on_launch": (False, True)}
    expected_rules, actual_rules = props["web"]["ingress"]
    assert len(expected_rules) == 1 and len(actual_rules) == 2
    assert props["table"] == {"tags": ({"team": "core"}, {})}
    assert props["jobs"] == {"visibility_timeout_seconds": (30, 300)}
    assert found["vpc"]["cloud_id"] == vpc_id and found["vpc"]["line"] > 0
    assert doc["summary"] == {"changed": 7, "deleted": 0}
    run = _last_run(run_cli)      # recorded like a plan: outcome and exit code
    assert (run["operation"], run["outcome"], run["exit_code"]) == ("drift", "drifted", 2)

    # The human form says the same, and a plan shows the way back.
    human = run_cli("drift", str(spec), "--env", "local", env=env)
    assert human.code == 2
    assert "visibility_timeout_seconds: expected 30, actual 300" in human.stdout
    plan = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", "--no-policy",
                   env=env)
    assert plan.code == 2, plan.stdout + plan.stderr

    # Deleted behind provision's back: every resource.
    ec2.delete_security_group(GroupId=group_id)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)
    iam.delete_role(RoleName=f"drift-{s}")
    ddb.delete_table(TableName=f"drift-{s}")
    sqs.delete_queue(QueueUrl=url)
    s3.delete_bucket(Bucket=f"drift-{s}")
    code, doc = _drift(run_cli, spec, env)
    assert code == 2
    assert sorted((r["resource"], r["status"]) for r in doc["resources"]) == sorted(
        (rid, "deleted") for rid in ("logs", "role", "vpc", "subnet", "web", "table", "jobs"))
    assert doc["summary"] == {"changed": 0, "deleted": 7}
    deleted = {r["resource"]: r for r in doc["resources"]}
    assert deleted["web"]["cloud_id"] == group_id and deleted["jobs"]["cloud_id"] == url

    plan = run_cli("plan", str(spec), "--env", "local", "--json", "--no-policy", env=env)
    assert plan.code == 0, plan.stderr
    changes = [c for st in json.loads(plan.stdout)["stages"] for c in st["changes"]]
    assert {c["action"] for c in changes} == {"create"} and len(changes) == 7


def test_drift_of_an_environment_never_applied(sandbox: Any, run_cli: Run,
                                               tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(uuid.uuid4().hex[:8]))
    result = run_cli("drift", str(spec), "--env", "local", "--json",
                     env={"PROVISION_SANDBOX_DIR": str(sandbox.home)})
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["stages"] == [{"stage": "aws", "status": "not-applied"}] and not doc["drift"]
    run = _last_run(run_cli)
    assert (run["operation"], run["outcome"], run["exit_code"]) == ("drift", "no-changes", 0)
    assert run["spec_file"] == str(spec) and run["duration_s"] > 0
