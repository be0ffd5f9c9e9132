"""``provision import`` adopts existing resources of every cloud through the real CLI and
Pulumi engine: the next plan shows no change when the spec matches the live resource,
and exactly the differing properties when it does not. ``--generate`` prints the block."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    AddressSpace, Subnet, SubnetPropertiesFormat, VirtualNetwork,
    VirtualNetworkPropertiesFormat,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from google.pubsub_v1.services.publisher import PublisherClient
from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


class _SandboxAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer sandbox"


def _spec(suffix: str, team: str = "shop") -> str:
    return f"""
name: imp{suffix}
environments:
  local: {{}}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs-imp-{suffix}
      tags: {{team: ops}}
  net:
    type: azure:network:VirtualNetwork
    properties:
      name: vnet-{suffix}
      resource_group_name: rg-imp-{suffix}
      address_space: [10.5.0.0/16]
      subnets:
        - {{name: app, address_prefix: 10.5.1.0/24}}
  orders:
    type: gcp:pubsub:Topic
    properties:
      name: orders-{suffix}
      labels: {{team: {team}}}
      message_retention_duration: 86400s
"""


def _existing(settings: dict[str, dict[str, Any]], suffix: str) -> dict[str, str]:
    """Create the three resources out of band with the SDKs; their cloud ids."""
    aws, azure, gcp = settings["aws"], settings["azure"], settings["gcp"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=f"logs-imp-{suffix}")
    s3.put_bucket_tagging(Bucket=f"logs-imp-{suffix}",
                          Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]})
    kwargs: dict[str, Any] = {"base_url": azure["arm_endpoint"],
                              "authentication_policy": _SandboxAuth(), "polling_interval": 0}
    arm = ResourceManagementClient(object(), azure["subscription_id"], **kwargs)  # type: ignore[arg-type]
    arm.resource_groups.create_or_update(f"rg-imp-{suffix}", {"location": azure["location"]})
    network = NetworkManagementClient(object(), azure["subscription_id"], **kwargs)  # type: ignore[arg-type]
    vnet = network.virtual_networks.begin_create_or_update(
        f"rg-imp-{suffix}", f"vnet-{suffix}", VirtualNetwork(
            location=azure["location"], properties=VirtualNetworkPropertiesFormat(
                address_space=AddressSpace(address_prefixes=["10.5.0.0/16"]),
                subnets=[Subnet(name="app", properties=SubnetPropertiesFormat(
                    address_prefix="10.5.1.0/24"))]))).result()
    with grpc.insecure_channel(gcp["pubsub_endpoint"]) as channel:
        publisher = PublisherClient(transport=PublisherGrpcTransport(channel=channel))
        topic = publisher.create_topic(request={
            "name": f"projects/{gcp['project']}/topics/orders-{suffix}",
            "labels": {"team": "shop"}, "message_retention_duration": {"seconds": 86400}})
    return {"logs": f"logs-imp-{suffix}", "net": str(vnet.id), "orders": str(topic.name)}


def test_import_one_resource_per_cloud_then_plan_is_clean(sandbox: Any, run_cli: Run,
                                                          tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    ids = _existing(sandbox.cloud_settings(), suffix)

    generated = run_cli("import", str(spec), "--env", "local", "orders", ids["orders"],
                        "--generate", env=env)
    assert generated.code == 0, generated.stderr
    assert generated.stdout == (f"orders:\n  type: gcp:pubsub:Topic\n  properties:\n"
                                f"    name: orders-{suffix}\n    project: provision-local\n"
                                f"    labels:\n      team: shop\n"
                                f"    message_retention_duration: 86400s\n")
    hcl = run_cli("import", str(spec), "--env", "local", "net", ids["net"], "--generate",
                  "--format", "hcl", env=env)
    assert hcl.code == 0, hcl.stderr
    assert 'resource "net" {\n  type = "azure:network:VirtualNetwork"' in hcl.stdout
    assert 'address_space       = ["10.5.0.0/16"]' in hcl.stdout
    assert 'name = "app"' in hcl.stdout and 'address_prefix = "10.5.1.0/24"' in hcl.stdout

    before = run_cli("plan", str(spec), "--env", "local", "--json", env=env)
    assert before.code == 0, before.stderr
    assert {c["id"]: c["action"] for s in json.loads(before.stdout)["stages"]
            for c in s["changes"]} == {"logs": "create", "net": "create", "orders": "create"}

    for rid in ("logs", "net", "orders"):
        done = run_cli("import", str(spec), "--env", "local", rid, ids[rid], env=env)
        assert done.code == 0, done.stdout + done.stderr
        assert f"imported {ids[rid]} as '{rid}'" in done.stderr

    clean = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert clean.code == 0, clean.stdout + clean.stderr

    again = run_cli("import", str(spec), "--env", "local", "orders", ids["orders"], env=env)
    assert again.code == 1 and "already" in again.stderr and "Traceback" not in again.stderr

    # A spec that differs from the live resource: the plan shows exactly that property.
    spec.write_text(_spec(suffix, team="platform"))
    changed = run_cli("plan", str(spec), "--env", "local", "--json", env=env)
    assert changed.code == 0, changed.stderr
    changes = [c for s in json.loads(changed.stdout)["stages"] for c in s["changes"]]
    [update] = [c for c in changes if c["action"] not in ("no-op", "noop")]
    assert update["id"] == "orders" and update["action"] == "update"
    assert {d["path"].split(".")[0] for d in update["diffs"]} == {"labels"}
    assert update["before"]["labels"] == {"team": "shop"}
    assert update["after"]["labels"] == {"team": "platform"}
    exit_code = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert exit_code.code == 2, exit_code.stdout + exit_code.stderr

    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert destroyed.code == 0, destroyed.stderr


def test_import_refuses_what_it_cannot_adopt(sandbox: Any, run_cli: Run,
                                             tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    unknown = run_cli("import", str(spec), "--env", "local", "nope", "x", env=env)
    assert unknown.code == 1 and "no resource 'nope' in the spec" in unknown.stderr
    missing = f"projects/provision-local/topics/absent-{suffix}"
    gone = run_cli("import", str(spec), "--env", "local", "orders", missing, env=env)
    assert gone.code == 1, gone.stdout + gone.stderr
    assert f"there is no gcp:pubsub:Topic with id '{missing}' to import" in gone.stderr
    assert "Traceback" not in gone.stderr
    plan = run_cli("plan", str(spec), "--env", "local", "--json", env=env)
    assert {c["id"]: c["action"] for s in json.loads(plan.stdout)["stages"]
            for c in s["changes"]}["orders"] == "create"   # nothing half-imported
