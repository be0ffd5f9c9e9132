"""``azure:resources:ResourceGroup``: schema, and CRUD over HTTP against the ARM emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.azure.resource_group import SCHEMA, ResourceGroup


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["name"].required and props["name"].force_new
    assert props["location"].force_new
    assert not props["tags"].force_new
    assert set(SCHEMA.outputs) == {"resource_id", "provisioning_state"}


def test_location_is_required_when_config_has_none() -> None:
    assert not SCHEMA.properties["location"].required  # the engine must not demand it
    with pytest.raises(ProviderError, match="'location' is required") as info:
        ResourceGroup().create({"name": "rg"}, CloudConfig("azure", {}, sandbox=True))
    assert "azure settings" in info.value.hint


@pytest.mark.sandbox
def test_crud_round_trip(azure_config: CloudConfig, arm_resources: Any, unique: str) -> None:
    name = f"rg-{unique}"
    adapter = ResourceGroup()
    created = adapter.create({"name": name, "tags": {"team": "core"}}, azure_config)
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, type(None)}
    assert created.properties["location"] == azure_config.settings["location"]  # config default
    assert created.properties["provisioning_state"] == "Succeeded"
    assert created.id == created.properties["resource_id"]
    assert created.id.lower().endswith(f"/resourcegroups/{name}")
    direct = arm_resources.resource_groups.get(name)
    assert direct.id == created.id and direct.tags == {"team": "core"}

    read = adapter.read(created.id, created.properties, azure_config)
    assert read is not None and read.properties == created.properties

    updated = adapter.update(created.id, created.properties,
                             {"name": name, "tags": {"team": "platform"}}, azure_config)
    assert updated.properties["tags"] == {"team": "platform"}
    assert arm_resources.resource_groups.get(name).tags == {"team": "platform"}
    reread = adapter.read(created.id, {}, azure_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(created.id, updated.properties, azure_config)
    assert adapter.read(created.id, updated.properties, azure_config) is None
    assert not arm_resources.resource_groups.check_existence(name)
    adapter.delete(created.id, updated.properties, azure_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_update_refuses_a_location_change(azure_config: CloudConfig, unique: str) -> None:
    created = ResourceGroup().create({"name": f"rg-{unique}"}, azure_config)
    with pytest.raises(ProviderError, match="cannot update location in place"):
        ResourceGroup().update(created.id, created.properties,
                               {"name": f"rg-{unique}", "location": "eastus"}, azure_config)
    ResourceGroup().delete(created.id, created.properties, azure_config)


@pytest.mark.sandbox
def test_arm_error_is_a_clear_cloud_error(azure_config: CloudConfig) -> None:
    with pytest.raises(CloudError) as info:
        ResourceGroup().create({"name": "ends-with-dot."}, azure_config)
    message = info.value.message
    assert message.startswith(
        "ends-with-dot. (azure:resources:ResourceGroup): Azure error InvalidResourceGroup: ")
    assert "cannot end with '.'" in message
    assert "Traceback" not in info.value.render()


@pytest.mark.sandbox
def test_create_never_adopts_an_existing_group(azure_config: CloudConfig, arm_resources: Any,
                                               unique: str) -> None:
    name = f"rg-taken-{unique}"
    arm_resources.resource_groups.create_or_update(name, {"location": "westeurope",
                                                          "tags": {"owner": "someone"}})
    with pytest.raises(CloudError, match="already exists") as info:
        ResourceGroup().create({"name": name, "tags": {"owner": "me"}}, azure_config)
    assert "another name" in info.value.hint
    assert arm_resources.resource_groups.get(name).tags == {"owner": "someone"}
    arm_resources.resource_groups.begin_delete(name).result()
