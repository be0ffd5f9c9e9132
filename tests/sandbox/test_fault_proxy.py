"""Fault plans on a running sandbox, met by the real adapters over HTTP: transient
faults are retried by the SDKs without duplicates, permanent ones fail at once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from provision.errors import CloudError
from provision.provider import CloudConfig
from provision.sandbox import Sandbox
from provision.sandbox.faults import FaultPlan, parse_plan
from providers.aws.s3_bucket import S3Bucket
from providers.azure.blob_container import BlobContainer
from providers.azure.resource_group import ResourceGroup
from providers.clients import CLIENTS
from providers.gcp.project import Project
from providers.gcp.storage_bucket import StorageBucket

pytestmark = pytest.mark.sandbox


@pytest.fixture
def faults(fault_sandbox: Sandbox) -> Iterator[Any]:
    """Set a plan with ``faults(data)``; the plan is cleared after the test."""
    CLIENTS.clear()

    def set_plan(data: Any) -> None:
        fault_sandbox.up(faults=parse_plan(data))

    yield set_plan
    fault_sandbox.up(faults=FaultPlan())


def _config(box: Sandbox, cloud: str) -> CloudConfig:
    return CloudConfig(cloud, dict(box.status().cloud_settings()[cloud]), sandbox=True)


def _s3(box: Sandbox) -> Any:
    settings = box.status().cloud_settings()["aws"]
    return boto3.client("s3", endpoint_url=settings["endpoint_url"],
                        region_name=settings["region"], aws_access_key_id="direct",
                        aws_secret_access_key="direct")


def _names(box: Sandbox, prefix: str) -> list[str]:
    return [b["Name"] for b in _s3(box).list_buckets()["Buckets"] if b["Name"].startswith(prefix)]


def test_without_faults_the_proxy_is_transparent(fault_sandbox: Sandbox, faults: Any) -> None:
    name = f"prov-clear-{uuid.uuid4().hex[:8]}"
    config = _config(fault_sandbox, "aws")
    created = S3Bucket().create({"bucket": name, "tags": {"a": "b"}, "versioning": True},
                                config)
    assert created.properties["tags"] == {"a": "b"} and created.properties["versioning"]
    S3Bucket().delete(name, created.properties, config)
    gcp = _config(fault_sandbox, "gcp")
    bucket = StorageBucket().create({"name": f"prov-clear-{uuid.uuid4().hex[:8]}"}, gcp)
    StorageBucket().delete(bucket.id, bucket.properties, gcp)


def test_thirty_percent_transient_faults_on_every_cloud_are_retried_without_duplicates(
        fault_sandbox: Sandbox, faults: Any) -> None:
    faults({"seed": 5, "faults": [{"rate": 0.15, "status": 429, "retry_after": 0.05},
                                  {"rate": 0.1, "status": 500},
                                  {"rate": 0.1, "status": 503, "after": True}]})
    prefix = f"prov-flaky-{uuid.uuid4().hex[:6]}"
    aws, azure, gcp = (_config(fault_sandbox, c) for c in ("aws", "azure", "gcp"))
    for index in range(5):
        S3Bucket().create({"bucket": f"{prefix}-{index}", "tags": {"i": str(index)}}, aws)
    group = ResourceGroup().create({"name": f"rg-{prefix}", "tags": {"a": "b"}}, azure)
    container = BlobContainer().create({"name": f"{prefix}-c", "account_name": "acct"}, azure)
    bucket = StorageBucket().create({"name": f"{prefix}-g", "labels": {"a": "b"}}, gcp)
    project = Project().create({"project_id": f"{prefix}-p"}, gcp)
    faults({"faults": []})
    assert sorted(_names(fault_sandbox, prefix)) == [f"{prefix}-{i}" for i in range(5)]
    assert ResourceGroup().read(group.id, {}, azure) is not None
    assert BlobContainer().read(container.id, {}, azure) is not None
    assert StorageBucket().read(bucket.id, {}, gcp) is not None
    assert Project().read(project.id, {}, gcp) is not None


def test_a_create_whose_answer_is_lost_makes_one_bucket(fault_sandbox: Sandbox,
                                                        faults: Any) -> None:
    name = f"prov-lost-{uuid.uuid4().hex[:8]}"
    # CreateBucket is a PUT on the bucket path with no query: moto creates it, the
    # client sees a 500 and botocore sends the create again.
    faults({"faults": [{"service": "aws", "method": "PUT", "path": f"^/{name}$",
                        "status": 500, "after": True, "times": 1}]})
    created = S3Bucket().create({"bucket": name}, _config(fault_sandbox, "aws"))
    assert created.id == name
    faults({"faults": []})
    assert _names(fault_sandbox, name) == [name]


def test_a_permanent_403_fails_at_once_with_the_clouds_code(fault_sandbox: Sandbox,
                                                            faults: Any) -> None:
    faults({"faults": [{"status": 403}]})
    started = time.monotonic()
    with pytest.raises(CloudError) as info:
        S3Bucket().create({"bucket": f"prov-denied-{uuid.uuid4().hex[:8]}"},
                          _config(fault_sandbox, "aws"))
    assert time.monotonic() - started < 10
    assert "AWS error AccessDenied" in info.value.message
    # The first call is a HEAD (existence check): its answer has no body, so the
    # status is the code, as with Azure itself.
    with pytest.raises(CloudError, match="Azure error 403"):
        ResourceGroup().create({"name": "rg-denied"}, _config(fault_sandbox, "azure"))
    with pytest.raises(CloudError, match="Azure error AuthorizationFailed"):
        ResourceGroup().read("rg-denied", {}, _config(fault_sandbox, "azure"))
    with pytest.raises(CloudError, match="GCP error 403"):
        StorageBucket().create({"name": "prov-denied"}, _config(fault_sandbox, "gcp"))
    assert time.monotonic() - started < 10


def test_a_failed_read_after_create_leaves_nothing_and_the_next_create_succeeds(
        fault_sandbox: Sandbox, faults: Any) -> None:
    name = f"prov-readfail-{uuid.uuid4().hex[:8]}"
    config = _config(fault_sandbox, "aws")
    # Every attempt of the read-back's GetBucketTagging fails: retries exhausted.
    faults({"faults": [{"service": "aws", "method": "GET", "path": f"^/{name}\\?tagging",
                        "status": 500, "times": 8}]})
    with pytest.raises(CloudError, match="InternalError"):
        S3Bucket().create({"bucket": name, "tags": {"a": "b"}}, config)
    assert _names(fault_sandbox, name) == []  # rolled back
    created = S3Bucket().create({"bucket": name, "tags": {"a": "b"}}, config)
    assert created.properties["tags"] == {"a": "b"}
    assert _names(fault_sandbox, name) == [name]
