"""``azure:storage:Account``: schema, and CRUD over HTTP against the ARM emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.azure.resource_group import ResourceGroup
from providers.azure.storage_account import SCHEMA, StorageAccount


def test_schema() -> None:
    props = SCHEMA.properties
    for name in ("name", "resource_group_name", "location", "kind"):
        assert props[name].force_new, name
    for name in ("sku", "tags", "allow_blob_public_access", "min_tls_version"):
        assert not props[name].force_new, name
    assert props["sku"].default == "Standard_LRS"
    assert set(SCHEMA.outputs) == {"resource_id", "primary_blob_endpoint"}


def test_update_refuses_a_kind_change_without_calling_azure() -> None:
    config = CloudConfig("azure", {"location": "westeurope"}, sandbox=True)
    old = {"name": "acct", "resource_group_name": "rg", "kind": "StorageV2"}
    with pytest.raises(ProviderError, match="cannot update kind in place"):
        StorageAccount().update("acct", old, {**old, "kind": "BlobStorage"}, config)


@pytest.fixture
def group(azure_config: CloudConfig, unique: str) -> Iterator[str]:
    created = ResourceGroup().create({"name": f"rg-sa-{unique}"}, azure_config)
    yield f"rg-sa-{unique}"
    ResourceGroup().delete(created.id, created.properties, azure_config)


@pytest.mark.sandbox
def test_crud_round_trip(azure_config: CloudConfig, arm_storage: Any, group: str,
                         unique: str) -> None:
    name = f"st{unique}"
    adapter = StorageAccount()
    created = adapter.create({"name": name, "resource_group_name": group,
                              "tags": {"team": "core"}}, azure_config)
    props = created.properties
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, type(None)}
    assert props["sku"] == "Standard_LRS" and props["kind"] == "StorageV2"
    assert props["location"] == azure_config.settings["location"]
    assert props["allow_blob_public_access"] is False and props["min_tls_version"] == "TLS1_2"
    assert props["primary_blob_endpoint"] == f"https://{name}.blob.core.windows.net/"
    assert created.id == props["resource_id"]
    direct = arm_storage.storage_accounts.get_properties(group, name)
    assert direct.id == created.id and direct.tags == {"team": "core"}
    assert direct.sku.name == "Standard_LRS"

    read = adapter.read(created.id, props, azure_config)
    assert read is not None and read.properties == props

    new = {"name": name, "resource_group_name": group, "sku": "Standard_GRS",
           "tags": {"team": "platform"}, "allow_blob_public_access": True,
           "min_tls_version": "TLS1_1"}
    updated = adapter.update(created.id, props, new, azure_config)
    assert updated.properties["sku"] == "Standard_GRS"
    assert updated.properties["allow_blob_public_access"] is True
    direct = arm_storage.storage_accounts.get_properties(group, name)
    assert direct.sku.name == "Standard_GRS" and direct.tags == {"team": "platform"}
    assert direct.properties.minimum_tls_version == "TLS1_1"
    assert direct.properties.allow_blob_public_access is True
    reread = adapter.read(created.id, {}, azure_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(created.id, updated.properties, azure_config)
    assert adapter.read(created.id, updated.properties, azure_config) is None
    assert name not in [a.name for a in arm_storage.storage_accounts.list_by_resource_group(group)]
    adapter.delete(created.id, updated.properties, azure_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_missing_resource_group_is_a_clear_cloud_error(azure_config: CloudConfig,
                                                       unique: str) -> None:
    with pytest.raises(CloudError) as info:
        StorageAccount().create({"name": f"st{unique}", "resource_group_name": f"nope-{unique}"},
                                azure_config)
    assert info.value.message == (f"st{unique} (azure:storage:Account): Azure error "
                                  f"ResourceGroupNotFound: Resource group 'nope-{unique}' "
                                  "could not be found.")


@pytest.mark.sandbox
def test_create_never_adopts_an_existing_account(azure_config: CloudConfig, arm_storage: Any,
                                                 group: str, unique: str) -> None:
    name = f"sttaken{unique}"
    arm_storage.storage_accounts.begin_create(group, name, {
        "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
        "tags": {"owner": "someone"}}).result()
    with pytest.raises(CloudError, match="already exists") as info:
        StorageAccount().create({"name": name, "resource_group_name": group,
                                 "tags": {"owner": "me"}}, azure_config)
    assert "another name" in info.value.hint
    assert arm_storage.storage_accounts.get_properties(group, name).tags == {"owner": "someone"}
    arm_storage.storage_accounts.delete(group, name)
