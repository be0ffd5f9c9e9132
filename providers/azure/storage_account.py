"""``azure:storage:Account``: an Azure storage account (azure-mgmt-storage).

The id is the account's ARM resource id. Creation is a long-running operation
(``begin_create().result()``). ``name``, ``resource_group_name``, ``location``
and ``kind`` cannot change in place; ``sku``, ``tags``,
``allow_blob_public_access`` and ``min_tls_version`` update in place.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.azure import session
from providers.base import name_taken, plan_update, with_defaults

TYPE = "azure:storage:Account"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="azure",
    read_back=True,                 # create and update end with a read
    setting_defaults={"location": "location"},
    terraform_type="azurerm_storage_account",
    description="An Azure storage account.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="3-24 lowercase letters and digits, globally unique"),
        "resource_group_name": PropertySchema("string", required=True, force_new=True),
        "location": PropertySchema(
            "string", force_new=True, description="Azure region; defaults to the azure location"),
        "sku": PropertySchema(
            "string", default="Standard_LRS",
            description="Standard_LRS, Standard_GRS, Standard_ZRS, Premium_LRS, ..."),
        "kind": PropertySchema("string", default="StorageV2", force_new=True),
        "tags": PropertySchema("map", items="string"),
        "allow_blob_public_access": PropertySchema("boolean", default=False),
        "min_tls_version": PropertySchema("string", default="TLS1_2",
                                          description="TLS1_0, TLS1_1, TLS1_2 or TLS1_3"),
    },
    outputs={"resource_id": "string", "primary_blob_endpoint": "string"},
)

def _update_body(prop: str, value: Any) -> dict[str, Any]:
    """The PATCH body fragment that sets one updatable property."""
    if prop == "sku":
        return {"sku": {"name": value}}
    if prop == "tags":
        return {"tags": value or {}}
    if prop == "allow_blob_public_access":
        return {"properties": {"allowBlobPublicAccess": bool(value)}}
    return {"properties": {"minimumTlsVersion": value}}


def _where(id: str, props: Mapping[str, Any]) -> tuple[str, str]:
    parts = session.parse_id(id)
    group = parts.get("resourcegroups") or str(props.get("resource_group_name") or "")
    name = parts.get("storageaccounts") or str(props.get("name") or id)
    return group, name


class StorageAccount:
    """CRUD for storage accounts through ``StorageManagementClient.storage_accounts``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props, {"location": config.get("location")})
        name, group = str(values["name"]), str(values["resource_group_name"])
        body: dict[str, Any] = {
            "location": values["location"],
            "kind": values["kind"],
            "sku": {"name": values["sku"]},
            "tags": values["tags"] or {},
            "properties": {
                "allowBlobPublicAccess": bool(values["allow_blob_public_access"]),
                "minimumTlsVersion": values["min_tls_version"],
            },
        }
        with session.translate(TYPE, name, config):
            client = session.storage_client(config)
            # A PUT on an existing account updates it: never adopt one silently.
            if _exists(client, group, name):
                raise name_taken("Azure error StorageAccountExists: the storage account already "
                                 f"exists in resource group '{group}'", what="storage account",
                                 name=name, resource_type=TYPE)
            client.storage_accounts.begin_create(group, name, body).result()
            account = client.storage_accounts.get_properties(group, name)
        return _result(account, group)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The account ``props["name"]`` in ``props["resource_group_name"]``, if it exists."""
        if not props.get("name") or not props.get("resource_group_name"):
            return None
        return self.read("", props, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        group, name = _where(id, props)
        with session.translate(TYPE, name, config):
            client = session.storage_client(config)
            try:
                account = client.storage_accounts.get_properties(group, name)
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise
        return _result(account, group)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        defaults = {"location": config.get("location")}
        group, name = _where(id, new)
        values, names = plan_update(SCHEMA, old, new, defaults, resource=name)
        body: dict[str, Any] = {}
        for prop in names:
            for key, part in _update_body(prop, values[prop]).items():
                if isinstance(part, dict) and isinstance(body.get(key), dict):
                    body[key].update(part)
                else:
                    body[key] = part
        with session.translate(TYPE, name, config):
            client = session.storage_client(config)
            if body:
                client.storage_accounts.update(group, name, body)
            account = client.storage_accounts.get_properties(group, name)
        return _result(account, group)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        group, name = _where(id, props)
        with session.translate(TYPE, name, config):
            client = session.storage_client(config)
            try:
                client.storage_accounts.delete(group, name)
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise


def _exists(client: Any, group: str, name: str) -> bool:
    try:
        client.storage_accounts.get_properties(group, name)
    except Exception as exc:
        if session.is_not_found(exc):
            return False
        raise
    return True


def _result(account: Any, group: str) -> ReadResult:
    if not account.id:
        raise CloudError("ARM returned a storage account without an id",
                         resource=str(account.name), resource_type=TYPE)
    props = account.properties
    endpoints = getattr(props, "primary_endpoints", None)
    sku = getattr(account, "sku", None)
    return ReadResult(id=str(account.id), properties={
        "name": account.name,
        "resource_group_name": session.parse_id(str(account.id)).get("resourcegroups", group),
        "location": account.location,
        "sku": session.plain(getattr(sku, "name", None)),
        "kind": session.plain(account.kind),
        "tags": dict(account.tags or {}),
        "allow_blob_public_access": bool(getattr(props, "allow_blob_public_access", False)),
        "min_tls_version": session.plain(getattr(props, "minimum_tls_version", None)),
        "resource_id": account.id,
        "primary_blob_endpoint": getattr(endpoints, "blob", None),
    })
