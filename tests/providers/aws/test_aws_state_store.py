"""The S3 state store on the sandbox's S3: conditional create/replace, and the
environment lock over it (two holders, one winner)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from provision.engine.lock import EnvironmentLock, current_holder
from provision.engine.statestore import StoreRegistry
from provision.errors import EnvironmentLockedError
from provision.vocabulary import Operation
from providers import state_stores
from providers.aws.state_store import S3StateStore
from state_store_contract import check_conditional_operations

pytestmark = pytest.mark.sandbox


@pytest.fixture
def store(sandbox: Any, unique: str, monkeypatch: pytest.MonkeyPatch) -> S3StateStore:
    aws = sandbox.cloud_settings()["aws"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3 = boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name="us-east-1")
    s3.create_bucket(Bucket=f"state-{unique}")
    url = f"s3://state-{unique}/team/a?region=us-east-1&endpoint={aws['endpoint_url']}"
    opened = StoreRegistry(state_stores()).open(url)
    assert isinstance(opened, S3StateStore)
    return opened


def test_conditional_operations(store: S3StateStore) -> None:
    check_conditional_operations(store)
    raw = store.client.list_objects_v2(Bucket=store.bucket)
    assert all(o["Key"].startswith("team/a/") for o in raw.get("Contents") or [])


def test_the_environment_lock_over_s3(store: S3StateStore) -> None:
    with EnvironmentLock(store, "demo", "prod", "run-1", Operation.APPLY):
        with pytest.raises(EnvironmentLockedError, match="locked by run run-1"):
            EnvironmentLock(store, "demo", "prod", "run-2", Operation.DESTROY).acquire()
    assert current_holder(store, "demo", "prod") is None
