"""What the user wrote is what reaches the cloud: YAML 1.2 values and schema coercion,
read back with the cloud's own SDK after a real apply on the sandbox; the next
`plan --detailed-exitcode` shows no phantom change."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def _tags(s3: Any, bucket: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}


def test_values_as_written_reach_the_cloud_and_replan_is_clean(sandbox: Any, run_cli: Run,
                                                                tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "values.yaml"
    spec.write_text(f"""
name: values{suffix}
environments: {{local: {{}}}}
resources:
  data:
    type: aws:s3:Bucket
    properties:
      bucket: values-{suffix}
      tags:
        country: NO
        postcode: 01234
        review-by: 2027-06-30
        copies: 3
        enabled: true
        switch: off
  later:
    type: aws:s3:Bucket
    properties:
      bucket: later-{suffix}
      tags: {{review-by: 2027-02-30, ratio: 1.5}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    aws = sandbox.cloud_settings()["aws"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")

    applied = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    assert applied.code == 0, applied.stderr
    assert "internal error" not in applied.stderr
    assert _tags(s3, f"values-{suffix}") == {
        "country": "NO", "postcode": "01234", "review-by": "2027-06-30", "copies": "3",
        "enabled": "true", "switch": "off"}
    assert _tags(s3, f"later-{suffix}") == {"review-by": "2027-02-30", "ratio": "1.5"}

    again = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr

    assert run_cli("destroy", str(spec), "--env", "local", "--yes", env=env).code == 0
