"""The in-memory fake adapter that engine and planner tests use."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import Adapter, CloudConfig
from providers.testing import FILE_ENV, FakeAdapter, FakeOther, FakeThing, fake_registry

CONFIG = CloudConfig("test")


@pytest.fixture(autouse=True)
def clean_cloud() -> Iterator[None]:
    FakeAdapter.cloud.reset()
    yield
    FakeAdapter.cloud.reset()


def test_fake_registry_serves_the_fake_types() -> None:
    registry = fake_registry()
    assert registry.types() == ["test:fake:Other", "test:fake:Thing"]
    thing = registry.get("test:fake:Thing")
    assert isinstance(thing, Adapter)
    assert thing.schema.type_name == "test:fake:Thing"
    assert thing.schema.properties["name"].force_new
    assert thing.schema.properties["secret_value"].secret


def test_fake_registry_can_add_entries() -> None:
    registry = fake_registry({"aws:s3:Bucket": "providers.aws.s3_bucket:S3Bucket"})
    assert "aws:s3:Bucket" in registry and "test:fake:Thing" in registry


def test_create_computes_outputs_and_read_returns_them() -> None:
    created = FakeThing().create({"name": "a", "tags": {"k": "v"}}, CONFIG)
    assert created.id == "a"
    assert created.properties["arn"] == "arn:fake:thing/a"
    assert created.properties["created_serial"] == 1
    assert created.properties["size"] == 1
    read = FakeThing().read("a", {}, CONFIG)
    assert read is not None and read.properties == created.properties


def test_types_are_separate_and_state_is_shared_between_instances() -> None:
    FakeThing().create({"name": "a"}, CONFIG)
    other = FakeOther().create({"name": "a"}, CONFIG)
    assert other.properties["arn"] == "arn:fake:other/a"
    assert other.properties["created_serial"] == 2
    assert fake_registry().get("test:fake:Thing").read("a", {}, CONFIG) is not None


def test_create_of_an_existing_name_conflicts() -> None:
    FakeThing().create({"name": "a"}, CONFIG)
    with pytest.raises(CloudError, match="already exists"):
        FakeThing().create({"name": "a"}, CONFIG)


def test_update_changes_updatable_properties_only() -> None:
    created = FakeThing().create({"name": "a", "size": 1}, CONFIG)
    updated = FakeThing().update("a", created.properties, {"name": "a", "size": 5}, CONFIG)
    assert updated.properties["size"] == 5
    assert updated.properties["created_serial"] == created.properties["created_serial"]
    with pytest.raises(ProviderError, match="cannot update name in place"):
        FakeThing().update("a", created.properties, {"name": "b"}, CONFIG)


def test_update_of_a_missing_resource_fails() -> None:
    with pytest.raises(CloudError, match="does not exist"):
        FakeThing().update("ghost", {"name": "ghost"}, {"name": "ghost", "size": 2}, CONFIG)


def test_delete_removes_and_is_idempotent() -> None:
    FakeThing().create({"name": "a"}, CONFIG)
    FakeThing().delete("a", {}, CONFIG)
    assert FakeThing().read("a", {}, CONFIG) is None
    FakeThing().delete("a", {}, CONFIG)
    assert [c[0] for c in FakeAdapter.cloud.calls()] == ["create", "delete", "read", "delete"]


def test_injected_failure_fails_the_next_call_only() -> None:
    FakeAdapter.cloud.fail_next("create", "boom")
    with pytest.raises(CloudError, match="boom") as info:
        FakeThing().create({"name": "a"}, CONFIG)
    assert info.value.resource == "a" and info.value.resource_type == "test:fake:Thing"
    assert FakeThing().read("a", {}, CONFIG) is None
    assert FakeThing().create({"name": "a"}, CONFIG).id == "a"


def test_required_name_is_checked() -> None:
    with pytest.raises(ProviderError, match="'name' is required"):
        FakeThing().create({"size": 2}, CONFIG)


def test_resources_snapshot_is_keyed_by_type_and_id() -> None:
    FakeThing().create({"name": "a"}, CONFIG)
    snapshot = FakeAdapter.cloud.resources()
    assert list(snapshot) == [("test:fake:Thing", "a")]
    snapshot[("test:fake:Thing", "a")]["size"] = 99  # a copy: the cloud is unchanged
    read = FakeThing().read("a", {}, CONFIG)
    assert read is not None and read.properties["size"] == 1


FILE_SCRIPT = """
import sys
from provision.provider import CloudConfig
from providers.testing import FakeThing
op = sys.argv[1]
if op == "create":
    print(FakeThing().create({"name": "x", "size": 7}, CloudConfig("test")).properties["arn"])
else:
    result = FakeThing().read("x", {}, CloudConfig("test"))
    print(result.properties["size"] if result else "gone")
"""


def test_file_backed_cloud_is_shared_across_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cloud.json"
    monkeypatch.setenv(FILE_ENV, str(path))
    FakeAdapter.cloud.reset()
    env = {**os.environ, FILE_ENV: str(path)}

    def run(op: str) -> str:
        done = subprocess.run([sys.executable, "-c", FILE_SCRIPT, op], env=env, check=True,
                              capture_output=True, text=True, timeout=60)
        return done.stdout.strip()

    assert run("create") == "arn:fake:thing/x"
    read = FakeThing().read("x", {}, CONFIG)  # this process sees the other's resource
    assert read is not None and read.properties["size"] == 7
    FakeAdapter.cloud.fail_next("delete")
    with pytest.raises(CloudError, match="injected delete failure"):
        FakeThing().delete("x", {}, CONFIG)
    FakeThing().delete("x", {}, CONFIG)
    assert run("read") == "gone"
    assert ("create", "test:fake:Thing", "x") in FakeAdapter.cloud.calls()
