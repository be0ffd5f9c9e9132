"""The example specs in stacks/examples pass the baseline policy packs."""

from __future__ import annotations

from cli_helpers import REPO, Run


def test_the_aws_example_passes_the_baseline_packs_in_prod(run_cli: Run) -> None:
    result = run_cli("policy", "check", str(REPO / "stacks/examples/aws-app.yaml"), "--env",
                     "prod", "--phase", "pre", "--policies", str(REPO / "policies"))
    assert result.code == 0, result.stdout + result.stderr
    assert "no mandatory violation" in result.stdout
    assert "fail" not in result.stdout.lower()
