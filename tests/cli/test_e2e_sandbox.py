"""The walking skeleton end to end: plan, apply, re-plan, destroy a three-cloud spec
on the local sandbox through the real CLI and Pulumi engine; every effect is
verified with each cloud's own SDK, not through provision."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.resource.resources import ResourceManagementClient
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


class _SandboxAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer sandbox"


def _clients(settings: dict[str, dict[str, Any]]) -> tuple[Any, Any, Any]:
    aws, azure, gcp = settings["aws"], settings["azure"], settings["gcp"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    # The sandbox's ARM takes any token; the policy replaces AAD (which needs https).
    arm = ResourceManagementClient(credential=object(), subscription_id=azure["subscription_id"],
                                   base_url=azure["arm_endpoint"],
                                   authentication_policy=_SandboxAuth())
    gcs = storage.Client(project=gcp["project"], credentials=AnonymousCredentials(),
                         client_options={"api_endpoint": gcp["storage_endpoint"]})
    return s3, arm, gcs


def _spec(suffix: str) -> str:
    # Written in reverse order on purpose: references, not file order, order the stages.
    return f"""
name: e2e{suffix}
environments:
  local:
    aws: {{region: us-east-1}}
resources:
  artifacts:
    type: gcp:storage:Bucket
    properties:
      name: "art-${{platform.name}}"
      labels: {{owner: e2e}}
  platform:
    type: azure:resources:ResourceGroup
    properties:
      name: rg-e2e-{suffix}
      tags: {{logs: "${{logs.arn}}"}}
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs-e2e-{suffix}
"""


def test_plan_apply_replan_destroy(sandbox: Any, run_cli: Run, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    s3, arm, gcs = _clients(sandbox.cloud_settings())

    plan = run_cli("plan", str(spec), "--env", "local", "--json", env=env)
    assert plan.code == 0, plan.stderr
    doc = json.loads(plan.stdout)
    assert [s["name"] for s in doc["stages"]] == ["aws", "azure", "gcp"]
    assert doc["stages"][1]["depends_on"] == ["aws"] and doc["stages"][2]["depends_on"] == ["azure"]
    assert [(c["id"], c["action"]) for s in doc["stages"] for c in s["changes"]] == [
        ("logs", "create"), ("platform", "create"), ("artifacts", "create")]
    assert doc["summary"]["create"] == 3

    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--json", env=env)
    assert applied.code == 0, applied.stderr
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    [summary] = [e for e in events if e["event"] == "summary"]
    assert summary["status"] == "applied"
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert events[-1]["exit_code"] == 0 and events[-1]["run_id"] == events[0]["run_id"]

    assert s3.head_bucket(Bucket=f"logs-e2e-{suffix}")["ResponseMetadata"]["HTTPStatusCode"] == 200
    group = arm.resource_groups.get(f"rg-e2e-{suffix}")
    assert group.tags["logs"] == f"arn:aws:s3:::logs-e2e-{suffix}"     # cross-cloud value
    assert gcs.get_bucket(f"art-rg-e2e-{suffix}").labels == {"owner": "e2e"}

    again = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr

    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert destroyed.code == 0, destroyed.stderr
    assert f"logs-e2e-{suffix}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not arm.resource_groups.check_existence(f"rg-e2e-{suffix}")
    with pytest.raises(NotFound):
        gcs.get_bucket(f"art-rg-e2e-{suffix}")


def test_changed_spec_plans_changes_with_exit_code_2(sandbox: Any, run_cli: Run,
                                                     tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""
name: x{suffix}
environments: {{local: {{}}}}
resources:
  logs: {{type: aws:s3:Bucket, properties: {{bucket: chg-{suffix}, tags: {{a: "1"}}}}}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    assert run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env).code == 2
    assert run_cli("apply", str(spec), "--env", "local", "--yes", env=env).code == 0
    spec.write_text(spec.read_text().replace('a: "1"', 'a: "2"'))
    changed = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert changed.code == 2
    assert '"1" -> "2"' in changed.stdout or "1 to update" in changed.stdout
    assert run_cli("destroy", str(spec), "--env", "local", "--yes", env=env).code == 0
