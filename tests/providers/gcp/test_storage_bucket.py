"""``gcp:storage:Bucket``: schema, and CRUD over HTTP against the GCS emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.gcp.storage_bucket import SCHEMA, StorageBucket


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["name"].required and props["name"].force_new
    assert props["location"].force_new
    for name in ("labels", "uniform_bucket_level_access", "versioning", "force_destroy"):
        assert not props[name].force_new, name
    assert set(SCHEMA.outputs) == {"self_link", "url", "project"}


def test_update_refuses_a_location_change_without_calling_gcp() -> None:
    config = CloudConfig("gcp", {"region": "europe-west1"}, sandbox=True)
    with pytest.raises(ProviderError, match="cannot update location in place"):
        StorageBucket().update("b", {"name": "b"}, {"name": "b", "location": "US"}, config)


@pytest.mark.sandbox
def test_crud_round_trip(gcp_config: CloudConfig, gcs: Any, unique: str) -> None:
    name = f"prov-{unique}"
    adapter = StorageBucket()
    created = adapter.create({"name": name, "labels": {"team": "core"}, "versioning": True},
                             gcp_config)
    props = created.properties
    assert created.id == name
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, type(None)}
    assert props["location"] == gcp_config.settings["region"]  # config default, spec spelling
    assert props["url"] == f"gs://{name}"
    assert props["project"] == gcp_config.settings["project"]
    assert props["self_link"].endswith(f"/b/{name}")
    direct = gcs.get_bucket(name)
    assert direct.labels == {"team": "core"} and direct.versioning_enabled is True
    assert direct.location.upper() == gcp_config.settings["region"].upper()

    read = adapter.read(name, props, gcp_config)
    assert read is not None and read.properties == props

    new = {"name": name, "labels": {"env": "dev"}, "uniform_bucket_level_access": True,
           "versioning": False}
    updated = adapter.update(name, props, new, gcp_config)
    assert updated.properties["labels"] == {"env": "dev"}
    assert updated.properties["uniform_bucket_level_access"] is True
    assert updated.properties["versioning"] is False
    direct = gcs.get_bucket(name)
    assert {k: v for k, v in direct.labels.items() if v is not None} == {"env": "dev"}
    assert direct.iam_configuration.uniform_bucket_level_access_enabled is True
    reread = adapter.read(name, updated.properties, gcp_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(name, updated.properties, gcp_config)
    assert adapter.read(name, updated.properties, gcp_config) is None
    assert gcs.lookup_bucket(name) is None
    adapter.delete(name, updated.properties, gcp_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_delete_of_a_non_empty_bucket_needs_force_destroy(gcp_config: CloudConfig, gcs: Any,
                                                          unique: str) -> None:
    name = f"prov-full-{unique}"
    created = StorageBucket().create({"name": name}, gcp_config)
    gcs.bucket(name).blob("a.txt").upload_from_string("one")
    with pytest.raises(CloudError, match="409") as info:
        StorageBucket().delete(name, created.properties, gcp_config)
    assert "force_destroy" in info.value.hint
    assert gcs.lookup_bucket(name) is not None

    StorageBucket().delete(name, {**created.properties, "force_destroy": True}, gcp_config)
    assert gcs.lookup_bucket(name) is None


@pytest.mark.sandbox
def test_create_is_rolled_back_when_settings_cannot_be_applied(
        gcp_config: CloudConfig, gcs: Any, unique: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.api_core import exceptions as gx

    def refuse(*args: Any) -> None:
        raise gx.BadRequest("Invalid argument.", errors=[{"reason": "invalid"}])

    monkeypatch.setattr("providers.gcp.storage_bucket._converge", refuse)
    name = f"prov-rollback-{unique}"
    with pytest.raises(CloudError, match="GCP error 400 invalid: Invalid argument."):
        StorageBucket().create({"name": name, "labels": {"a": "b"}}, gcp_config)
    assert gcs.lookup_bucket(name) is None


@pytest.mark.sandbox
def test_conflict_is_a_clear_cloud_error(gcp_config: CloudConfig, gcs: Any, unique: str) -> None:
    name = f"prov-dup-{unique}"
    gcs.create_bucket(name)
    with pytest.raises(CloudError) as info:
        StorageBucket().create({"name": name}, gcp_config)
    assert info.value.message.startswith(f"{name} (gcp:storage:Bucket): GCP error 409 conflict: ")
    assert "http://" not in info.value.message
    gcs.bucket(name).delete()
