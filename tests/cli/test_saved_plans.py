"""Saved plans: `plan --out` then `apply plan.json` applies exactly that plan, and
refuses, naming what moved, when the spec or the live state changed since."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def test_saved_plan_applies_and_refuses_when_stale(sandbox: Any, run_cli: Run,
                                                   tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: saved{sfx}
environments: {{local: {{}}}}
resources:
  logs: {{type: aws:s3:Bucket, properties: {{bucket: saved-{sfx}, tags: {{v: "1"}}}}}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    s3 = boto3.client("s3", endpoint_url=sandbox.cloud_settings()["aws"]["endpoint_url"],
                      region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")

    made = run_cli("plan", "spec.yaml", "--env", "local", "--out", "plan.json", env=env)
    assert made.code == 0, made.stderr
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["kind"] == "provision-plan" and saved["summary"]["create"] == 1
    applied = run_cli("apply", "plan.json", env=env)
    assert applied.code == 0, applied.stdout + applied.stderr
    s3.head_bucket(Bucket=f"saved-{sfx}")

    # The spec moves after the plan was saved: refused, nothing applied.
    assert run_cli("plan", "spec.yaml", "--env", "local", "--out", "p2.json", env=env).code == 0
    spec.write_text(spec.read_text().replace('v: "1"', 'v: "2"'))
    stale = run_cli("apply", "p2.json", env=env)
    assert stale.code == 1
    assert "spec.yaml changed since the plan was made" in stale.stderr
    assert "Traceback" not in stale.stderr

    # The live state moves (another apply) after the plan was saved: refused.
    assert run_cli("plan", "spec.yaml", "--env", "local", "--out", "p3.json", env=env).code == 0
    assert run_cli("apply", "spec.yaml", "--env", "local", "--yes", env=env).code == 0
    moved = run_cli("apply", "p3.json", env=env)
    assert moved.code == 1
    assert "the state of stage 'aws' changed since the plan was made" in moved.stderr
    assert "nothing was applied" in moved.stderr          # refused before any stage starts
    tags = s3.get_bucket_tagging(Bucket=f"saved-{sfx}")["TagSet"]
    assert {"Key": "v", "Value": "2"} in tags

    assert run_cli("destroy", "spec.yaml", "--env", "local", "--yes", env=env).code == 0


def test_saved_plan_is_bound_to_its_environment_and_selection(sandbox: Any, run_cli: Run,
                                                              tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    (tmp_path / "spec.yaml").write_text(f"""name: bound{sfx}
environments: {{local: {{}}, staging: {{aws: {{region: eu-west-1}}}}}}
resources:
  one: {{type: aws:s3:Bucket, properties: {{bucket: one-{sfx}}}}}
  two: {{type: aws:s3:Bucket, properties: {{bucket: two-{sfx}}}}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    s3 = boto3.client("s3", endpoint_url=sandbox.cloud_settings()["aws"]["endpoint_url"],
                      region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")

    made = run_cli("plan", "spec.yaml", "--env", "local", "--target", "one", "--out", "p.json",
                   env=env)
    assert made.code == 0, made.stderr
    assert json.loads((tmp_path / "p.json").read_text())["targets"] == ["one"]

    other_env = run_cli("apply", "p.json", "--env", "staging", "--yes", env=env)
    assert other_env.code == 1
    assert "p.json is a plan for environment 'local', not 'staging'" in other_env.stderr
    other_target = run_cli("apply", "p.json", "--target", "two", "--yes", env=env)
    assert other_target.code == 1
    assert "p.json was planned with --target one, not --target two" in other_target.stderr
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert f"one-{sfx}" not in buckets and f"two-{sfx}" not in buckets   # nothing applied

    # The same environment and no contradicting flag pass this check (what follows,
    # the saved plan's freshness check, is tested above).
    same = run_cli("apply", "p.json", "--env", "local", env=env)
    assert "is a plan for environment" not in same.stderr and "was planned with" not in same.stderr
