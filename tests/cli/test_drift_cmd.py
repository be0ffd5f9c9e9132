"""``provision drift`` end to end on the sandbox: every type applied through the real
engine, then changed and deleted behind provision's back with each cloud's SDK; drift
reports each property (expected vs actual) and each deletion, exit 2. The Azure and GCP
walk also covers each type's whole lifecycle through the command line: create, read
back, in-place update (bringing drift back), replacement and delete."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy

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
    assert re.search(r"visibility_timeout_seconds:\s+300 -> 30\n", plan.stdout), plan.stdout
    assert re.search(r'description:\s+"after" -> "before"\n', plan.stdout), plan.stdout

    # Apply brings every resource back in place, and a new bucket name replaces the bucket.
    spec.write_text(_spec(s).replace(f"bucket: drift-{s}", f"bucket: driftr-{s}"))
    fixed = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert f"drift-{s}" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert s3.get_bucket_tagging(Bucket=f"driftr-{s}")["TagSet"] == [
        {"Key": "team", "Value": "core"}]
    assert iam.get_role(RoleName=f"drift-{s}")["Role"]["Description"] == "before"
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"]["Value"] is True
    assert ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0][
        "MapPublicIpOnLaunch"] is False
    assert len(ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0][
        "IpPermissions"]) == 1
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "core"}]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"]["VisibilityTimeout"] == "30"

    # Deleted behind provision's back: every resource.
    ec2.delete_security_group(GroupId=group_id)
    ec2.delete_subnet(SubnetId=subnet_id)
    ec2.delete_vpc(VpcId=vpc_id)
    iam.delete_role(RoleName=f"drift-{s}")
    ddb.delete_table(TableName=f"drift-{s}")
    sqs.delete_queue(QueueUrl=url)
    s3.delete_bucket(Bucket=f"driftr-{s}")
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


# -- Azure and GCP: every type in one spec, one apply, one drift call per step -----------

VAULT_API = "2023-07-01"
VAULT = {"tenantId": "11111111-2222-3333-4444-555555555555",
         "sku": {"family": "A", "name": "standard"}, "enableSoftDelete": True}


def _clouds_spec(s: str, *, renamed: bool = False) -> str:
    """Every Azure and GCP type; ``renamed``: a new value for one force-new property of
    each (a replacement for all nine, through the references)."""
    n = "r" if renamed else ""
    return f"""
name: dz{s}
environments:
  local: {{}}
resources:
  rg:
    type: azure:resources:ResourceGroup
    properties: {{name: rg-dz{n}-{s}, tags: {{team: core}}}}
  net:
    type: azure:network:VirtualNetwork
    properties:
      name: vnet-{s}
      resource_group_name: "${{rg.name}}"
      address_space: [10.6.0.0/16]
      subnets: [{{name: app, address_prefix: 10.6.1.0/24}}]
      tags: {{team: core}}
  store:
    type: azure:storage:Account
    properties: {{name: st{n}{s}, resource_group_name: "${{rg.name}}", tags: {{team: core}}}}
  box:
    type: azure:storage:BlobContainer
    properties: {{name: box{n}-{s}, account_name: "${{store.name}}", metadata: {{team: core}}}}
  vault:
    type: azure:resources:Resource
    properties:
      resource_type: Microsoft.KeyVault/vaults
      api_version: "{VAULT_API}"
      name: kv-{s}
      parent: "${{rg.name}}"
      properties: {json.dumps(VAULT)}
  bucket:
    type: gcp:storage:Bucket
    properties: {{name: dz{n}-{s}, labels: {{team: core}}}}
  proj:
    type: gcp:resourcemanager:Project
    properties: {{project_id: dz{n}-{s}, display_name: before, labels: {{team: core}}}}
  topic:
    type: gcp:pubsub:Topic
    properties: {{name: orders{n}-{s}, labels: {{team: core}}}}
  sub:
    type: gcp:pubsub:Subscription
    properties: {{name: work-{s}, topic: "${{topic.name}}", ack_deadline_seconds: 20}}
"""


class _SandboxAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer sandbox"


class _Clouds:
    """Plain SDK clients straight at the sandbox's Azure and GCP emulators."""

    def __init__(self, settings: dict[str, dict[str, Any]]) -> None:
        from azure.mgmt.network import NetworkManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient
        from azure.mgmt.storage import StorageManagementClient
        from azure.storage.blob import BlobServiceClient
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import resourcemanager_v3, storage  # type: ignore[attr-defined]
        from google.pubsub_v1.services.publisher import PublisherClient
        from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport
        from google.pubsub_v1.services.subscriber import SubscriberClient
        from google.pubsub_v1.services.subscriber.transports.grpc import (
            SubscriberGrpcTransport,
        )

        azure, gcp = settings["azure"], settings["gcp"]
        self.sub_id, self.project = str(azure["subscription_id"]), str(gcp["project"])
        arm: dict[str, Any] = {"base_url": azure["arm_endpoint"],
                               "authentication_policy": _SandboxAuth(), "polling_interval": 0}
        self.arm: Any = ResourceManagementClient(object(), self.sub_id, **arm)  # type: ignore[arg-type]
        self.network: Any = NetworkManagementClient(object(), self.sub_id, **arm)  # type: ignore[arg-type]
        self.storage: Any = StorageManagementClient(object(), self.sub_id, **arm)  # type: ignore[arg-type]
        blob = str(azure["blob_endpoint"]).rstrip("/")
        self.blob: Any = BlobServiceClient.from_connection_string(AZURITE_CONNECTION.format(blob))
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        self.gcs: Any = storage.Client(project=self.project, credentials=anonymous,
                                  client_options={"api_endpoint": gcp["storage_endpoint"]})
        self.crm: Any = resourcemanager_v3.ProjectsClient(
            credentials=anonymous, transport="rest",
            client_options={"api_endpoint": gcp["crm_endpoint"]})
        self._channel = grpc.insecure_channel(gcp["pubsub_endpoint"])
        self.publisher: Any = PublisherClient(transport=PublisherGrpcTransport(channel=self._channel))
        self.subscriber: Any = SubscriberClient(
            transport=SubscriberGrpcTransport(channel=self._channel))

    def vault_id(self, group: str, name: str) -> str:
        return (f"/subscriptions/{self.sub_id}/resourceGroups/{group}"
                f"/providers/Microsoft.KeyVault/vaults/{name}")

    def topic(self, name: str) -> str:
        return f"projects/{self.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"

    def close(self) -> None:
        self._channel.close()


# Azurite's published development account (not a secret).
AZURITE_CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr"
    "/KBHBeksoGMGw==;BlobEndpoint={};")


def _assert_as_spec(c: _Clouds, s: str, n: str = "") -> None:
    """Every resource in the clouds as the spec says, read through the SDKs directly."""
    group = f"rg-dz{n}-{s}"
    assert c.arm.resource_groups.get(group).tags == {"team": "core"}
    net = c.network.virtual_networks.get(group, f"vnet-{s}")
    assert net.tags == {"team": "core"} and net.address_space.address_prefixes == ["10.6.0.0/16"]
    assert c.storage.storage_accounts.get_properties(group, f"st{n}{s}").tags == {"team": "core"}
    box = c.blob.get_container_client(f"box{n}-{s}").get_container_properties()
    assert box.metadata == {"team": "core"}
    vault = c.arm.resources.get_by_id(c.vault_id(group, f"kv-{s}"), api_version=VAULT_API)
    assert vault.properties["enableSoftDelete"] is True
    assert c.gcs.get_bucket(f"dz{n}-{s}").labels == {"team": "core"}
    proj = c.crm.get_project(name=f"projects/dz{n}-{s}")
    assert proj.display_name == "before" and dict(proj.labels) == {"team": "core"}
    topic = c.publisher.get_topic(request={"topic": c.topic(f"orders{n}-{s}")})
    assert dict(topic.labels) == {"team": "core"}
    sub = c.subscriber.get_subscription(request={"subscription": c.subscription(f"work-{s}")})
    assert sub.ack_deadline_seconds == 20 and sub.topic == c.topic(f"orders{n}-{s}")


def test_drift_of_every_azure_and_gcp_type(sandbox: Any, run_cli: Run, tmp_path: Path) -> None:
    """Create, read back, drift (change, then deletion) and its report, the plan that
    brings it back (property by property), that apply (in place), a replacement, destroy:
    every Azure and GCP type, asserted through the SDKs."""
    s = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_clouds_spec(s))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    c = _Clouds(sandbox.cloud_settings())
    try:
        _walk(c, s, spec, run_cli, env)
    finally:
        c.close()


def _walk(c: _Clouds, s: str, spec: Path, run_cli: Run, env: dict[str, str]) -> None:
    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert applied.code == 0, applied.stdout + applied.stderr
    _assert_as_spec(c, s)
    group = f"rg-dz-{s}"

    # Behind provision's back, through the SDKs: one change per resource.
    c.arm.resource_groups.update(group, {"tags": {"team": "intruder"}})
    net = c.network.virtual_networks.get(group, f"vnet-{s}")
    net.tags = {"team": "intruder"}
    c.network.virtual_networks.begin_create_or_update(group, f"vnet-{s}", net).result()
    c.storage.storage_accounts.update(group, f"st{s}", {"tags": {"team": "intruder"}})
    c.blob.get_container_client(f"box-{s}").set_container_metadata({"team": "intruder"})
    vault_id = c.vault_id(group, f"kv-{s}")
    vault = c.arm.resources.get_by_id(vault_id, api_version=VAULT_API)
    vault.properties["enableSoftDelete"] = False
    c.arm.resources.begin_create_or_update_by_id(vault_id, vault, api_version=VAULT_API).result()
    bucket = c.gcs.get_bucket(f"dz-{s}")
    bucket.labels = {"team": "intruder"}
    bucket.patch()
    c.crm.update_project(project={"name": f"projects/dz-{s}", "display_name": "after"},
                         update_mask={"paths": ["display_name"]}).result()
    c.publisher.update_topic(request={
        "topic": {"name": c.topic(f"orders-{s}"), "labels": {"team": "intruder"}},
        "update_mask": {"paths": ["labels"]}})
    c.subscriber.update_subscription(request={
        "subscription": {"name": c.subscription(f"work-{s}"), "ack_deadline_seconds": 60},
        "update_mask": {"paths": ["ack_deadline_seconds"]}})

    code, doc = _drift(run_cli, spec, env)
    assert code == 2 and doc["drift"] is True, doc
    assert sorted(doc["stages"], key=lambda st: st["stage"]) == [
        {"stage": "azure", "status": "refreshed"}, {"stage": "gcp", "status": "refreshed"}]
    props = {r["resource"]: {p["name"]: (p["expected"], p["actual"]) for p in r["properties"]}
             for r in doc["resources"] if r["status"] == "changed"}
    core, intruder = {"team": "core"}, {"team": "intruder"}
    assert props == {
        "rg": {"tags": (core, intruder)}, "net": {"tags": (core, intruder)},
        "store": {"tags": (core, intruder)}, "box": {"metadata": (core, intruder)},
        "vault": {"properties": (VAULT, {**VAULT, "enableSoftDelete": False})},
        "bucket": {"labels": (core, intruder)},
        "proj": {"display_name": ("before", "after")},
        "topic": {"labels": (core, intruder)}, "sub": {"ack_deadline_seconds": (20, 60)}}
    assert doc["summary"] == {"changed": 9, "deleted": 0}

    # The plan shows, property by property, how apply brings each one back; apply does.
    plan = run_cli("plan", str(spec), "--env", "local", "--no-policy", env=env)
    assert plan.code == 0, plan.stdout + plan.stderr
    for line in ('tags.team:  "intruder" -> "core"', 'metadata.team:  "intruder" -> "core"',
                 'labels.team:  "intruder" -> "core"', "ack_deadline_seconds:  60 -> 20",
                 'display_name:  "after" -> "before"',
                 "properties.enableSoftDelete:  false -> true"):
        assert line in plan.stdout, plan.stdout
    assert "0 to create, 9 to update, 0 to replace" in plan.stdout, plan.stdout
    fixed = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    _assert_as_spec(c, s)

    # A new value for a force-new property of each: every resource replaced.
    spec.write_text(_clouds_spec(s, renamed=True))
    replaced = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert replaced.code == 0, replaced.stdout + replaced.stderr
    _assert_as_spec(c, s, "r")
    assert not c.arm.resource_groups.check_existence(group)
    assert c.gcs.lookup_bucket(f"dz-{s}") is None
    assert c.crm.get_project(name=f"projects/dz-{s}").state.name == "DELETE_REQUESTED"
    topics = {t.name for t in c.publisher.list_topics(request={"project": f"projects/{c.project}"})}
    assert c.topic(f"orders-{s}") not in topics
    assert f"box-{s}" not in {b.name for b in c.blob.list_containers()}

    # Deleted behind provision's back: every resource.
    group = f"rg-dzr-{s}"
    c.subscriber.delete_subscription(request={"subscription": c.subscription(f"work-{s}")})
    c.publisher.delete_topic(request={"topic": c.topic(f"ordersr-{s}")})
    c.crm.delete_project(name=f"projects/dzr-{s}").result()
    c.gcs.get_bucket(f"dzr-{s}").delete()
    c.arm.resources.begin_delete_by_id(c.vault_id(group, f"kv-{s}"),
                                     api_version=VAULT_API).result()
    c.blob.delete_container(f"boxr-{s}")
    c.storage.storage_accounts.delete(group, f"str{s}")
    c.network.virtual_networks.begin_delete(group, f"vnet-{s}").result()
    c.arm.resource_groups.begin_delete(group).result()
    code, doc = _drift(run_cli, spec, env)
    assert code == 2
    assert sorted((r["resource"], r["status"]) for r in doc["resources"]) == sorted(
        (rid, "deleted") for rid in ("rg", "net", "store", "box", "vault", "bucket", "proj",
                                     "topic", "sub"))
    assert doc["summary"] == {"changed": 0, "deleted": 9}

    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert destroyed.code == 0, destroyed.stdout + destroyed.stderr
