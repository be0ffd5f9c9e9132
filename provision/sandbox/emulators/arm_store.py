"""In-memory state of the Azure Resource Manager emulator and its rules.

Resource groups and storage accounts per subscription, with the names,
locations, conflicts and error codes of the real service, and the long-running
operations that create and delete them. Lookups are case-insensitive as in ARM.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from provision.sandbox.emulators._http import HttpError

LOCATIONS = frozenset({
    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus",
    "southcentralus", "westcentralus", "canadacentral", "canadaeast", "brazilsouth",
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral",
    "swedencentral", "switzerlandnorth", "norwayeast", "polandcentral", "italynorth",
    "eastasia", "southeastasia", "japaneast", "japanwest", "australiaeast",
    "australiasoutheast", "centralindia", "southindia", "koreacentral", "uaenorth",
    "southafricanorth",
})
SKUS = frozenset({
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS",
    "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS",
})
KINDS = frozenset({"Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"})
RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def arm_error(status: int, code: str, message: str) -> HttpError:
    return HttpError(status, {"error": {"code": code, "message": message}})


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def normalize_location(value: Any) -> str:
    return str(value).replace(" ", "").lower()


@dataclass
class ResourceGroup:
    subscription: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    managed_by: str | None = None
    state: str = "Succeeded"

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.name}"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "name": self.name, "type": "Microsoft.Resources/resourceGroups",
            "location": self.location, "properties": {"provisioningState": self.state},
        }
        if self.tags:
            body["tags"] = dict(self.tags)
        if self.managed_by:
            body["managedBy"] = self.managed_by
        return body


@dataclass
class StorageAccount:
    subscription: str
    group: str
    name: str
    location: str
    sku: str
    kind: str
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    state: str = "Creating"
    created: str = field(default_factory=now)
    # Random per account, like real keys; the sandbox's blob data lives in Azurite's dev account.
    keys: dict[str, str] = field(default_factory=lambda: {
        f"key{i}": base64.b64encode(secrets.token_bytes(64)).decode() for i in (1, 2)})

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.group}"
                f"/providers/Microsoft.Storage/storageAccounts/{self.name}")

    def to_json(self) -> dict[str, Any]:
        endpoints = {svc: f"https://{self.name}.{svc}.core.windows.net/"
                     for svc in ("blob", "queue", "table", "file", "dfs")}
        endpoints["web"] = f"https://{self.name}.z6.web.core.windows.net/"
        props: dict[str, Any] = {
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": False,
            **self.properties,
            "provisioningState": self.state,
            "creationTime": self.created,
            "primaryEndpoints": endpoints,
            "primaryLocation": self.location,
            "statusOfPrimary": "available",
        }
        if self.kind in ("StorageV2", "BlobStorage"):
            props.setdefault("accessTier", "Hot")
        body: dict[str, Any] = {
            "id": self.id, "name": self.name, "type": "Microsoft.Storage/storageAccounts",
            "location": self.location, "kind": self.kind,
            "sku": {"name": self.sku, "tier": self.sku.split("_", 1)[0]},
            "properties": props,
        }
        body["tags"] = dict(self.tags)
        return body


@dataclass
class Operation:
    """A long-running operation: pending for ``polls`` status reads (or ``max_age`` seconds)."""

    id: str
    polls_left: int
    deadline: float
    finish: Callable[[], None]
    result: Callable[[], Any] = lambda: None
    target: object = None  # what the operation works on, to find it again
    started: str = field(default_factory=now)
    ended: str = ""

    @property
    def done(self) -> bool:
        return bool(self.ended)


class ArmStore:
    """All state of one emulator process; every public method holds the lock."""

    def __init__(self, lro_polls: int = 1, lro_max_age: float = 5.0) -> None:
        self.lock = threading.RLock()
        self.groups: dict[tuple[str, str], ResourceGroup] = {}
        self.accounts: dict[str, StorageAccount] = {}  # by lower-case name: names are global
        self.operations: dict[str, Operation] = {}
        self.lro_polls = lro_polls
        self.lro_max_age = lro_max_age
        # Called with (subscription, group) when a group's deletion completes.
        self.on_group_deleted: list[Callable[[str, str], None]] = []

    # -- operations ---------------------------------------------------------------
    def start_operation(self, finish: Callable[[], None], result: Callable[[], Any] = lambda: None,
                        target: object = None) -> Operation:
        op = Operation(id=str(uuid.uuid4()), polls_left=self.lro_polls,
                       deadline=time.monotonic() + self.lro_max_age, finish=finish, result=result,
                       target=target)
        self.operations[op.id] = op
        return op

    def _complete(self, op: Operation) -> None:
        if not op.done:
            op.finish()
            op.ended = now()

    def sweep(self) -> None:
        """Complete the operations whose time is up, polled or not."""
        moment = time.monotonic()
        for op in list(self.operations.values()):
            if not op.done and moment >= op.deadline:
                self._complete(op)

    def poll(self, op_id: str) -> Operation:
        op = self.operations.get(op_id)
        if op is None:
            raise arm_error(404, "NotFound", f"The operation '{op_id}' could not be found.")
        if not op.done:
            if op.polls_left <= 0:
                self._complete(op)
            else:
                op.polls_left -= 1
        return op

    # -- subscriptions and resource groups ------------------------------------------
    @staticmethod
    def check_subscription(subscription: str) -> str:
        if not GUID.match(subscription):
            raise arm_error(400, "InvalidSubscriptionId",
                            f"The provided subscription identifier '{subscription}' is malformed or invalid.")
        return subscription.lower()

    def find_group(self, subscription: str, name: str) -> ResourceGroup | None:
        return self.groups.get((subscription.lower(), name.lower()))

    def group(self, subscription: str, name: str) -> ResourceGroup:
        group = self.find_group(subscription, name)
        if group is None:
            raise arm_error(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        return group

    def put_group(self, subscription: str, name: str, body: dict[str, Any]) -> tuple[ResourceGroup, bool]:
        if not RG_NAME.match(name) or name.endswith("."):
            bad = sorted({c for c in name if not re.match(r"[-\w._()]", c)})
            detail = f" has these invalid characters: '{''.join(bad)}'." if bad else " is invalid."
            raise arm_error(400, "InvalidResourceGroup",
                            f"The provided resource group name '{name}'{detail} The name can only be "
                            "a letter, digit, '-', '.', '(', ')' or '_', cannot end with '.', and is "
                            "at most 90 characters long.")
        if not body.get("location"):
            raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
        location = normalize_location(body["location"])
        if location not in LOCATIONS:
            raise arm_error(400, "LocationNotAvailableForResourceGroup",
                            f"The provided location '{body['location']}' is not available for resource "
                            f"group. List of available regions is '{','.join(sorted(LOCATIONS))}'.")
        tags = _tags(body.get("tags"))
        existing = self.find_group(subscription, name)
        if existing is not None:
            if existing.state == "Deleting":
                raise arm_error(409, "ResourceGroupBeingDeleted",
                                f"The resource group '{existing.name}' is in deprovisioning state and "
                                "cannot perform this operation.")
            if existing.location != location:
                raise arm_error(409, "InvalidResourceGroupLocation",
                                f"Invalid resource group location '{location}'. The Resource group "
                                f"already exists in location '{existing.location}'.")
            existing.tags = tags
            existing.managed_by = body.get("managedBy") or existing.managed_by
            return existing, False
        group = ResourceGroup(subscription.lower(), name, location, tags, body.get("managedBy"))
        self.groups[(subscription.lower(), name.lower())] = group
        return group, True

    def patch_group(self, subscription: str, name: str, body: dict[str, Any]) -> ResourceGroup:
        group = self.group(subscription, name)
        if "tags" in body:
            group.tags = _tags(body["tags"])
        if body.get("managedBy"):
            group.managed_by = str(body["managedBy"])
        return group

    def delete_group(self, subscription: str, name: str) -> Operation:
        group = self.group(subscription, name)
        if group.state == "Deleting":
            for op in self.operations.values():
                if not op.done and op.target is group:
                    return op
        group.state = "Deleting"
        key = (subscription.lower(), name.lower())

        def finish() -> None:
            for account_name, account in list(self.accounts.items()):
                if (account.subscription, account.group.lower()) == key:
                    del self.accounts[account_name]
            self.groups.pop(key, None)
            for listener in self.on_group_deleted:
                listener(*key)

        return self.start_operation(finish, target=group)

    def groups_of(self, subscription: str) -> list[ResourceGroup]:
        return [g for (sub, _), g in self.groups.items() if sub == subscription.lower()]

    # -- storage accounts -------------------------------------------------------------
    def accounts_of(self, subscription: str, group: str | None = None) -> list[StorageAccount]:
        return [a for a in self.accounts.values() if a.subscription == subscription.lower()
                and (group is None or a.group.lower() == group.lower())]

    def account(self, subscription: str, group_name: str, name: str) -> StorageAccount:
        group = self.group(subscription, group_name)
        account = self.accounts.get(name.lower())
        if account is None or account.subscription != group.subscription \
                or account.group.lower() != group.name.lower():
            raise arm_error(404, "ResourceNotFound",
                            f"The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource "
                            f"group '{group_name}' was not found. For more details please go to "
                            "https://aka.ms/ARMResourceNotFoundFix")
        return account

    def put_account(self, subscription: str, group_name: str, name: str,
                    body: dict[str, Any]) -> tuple[StorageAccount, Operation | None]:
        group = self.group(subscription, group_name)
        if not ACCOUNT_NAME.match(name):
            raise arm_error(400, "AccountNameInvalid", invalid_account_message(name))
        location = normalize_location(body.get("location") or "")
        if not location:
            raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
        if location not in LOCATIONS:
            raise arm_error(400, "LocationNotAvailableForResourceType",
                            f"The provided location '{body['location']}' is not available for resource "
                            "type 'Microsoft.Storage/storageAccounts'.")
        sku = str((body.get("sku") or {}).get("name") or "")
        if sku not in SKUS:
            raise arm_error(400, "InvalidRequestContent" if not sku else "SkuNotSupported",
                            f"The sku '{sku}' is not supported. Supported skus: {', '.join(sorted(SKUS))}.")
        kind = str(body.get("kind") or "")
        if kind not in KINDS:
            raise arm_error(400, "InvalidRequestContent",
                            f"The kind '{kind}' is not valid. Valid kinds: {', '.join(sorted(KINDS))}.")
        existing = self.accounts.get(name)
        if existing is not None:
            if existing.subscription != group.subscription:
                raise arm_error(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
            if existing.group.lower() != group.name.lower():
                raise arm_error(409, "StorageAccountInAnotherResourceGroup",
                                f"The account {name} is already in another resource group in this subscription.")
            if existing.location != location:
                raise arm_error(409, "InvalidResourceLocation",
                                f"The resource '{name}' already exists in location '{existing.location}' in "
                                f"resource group '{group.name}'. A resource with the same name cannot be "
                                f"created in location '{location}'. Please select a new resource name.")
            existing.sku, existing.kind = sku, kind
            existing.tags = _tags(body.get("tags"))
            existing.properties.update(body.get("properties") or {})
            return existing, None
        account = StorageAccount(group.subscription, group.name, name, location, sku, kind,
                                 _tags(body.get("tags")), dict(body.get("properties") or {}))
        self.accounts[name] = account

        def finish() -> None:
            account.state = "Succeeded"

        return account, self.start_operation(finish, account.to_json, target=account)

    def patch_account(self, subscription: str, group_name: str, name: str,
                      body: dict[str, Any]) -> StorageAccount:
        account = self.account(subscription, group_name, name)
        if "tags" in body:
            account.tags = _tags(body["tags"])
        sku = (body.get("sku") or {}).get("name")
        if sku:
            if sku not in SKUS:
                raise arm_error(400, "SkuNotSupported", f"The sku '{sku}' is not supported.")
            account.sku = str(sku)
        if body.get("kind"):
            account.kind = str(body["kind"])
        account.properties.update(body.get("properties") or {})
        return account

    def delete_account(self, subscription: str, group_name: str, name: str) -> bool:
        self.group(subscription, group_name)
        try:
            self.account(subscription, group_name, name)
        except HttpError:
            return False
        del self.accounts[name.lower()]
        return True

    def name_availability(self, name: str) -> dict[str, Any]:
        if not ACCOUNT_NAME.match(name):
            return {"nameAvailable": False, "reason": "AccountNameInvalid",
                    "message": invalid_account_message(name)}
        if name in self.accounts:
            return {"nameAvailable": False, "reason": "AlreadyExists",
                    "message": f"The storage account named {name} is already taken."}
        return {"nameAvailable": True}


def invalid_account_message(name: str) -> str:
    return (f"{name} is not a valid storage account name. Storage account name must be between "
            "3 and 24 characters in length and use numbers and lower-case letters only.")


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise arm_error(400, "InvalidRequestContent", "The tags property must be an object of strings.")
    return {str(k): str(v) for k, v in value.items()}
