"""The Azure Resource Manager emulator, spoken to through the official Azure SDKs.

Each test works in its own random subscription, so tests share the session's
emulator without seeing each other's resource groups.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

from provision.sandbox import SandboxStatus

pytestmark = pytest.mark.sandbox

RG_API = "2025-04-01"
STORAGE_API = "2026-09-01"
AUTH = {"Authorization": "Bearer local"}


class LocalAuth(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Sets a fixed Authorization header: the bearer policies refuse plain http."""

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        request.http_request.headers["Authorization"] = "Bearer local"


class NoCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise AssertionError("the local auth policy never asks for a token")


@pytest.fixture
def endpoint(sandbox: SandboxStatus) -> str:
    return sandbox.endpoints["azure_arm"]


@pytest.fixture
def subscription() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def resources(endpoint: str, subscription: str) -> ResourceManagementClient:
    return ResourceManagementClient(NoCredential(), subscription, base_url=endpoint,  # type: ignore[arg-type]
                                    authentication_policy=LocalAuth())


@pytest.fixture
def storage(endpoint: str, subscription: str) -> StorageManagementClient:
    return StorageManagementClient(NoCredential(), subscription, base_url=endpoint,  # type: ignore[arg-type]
                                   authentication_policy=LocalAuth())


def status_code(response: Any, deserialized: Any, headers: Any) -> int:
    return int(response.http_response.status_code)


def error_code(exc: HttpResponseError) -> str:
    assert exc.error is not None
    return str(exc.error.code)


def account_name() -> str:
    return "sbx" + uuid.uuid4().hex[:18]


def new_account(storage: StorageManagementClient, group: str, name: str, **extra: Any) -> Any:
    body = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", **extra}
    return storage.storage_accounts.begin_create(group, name, body).result()


# -- resource groups ------------------------------------------------------------------


def test_resource_group_create_is_201_then_update_is_200(resources: ResourceManagementClient) -> None:
    groups = resources.resource_groups
    assert groups.create_or_update("rg-one", {"location": "westeurope"}, cls=status_code) == 201
    assert groups.create_or_update("rg-one", {"location": "westeurope", "tags": {"team": "infra"}},
                                   cls=status_code) == 200
    group = groups.get("rg-one")
    assert group.name == "rg-one" and group.location == "westeurope"
    assert group.tags == {"team": "infra"}
    assert group.properties is not None and group.properties.provisioning_state == "Succeeded"
    assert group.id.endswith("/resourceGroups/rg-one")


def test_check_existence_and_case_insensitive_names(resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("Mixed-Case", {"location": "West Europe"})
    assert resources.resource_groups.check_existence("mixed-case") is True
    assert resources.resource_groups.check_existence("absent") is False
    assert resources.resource_groups.get("MIXED-CASE").name == "Mixed-Case"


def test_path_segments_are_case_insensitive(endpoint: str, subscription: str,
                                            resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-case", {"location": "westeurope"})
    url = f"{endpoint}/SUBSCRIPTIONS/{subscription}/ResourceGroups/RG-CASE"
    response = requests.get(url, params={"API-VERSION": RG_API}, headers=AUTH, timeout=10)
    assert response.status_code == 200 and response.json()["name"] == "rg-case"


def test_patch_replaces_tags(resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-tags", {"location": "westeurope", "tags": {"a": "1"}})
    updated = resources.resource_groups.update("rg-tags", {"tags": {"b": "2"}})
    assert updated.tags == {"b": "2"}
    assert resources.resource_groups.get("rg-tags").tags == {"b": "2"}


def test_list_and_filter_by_tag(resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-a", {"location": "westeurope", "tags": {"env": "dev"}})
    resources.resource_groups.create_or_update("rg-b", {"location": "northeurope", "tags": {"env": "prod"}})
    assert sorted(g.name for g in resources.resource_groups.list()) == ["rg-a", "rg-b"]
    prod = resources.resource_groups.list(filter="tagName eq 'env' and tagValue eq 'prod'")
    assert [g.name for g in prod] == ["rg-b"]


def test_missing_group_is_resource_group_not_found(resources: ResourceManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as info:
        resources.resource_groups.get("nowhere")
    assert info.value.status_code == 404 and error_code(info.value) == "ResourceGroupNotFound"
    assert "nowhere" in str(info.value.message)


def test_location_cannot_change(resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-loc", {"location": "westeurope"})
    with pytest.raises(ResourceExistsError) as info:
        resources.resource_groups.create_or_update("rg-loc", {"location": "eastus"})
    assert info.value.status_code == 409 and error_code(info.value) == "InvalidResourceGroupLocation"


@pytest.mark.parametrize("name, body, code", [
    ("bad name!", {"location": "westeurope"}, "InvalidResourceGroup"),
    ("ends-with-dot.", {"location": "westeurope"}, "InvalidResourceGroup"),
    ("x" * 91, {"location": "westeurope"}, "InvalidResourceGroup"),
    ("no-location", {}, "LocationRequired"),
    ("moon", {"location": "moonbase1"}, "LocationNotAvailableForResourceGroup"),
])
def test_invalid_resource_group_requests_are_400(resources: ResourceManagementClient, name: str,
                                                 body: dict[str, Any], code: str) -> None:
    with pytest.raises(HttpResponseError) as info:
        resources.resource_groups.create_or_update(name, body)
    assert info.value.status_code == 400 and error_code(info.value) == code


def test_begin_delete_is_a_long_running_operation(resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-gone", {"location": "westeurope"})
    poller = resources.resource_groups.begin_delete("rg-gone")
    assert poller.result(timeout=30) is None and poller.done()
    assert resources.resource_groups.check_existence("rg-gone") is False
    with pytest.raises(ResourceNotFoundError):
        resources.resource_groups.begin_delete("rg-gone")


def test_delete_protocol_202_location_then_200(endpoint: str, subscription: str,
                                               resources: ResourceManagementClient) -> None:
    resources.resource_groups.create_or_update("rg-wire", {"location": "westeurope"})
    url = f"{endpoint}/subscriptions/{subscription}/resourcegroups/rg-wire"
    params = {"api-version": RG_API}
    first = requests.delete(url, params=params, headers=AUTH, timeout=10)
    assert first.status_code == 202 and first.content == b""
    location = first.headers["Location"]
    assert location.startswith(f"{endpoint}/subscriptions/{subscription}/operationresults/")
    assert requests.get(url, params=params, headers=AUTH, timeout=10).json()[
        "properties"]["provisioningState"] == "Deleting"
    again = requests.put(url, params=params, headers=AUTH, json={"location": "westeurope"}, timeout=10)
    assert again.status_code == 409 and again.json()["error"]["code"] == "ResourceGroupBeingDeleted"
    polled = requests.get(location, headers=AUTH, timeout=10)
    assert polled.status_code == 202 and polled.headers["Location"]
    assert requests.get(location, headers=AUTH, timeout=10).status_code == 200
    assert requests.head(url, params=params, headers=AUTH, timeout=10).status_code == 404


def test_api_version_is_required(endpoint: str, subscription: str) -> None:
    response = requests.get(f"{endpoint}/subscriptions/{subscription}/resourcegroups", headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_api_version_must_be_a_date(endpoint: str, subscription: str) -> None:
    response = requests.get(f"{endpoint}/subscriptions/{subscription}/resourcegroups",
                            params={"api-version": "latest"}, headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_authorization_is_required(endpoint: str, subscription: str) -> None:
    response = requests.get(f"{endpoint}/subscriptions/{subscription}/resourcegroups",
                            params={"api-version": RG_API}, timeout=10)
    assert response.status_code == 401 and response.json()["error"]["code"] == "AuthenticationFailed"


def test_malformed_subscription_is_rejected(endpoint: str) -> None:
    response = requests.get(f"{endpoint}/subscriptions/not-a-guid/resourcegroups",
                            params={"api-version": RG_API}, headers=AUTH, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidSubscriptionId"


# -- storage accounts -------------------------------------------------------------------


@pytest.fixture
def group(resources: ResourceManagementClient) -> str:
    resources.resource_groups.create_or_update("rg-storage", {"location": "westeurope"})
    return "rg-storage"


def test_storage_account_create_get_list(storage: StorageManagementClient, group: str) -> None:
    name = account_name()
    created = new_account(storage, group, name, tags={"app": "web"})
    assert created.name == name and created.provisioning_state == "Succeeded"
    assert created.primary_endpoints.blob == f"https://{name}.blob.core.windows.net/"
    fetched = storage.storage_accounts.get_properties(group, name)
    assert fetched.sku.name == "Standard_LRS" and fetched.kind == "StorageV2"
    assert fetched.tags == {"app": "web"} and fetched.location == "westeurope"
    assert [a.name for a in storage.storage_accounts.list_by_resource_group(group)] == [name]
    assert name in [a.name for a in storage.storage_accounts.list()]


def test_storage_create_protocol_async_operation(endpoint: str, subscription: str, group: str) -> None:
    name = account_name()
    url = (f"{endpoint}/subscriptions/{subscription}/resourceGroups/{group}"
           f"/providers/Microsoft.Storage/storageAccounts/{name}")
    params = {"api-version": STORAGE_API}
    body = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    first = requests.put(url, params=params, json=body, headers=AUTH, timeout=10)
    assert first.status_code == 202
    async_url, location = first.headers["Azure-AsyncOperation"], first.headers["Location"]
    assert "/providers/Microsoft.Storage/locations/westeurope/asyncoperations/" in async_url
    assert location.startswith(endpoint)
    during = requests.get(url, params=params, headers=AUTH, timeout=10).json()
    assert during["properties"]["provisioningState"] == "Creating"
    assert requests.get(async_url, headers=AUTH, timeout=10).json()["status"] == "InProgress"
    assert requests.get(async_url, headers=AUTH, timeout=10).json()["status"] == "Succeeded"
    after = requests.get(url, params=params, headers=AUTH, timeout=10).json()
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert requests.put(url, params=params, json=body, headers=AUTH, timeout=10).status_code == 200


def test_storage_update_and_delete(storage: StorageManagementClient, group: str) -> None:
    name = account_name()
    new_account(storage, group, name)
    updated = storage.storage_accounts.update(group, name, {"tags": {"tier": "gold"}})
    assert updated.tags == {"tier": "gold"}
    assert storage.storage_accounts.delete(group, name, cls=status_code) == 200
    with pytest.raises(ResourceNotFoundError) as info:
        storage.storage_accounts.get_properties(group, name)
    assert error_code(info.value) == "ResourceNotFound"
    assert storage.storage_accounts.delete(group, name, cls=status_code) == 204


def test_list_keys(storage: StorageManagementClient, group: str) -> None:
    name = account_name()
    new_account(storage, group, name)
    keys = storage.storage_accounts.list_keys(group, name).keys_property or []
    assert [k.key_name for k in keys] == ["key1", "key2"]
    assert keys[0].value != keys[1].value and keys[0].permissions == "FULL"


def test_check_name_availability(storage: StorageManagementClient, group: str) -> None:
    taken = account_name()
    new_account(storage, group, taken)

    def check(name: str) -> Any:
        return storage.storage_accounts.check_name_availability(
            {"name": name, "type": "Microsoft.Storage/storageAccounts"})

    assert check(account_name()).name_available is True
    result = check(taken)
    assert result.name_available is False and result.reason == "AlreadyExists"
    result = check("Not_Valid")
    assert result.name_available is False and result.reason == "AccountNameInvalid"


@pytest.mark.parametrize("name", ["ab", "UpperCase1", "with-dash", "a" * 25])
def test_invalid_account_name(storage: StorageManagementClient, group: str, name: str) -> None:
    with pytest.raises(HttpResponseError) as info:
        new_account(storage, group, name)
    assert info.value.status_code == 400 and error_code(info.value) == "AccountNameInvalid"


def test_account_in_missing_group(storage: StorageManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as info:
        new_account(storage, "no-such-group", account_name())
    assert error_code(info.value) == "ResourceGroupNotFound"


def test_account_names_are_global(endpoint: str, storage: StorageManagementClient,
                                  resources: ResourceManagementClient, group: str) -> None:
    name = account_name()
    new_account(storage, group, name)
    resources.resource_groups.create_or_update("rg-other", {"location": "westeurope"})
    with pytest.raises(ResourceExistsError) as info:
        new_account(storage, "rg-other", name)
    assert error_code(info.value) == "StorageAccountInAnotherResourceGroup"
    stranger = str(uuid.uuid4())
    ResourceManagementClient(NoCredential(), stranger, base_url=endpoint,  # type: ignore[arg-type]
                             authentication_policy=LocalAuth()
                             ).resource_groups.create_or_update(group, {"location": "westeurope"})
    elsewhere = StorageManagementClient(NoCredential(), stranger, base_url=endpoint,  # type: ignore[arg-type]
                                        authentication_policy=LocalAuth())
    with pytest.raises(ResourceExistsError) as info:
        new_account(elsewhere, group, name)
    assert info.value.status_code == 409 and error_code(info.value) == "StorageAccountAlreadyTaken"


def test_deleting_a_group_deletes_its_accounts(resources: ResourceManagementClient,
                                               storage: StorageManagementClient, group: str) -> None:
    name = account_name()
    new_account(storage, group, name)
    started = time.monotonic()
    resources.resource_groups.begin_delete(group).result(timeout=30)
    assert time.monotonic() - started < 10
    availability = storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"})
    assert availability.name_available is True
