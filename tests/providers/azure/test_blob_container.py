"""``azure:storage:BlobContainer``: schema, and CRUD over HTTP against Azurite."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig
from providers.azure.blob_container import SCHEMA, BlobContainer

ACCOUNT = "devstoreaccount1"


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["name"].required and props["name"].force_new
    assert props["account_name"].required and props["account_name"].force_new
    assert props["public_access"].default == "none" and not props["public_access"].force_new
    assert props["metadata"].type == "map"


def test_invalid_public_access_is_rejected_before_any_call() -> None:
    config = CloudConfig("azure", {"blob_endpoint": "http://127.0.0.1:9"}, sandbox=True)
    with pytest.raises(ProviderError, match="public_access must be one of none, blob, container"):
        BlobContainer().create({"name": "c", "account_name": ACCOUNT, "public_access": "public"},
                               config)


@pytest.mark.sandbox
def test_crud_round_trip(azure_config: CloudConfig, blob_service: Any, unique: str) -> None:
    name = f"ctr-{unique}"
    adapter = BlobContainer()
    created = adapter.create({"name": name, "account_name": ACCOUNT,
                              "metadata": {"team": "core"}}, azure_config)
    assert created.id == f"{ACCOUNT}/{name}"
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, type(None)}
    assert created.properties["public_access"] == "none"
    assert created.properties["url"].endswith(f"/{ACCOUNT}/{name}")
    direct = blob_service.get_container_client(name).get_container_properties()
    assert direct.metadata == {"team": "core"} and direct.public_access is None

    read = adapter.read(created.id, created.properties, azure_config)
    assert read is not None and read.properties == created.properties

    new = {"name": name, "account_name": ACCOUNT, "public_access": "blob",
           "metadata": {"team": "platform"}}
    updated = adapter.update(created.id, created.properties, new, azure_config)
    assert updated.properties["public_access"] == "blob"
    assert updated.properties["metadata"] == {"team": "platform"}
    direct = blob_service.get_container_client(name).get_container_properties()
    assert direct.metadata == {"team": "platform"} and direct.public_access == "blob"
    reread = adapter.read(created.id, {}, azure_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(created.id, updated.properties, azure_config)
    assert adapter.read(created.id, updated.properties, azure_config) is None
    assert name not in [c.name for c in blob_service.list_containers()]
    adapter.delete(created.id, updated.properties, azure_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_storage_errors_are_clear(azure_config: CloudConfig, blob_service: Any,
                                  unique: str) -> None:
    with pytest.raises(CloudError) as info:
        BlobContainer().create({"name": "Bad_Name", "account_name": ACCOUNT}, azure_config)
    assert info.value.message == (f"{ACCOUNT}/Bad_Name (azure:storage:BlobContainer): Azure error "
                                  "InvalidResourceName: The specified resource name contains "
                                  "invalid characters.")
    name = f"dup-{unique}"
    blob_service.create_container(name)
    with pytest.raises(CloudError, match="Azure error ContainerAlreadyExists"):
        BlobContainer().create({"name": name, "account_name": ACCOUNT}, azure_config)
    blob_service.delete_container(name)


@pytest.mark.sandbox
def test_a_rejected_key_is_a_credentials_error_without_the_key(
        azure_config: CloudConfig, monkeypatch: pytest.MonkeyPatch, unique: str) -> None:
    wrong = "d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3JvbmdrZXk="
    monkeypatch.setattr("providers.azure.session.AZURITE_KEY", wrong)
    with pytest.raises(CredentialsError) as info:
        BlobContainer().create({"name": f"ctr-{unique}", "account_name": ACCOUNT}, azure_config)
    assert "Azure credentials not usable" in info.value.message
    assert "Azurite" in info.value.hint
    assert wrong not in info.value.render()
