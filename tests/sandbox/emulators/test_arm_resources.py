"""The ARM emulator's provider resources (``arm_resources``): the HTTP contract of ARM's
long-running operations, checked on the wire, and the network provider's rules through
azure-mgmt-network."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    AddressSpace, Subnet, SubnetPropertiesFormat, VirtualNetwork,
    VirtualNetworkPropertiesFormat,
)
from azure.mgmt.resource.resources import ResourceManagementClient

from provision.sandbox import SandboxStatus
from tests.sandbox.emulators.test_arm import AUTH, RG_API, LocalAuth, NoCredential

pytestmark = pytest.mark.sandbox

VAULT_API = "2023-07-01"
NET_API = "2024-05-01"


@pytest.fixture
def endpoint(sandbox: SandboxStatus) -> str:
    return sandbox.endpoints["azure_arm"]


@pytest.fixture
def group_url(endpoint: str) -> str:
    """A fresh resource group in a fresh subscription; its URL."""
    url = f"{endpoint}/subscriptions/{uuid.uuid4()}/resourceGroups/rg"
    response = requests.put(url, params={"api-version": RG_API}, headers=AUTH,
                            json={"location": "westeurope"}, timeout=10)
    assert response.status_code == 201
    return url


def _call(method: str, url: str, version: str, body: Any = None) -> requests.Response:
    return requests.request(method, url, params={"api-version": version}, headers=AUTH,
                            json=body, timeout=10)


def _wait(url: str) -> dict[str, Any]:
    """Poll an Azure-AsyncOperation URL until it is terminal; the final status body."""
    for _ in range(100):
        status = requests.get(url, headers=AUTH, timeout=10).json()
        if status["status"] != "InProgress":
            return dict(status)
        time.sleep(0.05)
    raise AssertionError("the operation never finished")


def test_other_namespaces_answer_202_with_both_polling_headers(group_url: str) -> None:
    url = f"{group_url}/providers/Microsoft.KeyVault/vaults/kv1"
    put = _call("PUT", url, VAULT_API, {"location": "westeurope", "properties": {"a": 1}})
    assert put.status_code == 202 and not put.content
    assert "/providers/Microsoft.KeyVault/locations/westeurope/operations/" \
        in put.headers["Azure-AsyncOperation"]
    assert "/operationResults/" in put.headers["Location"]
    assert _call("GET", url, VAULT_API).json()["properties"]["provisioningState"] == "Creating"
    # A second write while the first runs is refused, as ARM does.
    busy = _call("PUT", url, VAULT_API, {"location": "westeurope", "properties": {}})
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "AnotherOperationInProgress"
    assert _wait(put.headers["Azure-AsyncOperation"])["status"] == "Succeeded"
    result = requests.get(put.headers["Location"], headers=AUTH, timeout=10)
    assert result.status_code == 200 and result.json()["properties"]["a"] == 1
    got = _call("GET", url, VAULT_API).json()
    assert got["properties"] == {"a": 1, "provisioningState": "Succeeded"}
    assert got["type"] == "Microsoft.KeyVault/vaults" and got["id"].endswith("/vaults/kv1")

    delete = _call("DELETE", url, VAULT_API)
    assert delete.status_code == 202 and delete.headers["Location"]
    _wait(delete.headers["Azure-AsyncOperation"])
    assert requests.get(delete.headers["Location"], headers=AUTH, timeout=10).status_code == 204
    missing = _call("GET", url, VAULT_API)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
    assert _call("DELETE", url, VAULT_API).status_code == 204  # nothing to delete


def test_network_put_is_201_then_200_with_the_body_updating(group_url: str) -> None:
    url = f"{group_url}/providers/Microsoft.Network/virtualNetworks/v1"
    body = {"location": "westeurope",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    created = _call("PUT", url, NET_API, body)
    assert created.status_code == 201 and "Location" not in created.headers
    assert created.json()["properties"]["provisioningState"] == "Updating"
    _wait(created.headers["Azure-AsyncOperation"])
    updated = _call("PUT", url, NET_API, body)
    assert updated.status_code == 200
    _wait(updated.headers["Azure-AsyncOperation"])
    listed = _call("GET", f"{group_url}/providers/Microsoft.Network/virtualNetworks", NET_API)
    assert [v["name"] for v in listed.json()["value"]] == ["v1"]


def test_errors_are_arm_error_json(group_url: str) -> None:
    no_location = _call("PUT", f"{group_url}/providers/Microsoft.KeyVault/vaults/kv", VAULT_API,
                        {"properties": {}})
    assert no_location.status_code == 400
    assert no_location.json() == {"error": {
        "code": "LocationRequired",
        "message": "The location property is required for this definition."}}
    bad_name = _call("PUT", f"{group_url}/providers/Microsoft.KeyVault/vaults/a%3Ab", VAULT_API,
                     {"location": "westeurope"})
    assert bad_name.json()["error"]["code"] == "InvalidResourceName"
    orphan = _call("PUT", f"{group_url}/providers/Microsoft.Network/networkSecurityGroups/none"
                          "/securityRules/r", NET_API, {"properties": {}})
    assert orphan.status_code == 404
    assert orphan.json()["error"]["code"] == "ParentResourceNotFound"


def test_group_deletion_deletes_its_provider_resources(endpoint: str, group_url: str) -> None:
    url = f"{group_url}/providers/Microsoft.KeyVault/vaults/kv1"
    _wait(_call("PUT", url, VAULT_API, {"location": "westeurope"}).headers["Azure-AsyncOperation"])
    listed = _call("GET", f"{group_url}/resources", RG_API).json()["value"]
    assert [r["name"] for r in listed] == ["kv1"]
    deleting = _call("DELETE", group_url, RG_API)
    for _ in range(100):
        if requests.get(deleting.headers["Location"], headers=AUTH, timeout=10).status_code == 200:
            break
        time.sleep(0.05)
    _call("PUT", group_url, RG_API, {"location": "westeurope"})
    assert _call("GET", url, VAULT_API).status_code == 404


@pytest.fixture
def network(endpoint: str) -> tuple[NetworkManagementClient, ResourceManagementClient]:
    subscription = str(uuid.uuid4())
    kwargs: dict[str, Any] = {"base_url": endpoint, "authentication_policy": LocalAuth(),
                              "polling_interval": 0}
    resources = ResourceManagementClient(NoCredential(), subscription, **kwargs)  # type: ignore[arg-type]
    resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    return NetworkManagementClient(NoCredential(), subscription, **kwargs), resources  # type: ignore[arg-type]


def _vnet(space: list[str], subnets: dict[str, str]) -> VirtualNetwork:
    return VirtualNetwork(location="westeurope", properties=VirtualNetworkPropertiesFormat(
        address_space=AddressSpace(address_prefixes=space),
        subnets=[Subnet(name=n, properties=SubnetPropertiesFormat(address_prefix=p))
                 for n, p in subnets.items()]))


@pytest.mark.parametrize(("space", "subnets", "code"), [
    (["10.0.0.0/33"], {}, "InvalidCIDRNotation"),
    (["10.0.0.1/16"], {}, "InvalidCIDRNotation"),
    (["10.0.0.0/16"], {"a": "10.1.0.0/24"}, "NetcfgSubnetRangeOutsideVnet"),
    (["10.0.0.0/16"], {"a": "10.0.0.0/24", "b": "10.0.0.128/25"}, "NetcfgSubnetRangesOverlap"),
])
def test_network_rules(network: tuple[NetworkManagementClient, ResourceManagementClient],
                       space: list[str], subnets: dict[str, str], code: str) -> None:
    client, _ = network
    with pytest.raises(HttpResponseError) as info:
        client.virtual_networks.begin_create_or_update("rg", "v", _vnet(space, subnets)).result()
    assert info.value.status_code == 400 and info.value.error is not None
    assert info.value.error.code == code


def test_network_round_trip_through_the_sdk(
        network: tuple[NetworkManagementClient, ResourceManagementClient]) -> None:
    client, resources = network
    made = client.virtual_networks.begin_create_or_update(
        "rg", "v", _vnet(["10.0.0.0/16"], {"a": "10.0.1.0/24"})).result()
    assert made.provisioning_state == "Succeeded" and made.resource_guid
    assert [(s.name, s.address_prefix, s.id) for s in made.subnets] == \
        [("a", "10.0.1.0/24", f"{made.id}/subnets/a")]
    assert [r.name for r in resources.resources.list_by_resource_group("rg")] == ["v"]
    client.virtual_networks.begin_delete("rg", "v").result()
    assert list(client.virtual_networks.list("rg")) == []
