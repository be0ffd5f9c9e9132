"""``provision rollout`` checks what every environment of its chain needs before the
first one is applied (no engine, no cloud: it stops before either)."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Run

SPEC = """
name: chain
promotion: [dev, prod]
environments:
  dev:
    sandbox: true
    aws: {region: us-east-1}
  prod:
    protected: true
    aws: {region: eu-west-1}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "chain-logs-${env.name}"}
"""


def test_a_missing_prod_passphrase_stops_the_rollout_before_dev_is_applied(
        run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    result = run_cli("rollout", "spec.yaml", "--to", "prod", "--non-interactive")
    assert result.code == 1, result.stdout + result.stderr
    assert "no state passphrase for environment 'prod'" in result.stderr
    assert "PROVISION_PASSPHRASE" in result.stderr and "Traceback" not in result.stderr
    assert "stage" not in result.stdout and "apply" not in result.stdout    # dev untouched
    runs = run_cli("runs", "list")
    assert runs.code == 0 and "rollout" not in runs.stdout                 # nothing started
