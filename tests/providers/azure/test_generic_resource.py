"""``azure:resources:Resource``: ids, projection, and CRUD over HTTP against the ARM emulator
for types the project has no adapter for, with ARM's long-running operations (202)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from provision.sandbox import SandboxStatus
from providers.azure.generic_resource import SCHEMA, GenericResource, project, resource_id
from providers.azure.resource_group import ResourceGroup

SUB = "00000000-0000-0000-0000-000000000000"
CONFIG = CloudConfig("azure", {"subscription_id": SUB, "location": "westeurope"}, sandbox=True)
VAULT_API = "2023-07-01"
NSG_API = "2024-05-01"


def test_schema() -> None:
    props = SCHEMA.properties
    for name in ("resource_type", "name", "parent", "location", "kind"):
        assert props[name].force_new, name
    for name in ("api_version", "properties", "tags", "sku"):
        assert not props[name].force_new, name


@pytest.mark.parametrize(("parent", "type_name", "expected"), [
    ("rg1", "Microsoft.KeyVault/vaults",
     f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/n"),
    (f"/subscriptions/{SUB}/resourceGroups/rg1", "Microsoft.KeyVault/vaults",
     f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/n"),
    (f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v",
     "Microsoft.Network/virtualNetworks/subnets",
     f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v"
     "/subnets/n"),
])
def test_resource_id(parent: str, type_name: str, expected: str) -> None:
    assert resource_id({"name": "n", "parent": parent, "resource_type": type_name},
                       CONFIG) == expected


@pytest.mark.parametrize(("parent", "type_name"), [
    ("rg1", "Microsoft.Network/virtualNetworks/subnets"),  # a child needs its parent's id
    ("rg1", "vaults"),                                      # no namespace
])
def test_resource_id_refuses_what_does_not_fit(parent: str, type_name: str) -> None:
    with pytest.raises(ProviderError):
        resource_id({"name": "n", "parent": parent, "resource_type": type_name}, CONFIG)


def test_projection_keeps_only_the_keys_the_spec_sets() -> None:
    live = {"a": 1, "provisioningState": "Succeeded", "nested": {"x": 1, "y": 2}, "l": [1]}
    assert project(live, {"a": 0, "nested": {"x": 0}, "l": [], "gone": 1}) == \
        {"a": 1, "nested": {"x": 1}, "l": [1]}


@pytest.fixture
def group(azure_config: CloudConfig, unique: str) -> Iterator[str]:
    created = ResourceGroup().create({"name": f"rg-gen-{unique}"}, azure_config)
    yield f"rg-gen-{unique}"
    ResourceGroup().delete(created.id, created.properties, azure_config)


def _statuses(sandbox: SandboxStatus, method: str, path: str) -> list[str]:
    """The emulator's answers to ``method path``, from its request log."""
    log = Path(str(sandbox.services["azure_arm"].log)).read_text()
    return re.findall(rf"^{method} {re.escape(path)} -> (\d+)$", log, re.M)


def _vault(group: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"resource_type": "Microsoft.KeyVault/vaults", "api_version": VAULT_API,
            "name": name, "parent": group,
            "properties": {"tenantId": "11111111-2222-3333-4444-555555555555",
                           "sku": {"family": "A", "name": "standard"},
                           "enableSoftDelete": True}, **extra}


@pytest.mark.sandbox
def test_crud_round_trip_of_a_type_without_adapter(sandbox: SandboxStatus,
                                                   azure_config: CloudConfig,
                                                   arm_resources: Any, group: str,
                                                   unique: str) -> None:
    name = f"kv-{unique}"
    adapter = GenericResource()
    created = adapter.create(_vault(group, name, tags={"team": "sec"}), azure_config)
    props = created.properties
    path = created.id
    assert path == (f"/subscriptions/{SUB}/resourceGroups/{group}"
                    f"/providers/Microsoft.KeyVault/vaults/{name}")
    assert set(props) == SCHEMA.readable() - {"id"}
    assert json.loads(json.dumps(props)) == props
    assert props["properties"] == _vault(group, name)["properties"]  # no read-only keys
    assert props["live_properties"]["provisioningState"] == "Succeeded"
    assert props["location"] == "westeurope" and props["parent"] == group
    assert _statuses(sandbox, "PUT", path) == ["202"]  # a long-running create
    direct = arm_resources.resources.get_by_id(path, api_version=VAULT_API)
    assert direct.properties["enableSoftDelete"] is True and direct.tags == {"team": "sec"}
    assert adapter.read(created.id, props, azure_config).properties == props  # type: ignore[union-attr]

    new = _vault(group, name, tags={"team": "platform"})
    new["properties"]["enableSoftDelete"] = False
    updated = adapter.update(created.id, props, new, azure_config)
    assert updated.properties["properties"]["enableSoftDelete"] is False
    assert _statuses(sandbox, "PUT", path) == ["202", "202"]
    direct = arm_resources.resources.get_by_id(path, api_version=VAULT_API)
    assert direct.properties["enableSoftDelete"] is False and direct.tags == {"team": "platform"}

    # A new name forces a replacement: refused in place, deleted and created by the engine.
    renamed = _vault(group, f"kv2-{unique}")
    with pytest.raises(ProviderError, match="cannot update name in place"):
        adapter.update(created.id, updated.properties, renamed, azure_config)
    adapter.delete(created.id, updated.properties, azure_config)
    assert _statuses(sandbox, "DELETE", path) == ["202"]
    assert not arm_resources.resources.check_existence_by_id(path, api_version=VAULT_API)
    replaced = adapter.create(renamed, azure_config)
    assert arm_resources.resources.get_by_id(replaced.id, api_version=VAULT_API).name == \
        f"kv2-{unique}"

    adapter.delete(replaced.id, replaced.properties, azure_config)
    assert adapter.read(replaced.id, replaced.properties, azure_config) is None
    assert not arm_resources.resources.check_existence_by_id(replaced.id, api_version=VAULT_API)
    adapter.delete(replaced.id, replaced.properties, azure_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_child_resource_under_its_parent(azure_config: CloudConfig, arm_resources: Any,
                                         group: str, unique: str) -> None:
    adapter = GenericResource()
    nsg = adapter.create({"resource_type": "Microsoft.Network/networkSecurityGroups",
                          "api_version": NSG_API, "name": f"nsg-{unique}", "parent": group,
                          "properties": {}}, azure_config)
    rule_props = {"priority": 100, "direction": "Inbound", "access": "Allow",
                  "protocol": "Tcp", "destinationPortRange": "443"}
    rule = adapter.create({"resource_type": "Microsoft.Network/networkSecurityGroups/securityRules",
                           "api_version": NSG_API, "name": "https", "parent": nsg.id,
                           "properties": rule_props}, azure_config)
    assert rule.id == f"{nsg.id}/securityRules/https"
    assert rule.properties["location"] is None and rule.properties["parent"] == nsg.id
    direct = arm_resources.resources.get_by_id(rule.id, api_version=NSG_API)
    assert direct.properties["destinationPortRange"] == "443"
    adapter.delete(nsg.id, nsg.properties, azure_config)  # takes its children along
    assert not arm_resources.resources.check_existence_by_id(rule.id, api_version=NSG_API)


@pytest.mark.sandbox
def test_arm_errors_name_the_resource_and_code(azure_config: CloudConfig, group: str,
                                               unique: str) -> None:
    with pytest.raises(CloudError) as info:
        GenericResource().create({**_vault(group, f"kv-{unique}"), "location": "atlantis"},
                                 azure_config)
    assert "Azure error LocationNotAvailableForResourceType" in info.value.message
    assert f"Microsoft.KeyVault/vaults/kv-{unique}" in info.value.message
    with pytest.raises(CloudError) as info:
        GenericResource().create(
            {"resource_type": "Microsoft.Network/networkSecurityGroups/securityRules",
             "api_version": NSG_API, "name": "r", "properties": {},
             "parent": f"/subscriptions/{SUB}/resourceGroups/{group}/providers/"
                       "Microsoft.Network/networkSecurityGroups/missing"}, azure_config)
    assert "Azure error ParentResourceNotFound" in info.value.message
