"""Applies through the real CLI and Pulumi engine on a sandbox that injects faults:
transient faults are absorbed (the demo, and the crash soak's 20-resource spec),
permanent ones fail fast and clearly on each cloud, and a create whose read-back fails
converges on a plain re-apply. Effects are counted with the SDKs."""

from __future__ import annotations

import importlib.util
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

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


# 30 % of the requests each cloud's services receive fail transiently.
THIRTY_PERCENT = {"seed": 1, "faults": [{"rate": 0.15, "status": 429, "retry_after": 0.05},
                                        {"rate": 0.10, "status": 500},
                                        {"rate": 0.05, "status": 503, "after": True}]}


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
    faults(THIRTY_PERCENT)
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


def _bench_module(name: str) -> Any:
    """bench/<name>.py (the crash soak's spec and SDK counts, the faults control), reused
    as they are."""
    found = importlib.util.spec_from_file_location(f"bench_{name}",
                                                   REPO / "bench" / f"{name}.py")
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def test_the_crash_soak_spec_applies_under_thirty_percent_faults_on_every_cloud(
        fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    """8 S3 buckets -> 6 resource groups -> 6 GCS buckets in 3 stages: exit 0, then a
    clean plan, and every resource exactly once in the clouds (no duplicate, no orphan)."""
    crash = _bench_module("crash")
    prefix = f"f{uuid.uuid4().hex[:6]}"
    spec = tmp_path / "crash.yaml"
    spec.write_text(crash.spec_text(prefix))
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    faults(THIRTY_PERCENT)
    # Control: the plan is live (a client that does not retry meets faults).
    met = _faults_met_without_retries(fault_sandbox, 20)
    assert met > 0
    started = time.monotonic()
    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env,
                      timeout=1500)
    elapsed = time.monotonic() - started
    faults({"faults": []})
    assert applied.code == 0, applied.stdout + applied.stderr
    again = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", "--no-policy",
                    env=env)
    assert again.code == 0, again.stdout + again.stderr
    names = crash.Clouds(fault_sandbox.status().cloud_settings()).names(prefix)
    assert names == crash.expected(prefix) and len(names) == 20, names
    print(f"crash soak spec under 30 % faults: apply {elapsed:.1f} s, "
          f"{len(names)} resources, 0 duplicates, 0 orphans; control: {met}/20 plain "
          "S3 calls failed")
    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", env=env)
    assert destroyed.code == 0, destroyed.stderr
    assert crash.Clouds(fault_sandbox.status().cloud_settings()).names(prefix) == []


def _faults_met_without_retries(box: Sandbox, calls: int) -> int:
    """How many of ``calls`` ListBuckets calls fail for an S3 client that never retries."""
    control: Callable[[dict[str, Any], int], int] = _bench_module("faults").control
    return control(box.status().cloud_settings()["aws"], calls)


def _one_bucket_spec(path: Path, name: str) -> Path:
    path.write_text(f"""
name: f{uuid.uuid4().hex[:8]}
environments: {{local: {{}}}}
resources:
  logs: {{type: aws:s3:Bucket, properties: {{bucket: {name}, tags: {{team: core}}}}}}
""")
    return path


# One resource per cloud, the service a 403 is injected on, and what the error names:
# the resource, the operation and the cloud's code (Azure's first call is a HEAD,
# whose answer has no body: its status is the code, as with Azure itself).
DENIED = {
    "aws": ("aws:s3:Bucket", "bucket", "aws", "AWS error AccessDenied"),
    "azure": ("azure:resources:ResourceGroup", "name", "azure_arm", "Azure error 403"),
    "gcp": ("gcp:storage:Bucket", "name", "gcs", "GCP error 403"),
}


@pytest.mark.parametrize("cloud", sorted(DENIED))
def test_a_permanent_403_fails_fast_naming_resource_operation_and_code(
        cloud: str, fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    type_name, key, service, code = DENIED[cloud]
    name = f"prov-denied-{uuid.uuid4().hex[:8]}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""
name: f{uuid.uuid4().hex[:8]}
environments: {{local: {{}}}}
resources:
  logs: {{type: "{type_name}", properties: {{{key}: {name}}}}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    faults({"faults": [{"service": service, "status": 403}]})
    started = time.monotonic()
    failed = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    elapsed = time.monotonic() - started
    faults({"faults": []})
    assert failed.code == 1, failed.stdout + failed.stderr
    assert f"logs ({type_name}): create failed: {code}" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    # Not retried: the whole run (CLI start, plan, Pulumi) in under 10 s.
    assert elapsed < 10, elapsed
    print(f"permanent 403 on {cloud}: exit 1 after {elapsed:.1f} s")
    if cloud == "aws":
        assert _buckets(fault_sandbox, name) == []


def test_a_failed_read_after_create_converges_on_a_plain_reapply(
        fault_sandbox: Sandbox, faults: Any, run_cli: Run, tmp_path: Path) -> None:
    name = f"prov-readback-{uuid.uuid4().hex[:8]}"
    spec = _one_bucket_spec(tmp_path / "spec.yaml", name)
    env = {"PROVISION_SANDBOX_DIR": str(fault_sandbox.home)}
    # Only the read that follows the create fails, on every attempt the SDK makes.
    faults({"faults": [{"service": "aws", "method": "GET", "path": f"^/{name}\\?encryption",
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
