"""destroy honours `protect` before touching anything: a protected bucket with a
resource group in a later stage that references it; destroy (whole, and a --target
selection that includes the bucket) exits 1 naming it, deletes nothing, and the next
plan shows no change; then `protect: false` is planned, applied and the destroy goes
ahead. Verified with boto3 and the Azure SDK."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.resource.resources import ResourceManagementClient

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


class _SandboxAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer sandbox"


def test_destroy_refuses_protected_resources_before_any_deletion(sandbox: Any, run_cli: Run,
                                                                 tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: prot{sfx}
environments: {{local: {{}}}}
resources:
  vault:
    type: aws:s3:Bucket
    protect: true
    properties: {{bucket: vault-{sfx}}}
  group:
    type: azure:resources:ResourceGroup
    properties:
      name: rg-prot-{sfx}
      tags: {{vault: "${{vault.arn}}"}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    settings = sandbox.cloud_settings()
    s3 = boto3.client("s3", endpoint_url=settings["aws"]["endpoint_url"], region_name="us-east-1",
                      aws_access_key_id="t", aws_secret_access_key="t")
    arm = ResourceManagementClient(credential=object(),
                                   subscription_id=settings["azure"]["subscription_id"],
                                   base_url=settings["azure"]["arm_endpoint"],
                                   authentication_policy=_SandboxAuth())
    assert run_cli("apply", "spec.yaml", "--env", "local", "--yes", env=env).code == 0

    for extra in ((), ("--target", "vault")):
        refused = run_cli("destroy", "spec.yaml", "--env", "local", "--yes", *extra, env=env)
        assert refused.code == 1, refused.stdout + refused.stderr
        assert "protected resource(s) 'vault' (spec.yaml:4)" in refused.stderr
        assert "--exclude vault" in refused.stderr and "protect: false" in refused.stderr
        assert "internal error" not in refused.stderr
        s3.head_bucket(Bucket=f"vault-{sfx}")                     # nothing deleted,
        assert arm.resource_groups.check_existence(f"rg-prot-{sfx}")  # downstream included

    again = run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr

    # The way out the message names: keep the bucket, destroy the rest.
    rest = run_cli("destroy", "spec.yaml", "--env", "local", "--yes", "--exclude", "vault",
                   env=env)
    assert rest.code == 0, rest.stdout + rest.stderr
    assert not arm.resource_groups.check_existence(f"rg-prot-{sfx}")
    s3.head_bucket(Bucket=f"vault-{sfx}")

    # The other way out: protect: false is a planned change, the apply records it in the
    # state (the engine would refuse the delete otherwise), and destroy goes ahead.
    spec.write_text(spec.read_text().replace("protect: true", "protect: false"))
    unprotect = run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", env=env)
    assert unprotect.code == 2 and "protect" in unprotect.stdout, unprotect.stdout
    assert run_cli("apply", "spec.yaml", "--env", "local", "--yes", env=env).code == 0
    gone = run_cli("destroy", "spec.yaml", "--env", "local", "--yes", env=env)
    assert gone.code == 0, gone.stdout + gone.stderr
    assert f"vault-{sfx}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
