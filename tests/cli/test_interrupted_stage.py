"""An interrupted stage never starves its dependents (issue 14): the upstream stage's
stack keeps its resources but loses its exported outputs, as an update interrupted
before it wrote them does; a plain re-apply then gives the downstream resource the
value (checked through the Azure SDK) and the next plan is clean."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.resource.resources import ResourceManagementClient

from cli_helpers import Run
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.toolchain import find_toolchain

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


class _SandboxAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer sandbox"


def _lose_exports(home: Path, project: str, stack: str) -> None:
    """Empty the stack's exported outputs, keeping its resources (state edited through
    Pulumi's own export/import, as a killed update leaves it)."""
    runner = StackRunner(project, EngineOptions(
        toolchain=find_toolchain(), backend_url=f"file://{home / 'state'}",
        passphrase=(home / "passphrase").read_text().strip(), cloud_configs={},
        work_dir=home / "edit"))
    deployment = runner.export(stack)
    assert deployment is not None
    for res in deployment["resources"]:
        if res.get("type") == "pulumi:pulumi:Stack":
            assert res.get("outputs"), "the stage exported its outputs"
            res["outputs"] = {}
    runner.import_(stack, deployment)


def test_a_re_apply_after_lost_exports_tags_the_downstream_group(
        sandbox: Any, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""
name: cut{suffix}
environments:
  local: {{}}
resources:
  x:
    type: aws:s3:Bucket
    properties:
      bucket: cut-{suffix}
  group:
    type: azure:resources:ResourceGroup
    properties:
      name: rg-cut-{suffix}
      tags: {{b: "${{x.arn}}"}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    settings = sandbox.cloud_settings()
    azure = settings["azure"]
    arm = ResourceManagementClient(credential=object(), subscription_id=azure["subscription_id"],
                                   base_url=azure["arm_endpoint"],
                                   authentication_policy=_SandboxAuth())
    s3 = boto3.client("s3", endpoint_url=settings["aws"]["endpoint_url"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")

    first = run_cli("apply", str(spec), "--env", "local", "--yes", "--target", "x", env=env)
    assert first.code == 0, first.stderr
    _lose_exports(provision_home, f"cut{suffix}", f"cut{suffix}.local.aws")

    again = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    assert again.code == 0, again.stdout + again.stderr
    group = arm.resource_groups.get(f"rg-cut-{suffix}")
    assert group.tags == {"b": f"arn:aws:s3:::cut-{suffix}"}
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]].count(f"cut-{suffix}") == 1

    clean = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert clean.code == 0, clean.stdout + clean.stderr

    gone = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert gone.code == 0, gone.stderr
