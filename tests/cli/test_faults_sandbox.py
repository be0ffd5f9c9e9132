"""Applies through the real CLI and Pulumi engine on a sandbox that injects faults:
transient faults are absorbed, permanent ones fail fast and clearly, and a create whose
read-back fails converges on a plain re-apply. Effects are counted with the SDKs."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli_helpers import REPO, Run
from provision.sandbox import Sandbox
from provision.sandbox.faults import FaultPlan, parse_plan

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


@pytest.fixture
def faults(fault_sandbox: Sandbox) -> Iterator[Any]:
    def set_plan(data: Any) -> None:
        fault_sandbox.up(faults=parse_plan(data))

    yield set_plan
    fault_sandbox.up(faults=FaultPlan())


def _s3(box: Sandbox) -> Any:
    settings = box.status().cloud_settings()["aws"]
    return boto3.client("s3", endpoint_url=settings["endpoint_url"],
                        region_name=settings["region"], aws_access_key_id="direct",
                        aws_secret_access_key="direct")


def _buckets(box: Sandbox, name: str) -> list[str]:
    return [b["Name"] for b in _s3(box).list_buckets()["Buckets"] if b["Name"] == name]


def test_demo_applies_under_thirty_percent_faults_on_every_cloud(
        fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    spec = tmp_path / "demo.yaml"
    shutil.copy(REPO / "stacks" / "demo.yaml", spec)
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    faults({"seed": 1, "faults": [{"rate": 0.15, "status": 429, "retry_after": 0.05},
                                  {"rate": 0.10, "status": 500},
                                  {"rate": 0.05, "status": 503, "after": True}]})
    applied = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    assert applied.code == 0, applied.stdout + applied.stderr
    faults({"faults": []})
    again = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert again.code == 0, again.stdout + again.stderr

    settings = fault_sandbox.status().cloud_settings()
    # The demo names its resources per environment (stacks/demo.yaml).
    assert _buckets(fault_sandbox, "provision-demo-logs-local") == ["provision-demo-logs-local"]
    gcs = storage.Client(project=settings["gcp"]["project"], credentials=AnonymousCredentials(),
                         client_options={"api_endpoint": settings["gcp"]["storage_endpoint"]})
    assert [b.name for b in gcs.list_buckets() if b.name.startswith("artifacts-")] == [
        "artifacts-rg-provision-demo-local"]
    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert destroyed.code == 0, destroyed.stderr


def _one_bucket_spec(path: Path, name: str) -> Path:
    path.write_text(f"""
name: f{uuid.uuid4().hex[:8]}
environments: {{local: {{}}}}
resources:
  logs: {{type: aws:s3:Bucket, properties: {{bucket: {name}, tags: {{team: core}}}}}}
""")
    return path


def test_a_permanent_403_fails_fast_naming_resource_operation_and_code(
        fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    name = f"prov-denied-{uuid.uuid4().hex[:8]}"
    spec = _one_bucket_spec(tmp_path / "spec.yaml", name)
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    faults({"faults": [{"service": "aws", "status": 403}]})
    started = time.monotonic()
    failed = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    elapsed = time.monotonic() - started
    assert failed.code == 1, failed.stdout + failed.stderr
    assert "logs (aws:s3:Bucket): create failed: AWS error AccessDenied" in failed.stderr
    assert "Traceback" not in failed.stderr
    # Not retried: well under the time eight attempts with backoff would take.
    assert elapsed < 60, elapsed
    faults({"faults": []})
    assert _buckets(fault_sandbox, name) == []


def test_a_failed_read_after_create_converges_on_a_plain_reapply(
        fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    name = f"prov-readback-{uuid.uuid4().hex[:8]}"
    spec = _one_bucket_spec(tmp_path / "spec.yaml", name)
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    # Only the read that follows the create fails, on every attempt the SDK makes.
    faults({"faults": [{"service": "aws", "method": "GET", "path": f"^/{name}\\?tagging",
                        "status": 500, "times": 8}]})
    failed = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    assert failed.code == 1, failed.stdout + failed.stderr
    assert "logs (aws:s3:Bucket): create failed: AWS error InternalError" in failed.stderr
    assert _buckets(fault_sandbox, name) == []  # rolled back, not orphaned

    again = run_cli("apply", str(spec), "--env", "local", "--yes", env=env)
    assert again.code == 0, again.stdout + again.stderr
    assert _buckets(fault_sandbox, name) == [name]
    assert _s3(fault_sandbox).get_bucket_tagging(Bucket=name)["TagSet"] == [
        {"Key": "team", "Value": "core"}]
    steady = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", env=env)
    assert steady.code == 0, steady.stdout + steady.stderr
    assert run_cli("destroy", str(spec), "--env", "local", "--yes", env=env).code == 0
