"""The example specs in stacks/examples pass the baseline policy packs.

`policy check` plans with the real planner (the engine previews each stage), so
the state needs a passphrase; nothing exists yet, so nothing reaches a cloud."""

from __future__ import annotations

import pytest

from cli_helpers import REPO, Run

pytestmark = pytest.mark.engine


def test_the_aws_example_passes_the_baseline_packs_in_prod(run_cli: Run) -> None:
    result = run_cli("policy", "check", str(REPO / "stacks/examples/aws-app.yaml"), "--env",
                     "prod", "--phase", "pre", "--policies", str(REPO / "policies"),
                     env={"PULUMI_CONFIG_PASSPHRASE": "example-check-not-a-secret",
                          "AWS_EC2_METADATA_DISABLED": "true"})
    assert result.code == 0, result.stdout + result.stderr
    assert "no mandatory violation" in result.stdout
    assert "fail" not in result.stdout.lower()


@pytest.mark.parametrize("example", ["azure-app.yaml", "gcp-app.yaml"])
def test_the_azure_and_gcp_examples_pass_the_baseline_packs_in_prod(run_cli: Run,
                                                                    example: str) -> None:
    path = str(REPO / "stacks/examples" / example)
    assert run_cli("validate", path).code == 0
    result = run_cli("policy", "check", path, "--env", "prod", "--phase", "pre",
                     "--policies", str(REPO / "policies"),
                     env={"PULUMI_CONFIG_PASSPHRASE": "example-check-not-a-secret",
                          "AWS_EC2_METADATA_DISABLED": "true"})
    assert result.code == 0, result.stdout + result.stderr
    assert "no mandatory violation" in result.stdout
    assert "fail" not in result.stdout.lower() and "deferred" not in result.stdout.lower()
