"""``azure:network:VirtualNetwork``: schema, and CRUD over HTTP against the ARM emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.azure.resource_group import ResourceGroup
from providers.azure.virtual_network import SCHEMA, VirtualNetwork


def test_schema() -> None:
    props = SCHEMA.properties
    for name in ("name", "resource_group_name", "location"):
        assert props[name].force_new, name
    for name in ("address_space", "subnets", "dns_servers", "tags"):
        assert not props[name].force_new, name
    assert props["address_space"].required and props["name"].required


def test_subnets_must_be_name_and_prefix_maps() -> None:
    config = CloudConfig("azure", {"location": "westeurope", "subscription_id": "x"},
                         sandbox=True)
    with pytest.raises(ProviderError, match=r"subnets\[0\] must be a map"):
        VirtualNetwork().create({"name": "v", "resource_group_name": "rg",
                                 "address_space": ["10.0.0.0/16"],
                                 "subnets": [{"name": "a", "cidr": "10.0.0.0/24"}]}, config)


@pytest.fixture
def group(azure_config: CloudConfig, unique: str) -> Iterator[str]:
    created = ResourceGroup().create({"name": f"rg-vnet-{unique}"}, azure_config)
    yield f"rg-vnet-{unique}"
    ResourceGroup().delete(created.id, created.properties, azure_config)


def _subnets(network: Any) -> list[tuple[str, str]]:
    return [(s.name, s.address_prefix) for s in network.subnets]


@pytest.mark.sandbox
def test_crud_round_trip(azure_config: CloudConfig, arm_network: Any, group: str,
                         unique: str) -> None:
    name = f"vnet-{unique}"
    adapter = VirtualNetwork()
    spec = {"name": name, "resource_group_name": group, "address_space": ["10.10.0.0/16"],
            "subnets": [{"name": "app", "address_prefix": "10.10.1.0/24"}],
            "tags": {"team": "net"}}
    created = adapter.create(spec, azure_config)
    props = created.properties
    assert set(props) == SCHEMA.readable() - {"id"}
    assert json.loads(json.dumps(props)) == props
    assert props["provisioning_state"] == "Succeeded"
    assert props["location"] == azure_config.settings["location"]
    assert props["subnets"] == spec["subnets"]
    assert props["subnet_ids"] == {"app": f"{created.id}/subnets/app"}
    direct = arm_network.virtual_networks.get(group, name)
    assert direct.id == created.id and direct.address_space.address_prefixes == ["10.10.0.0/16"]
    assert _subnets(direct) == [("app", "10.10.1.0/24")] and direct.tags == {"team": "net"}
    read = adapter.read(created.id, props, azure_config)
    assert read is not None and read.properties == props

    # In place: a wider address space, a second subnet, DNS servers and tags.
    new = {**spec, "address_space": ["10.10.0.0/16", "10.20.0.0/16"],
           "subnets": [{"name": "app", "address_prefix": "10.10.1.0/24"},
                       {"name": "data", "address_prefix": "10.20.5.0/24"}],
           "dns_servers": ["10.10.0.4"], "tags": {"team": "platform"}}
    updated = adapter.update(created.id, props, new, azure_config)
    assert updated.id == created.id and updated.properties["guid"] == props["guid"]
    direct = arm_network.virtual_networks.get(group, name)
    assert direct.address_space.address_prefixes == ["10.10.0.0/16", "10.20.0.0/16"]
    assert _subnets(direct) == [("app", "10.10.1.0/24"), ("data", "10.20.5.0/24")]
    assert direct.dhcp_options.dns_servers == ["10.10.0.4"] and direct.tags == {"team": "platform"}
    assert adapter.read(created.id, {}, azure_config).properties == updated.properties  # type: ignore[union-attr]

    # A new location forces a replacement: the update refuses, the engine deletes and re-creates.
    moved = {**new, "location": "northeurope"}
    with pytest.raises(ProviderError, match="cannot update location in place"):
        adapter.update(created.id, updated.properties, moved, azure_config)
    adapter.delete(created.id, updated.properties, azure_config)
    replaced = adapter.create(moved, azure_config)
    direct = arm_network.virtual_networks.get(group, name)
    assert direct.location == "northeurope" and direct.resource_guid != props["guid"]
    assert _subnets(direct) == [("app", "10.10.1.0/24"), ("data", "10.20.5.0/24")]

    adapter.delete(replaced.id, replaced.properties, azure_config)
    assert adapter.read(replaced.id, replaced.properties, azure_config) is None
    assert name not in [v.name for v in arm_network.virtual_networks.list(group)]
    adapter.delete(replaced.id, replaced.properties, azure_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_subnet_outside_the_address_space_is_azures_error(azure_config: CloudConfig,
                                                          arm_network: Any, group: str,
                                                          unique: str) -> None:
    name = f"vnet-bad-{unique}"
    with pytest.raises(CloudError) as info:
        VirtualNetwork().create({"name": name, "resource_group_name": group,
                                 "address_space": ["10.0.0.0/16"],
                                 "subnets": [{"name": "x", "address_prefix": "10.1.0.0/24"}]},
                                azure_config)
    assert info.value.message.startswith(
        f"{name} (azure:network:VirtualNetwork): Azure error NetcfgSubnetRangeOutsideVnet: ")
    assert name not in [v.name for v in arm_network.virtual_networks.list(group)]


@pytest.mark.sandbox
def test_create_never_adopts_an_existing_network(azure_config: CloudConfig, group: str,
                                                 unique: str) -> None:
    spec = {"name": f"vnet-{unique}", "resource_group_name": group,
            "address_space": ["10.0.0.0/16"]}
    created = VirtualNetwork().create(spec, azure_config)
    with pytest.raises(CloudError, match="already exists"):
        VirtualNetwork().create(spec, azure_config)
    VirtualNetwork().delete(created.id, created.properties, azure_config)
