"""Provider resources of the ARM emulator beyond storage: any ``{namespace}/{type}`` by id.

ARM's resource provider contract (``PUT``/``GET``/``PATCH``/``DELETE`` on
``/subscriptions/S/resourceGroups/G/providers/NS/T/N[/T2/N2...]``) is served for
every namespace the emulator has no dedicated model for, so the generic
``azure:resources:Resource`` adapter can reach "all of Azure". Two long-running
styles are emulated, both from Microsoft's ARM RPC guide (async operations):

- ``Microsoft.Network``: ``PUT`` answers ``201`` (new) or ``200`` (existing) with
  the resource body in ``provisioningState: Updating`` and an
  ``Azure-AsyncOperation`` header; ``DELETE`` answers ``202`` with
  ``Location`` and ``Azure-AsyncOperation``.
- every other namespace: ``PUT`` and ``DELETE`` answer ``202 Accepted`` with no
  body and both polling headers; the final state is read with ``GET``.

``Microsoft.Network/virtualNetworks`` is validated as the network resource
provider does: CIDR notation (``InvalidCIDRNotation``), subnets inside the
address space (``NetcfgSubnetRangeOutsideVnet``), no overlapping subnets
(``NetcfgSubnetRangesOverlap``), unique subnet names (``DuplicateResourceName``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from provision.sandbox.emulators.arm_store import (
    LOCATIONS, ArmStore, Operation, arm_error, normalize_location,
)

NETWORK = "microsoft.network"
VNET = "microsoft.network/virtualnetworks"
# Characters ARM refuses in any resource name (ARM "resource name rules" page).
BAD_NAME = re.compile(r"[<>%&:\\?/*#|\x00-\x1f]")
Validator = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class Resource:
    """One resource of any type, kept as ARM returns it."""

    id: str
    type: str          # as addressed, e.g. "Microsoft.Network/virtualNetworks"
    name: str
    location: str | None
    body: dict[str, Any]
    state: str = "Succeeded"
    etag: str = field(default_factory=lambda: f'W/"{uuid.uuid4()}"')
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0].lower()

    def to_json(self) -> dict[str, Any]:
        properties = dict(self.body.get("properties") or {})
        properties["provisioningState"] = self.state
        if self.namespace == NETWORK:
            properties.setdefault("resourceGuid", self.guid)
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.location is not None:
            out["location"] = self.location
        for key in ("kind", "sku", "identity", "plan", "zones", "extendedLocation"):
            if key in self.body:
                out[key] = self.body[key]
        out["tags"] = dict(self.body.get("tags") or {})
        out["etag"] = self.etag
        out["properties"] = properties
        return out


def _network(text: str, resource_id: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise arm_error(400, "InvalidCIDRNotation",
                        f"The address prefix {text} in resource {resource_id} has an invalid "
                        "CIDR notation. For the given prefix length, the address prefix "
                        "should be a valid network address.") from None


def _vnet(resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a virtual network body (subnets get ids, types and states)."""
    props = dict(body.get("properties") or {})
    space = (props.get("addressSpace") or {}).get("addressPrefixes") or []
    if not isinstance(space, list) or not space:
        raise arm_error(400, "InvalidRequestFormat",
                        f"Cannot parse the request: addressSpace.addressPrefixes of {resource_id} "
                        "must hold at least one address prefix.")
    nets = [_network(str(p), resource_id) for p in space]
    subnets_in = props.get("subnets") or []
    vnet_name = resource_id.rsplit("/", 1)[-1]
    seen: dict[str, Any] = {}
    subnets: list[dict[str, Any]] = []
    for subnet in subnets_in:
        name = str(subnet.get("name") or "")
        sprops = dict(subnet.get("properties") or {})
        prefix = sprops.get("addressPrefix")
        if not name or not prefix:
            raise arm_error(400, "InvalidRequestFormat",
                            f"Cannot parse the request: every subnet of {resource_id} needs "
                            "a name and properties.addressPrefix.")
        if name.lower() in seen:
            raise arm_error(400, "DuplicateResourceName",
                            f"Resource {resource_id} has two child resources with the same name "
                            f"({name}).")
        net = _network(str(prefix), f"{resource_id}/subnets/{name}")
        if not any(net.version == n.version and net.subnet_of(n)  # type: ignore[arg-type]
                   for n in nets):
            raise arm_error(400, "NetcfgSubnetRangeOutsideVnet",
                            f"Subnet '{name}' is not valid because its IP address range is "
                            f"outside the IP address range of virtual network '{vnet_name}'.")
        for other_name, other in seen.items():
            if net.overlaps(other):
                raise arm_error(400, "NetcfgSubnetRangesOverlap",
                                f"Subnet '{name}' is not valid because its IP address range "
                                f"overlaps with that of an existing subnet '{other_name}' in "
                                f"virtual network '{vnet_name}'.")
        seen[name.lower()] = net
        sprops["provisioningState"] = "Succeeded"
        subnets.append({"id": f"{resource_id}/subnets/{name}", "name": name,
                        "type": "Microsoft.Network/virtualNetworks/subnets",
                        "properties": sprops})
    props["subnets"] = subnets
    props.setdefault("dhcpOptions", {"dnsServers": []})
    props.setdefault("enableDdosProtection", False)
    return {**body, "properties": props}


VALIDATORS: dict[str, Validator] = {VNET: _vnet}


class ResourceTable:
    """Resources of any type, by lower-cased id, sharing the store's lock and operations."""

    def __init__(self, store: ArmStore) -> None:
        self.store = store
        self.items: dict[str, Resource] = {}
        self.busy: dict[str, Operation] = {}

    def find(self, resource_id: str) -> Resource | None:
        return self.items.get(resource_id.lower())

    def get(self, resource_id: str, group: str) -> Resource:
        resource = self.find(resource_id)
        if resource is None:
            path = resource_id.split("/providers/", 1)[-1]
            raise arm_error(404, "ResourceNotFound",
                            f"The Resource '{path}' under resource group '{group}' was not found. "
                            "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
        return resource

    def in_group(self, subscription: str, group: str) -> list[Resource]:
        prefix = f"/subscriptions/{subscription}/resourcegroups/{group}/".lower()
        return [r for key, r in self.items.items() if key.startswith(prefix)]

    def listed(self, collection_id: str) -> list[Resource]:
        """The resources directly in a collection (``.../providers/NS/T`` or ``.../T2``)."""
        prefix = collection_id.lower() + "/"
        return [r for key, r in self.items.items()
                if key.startswith(prefix) and "/" not in key[len(prefix):]]

    def drop_group(self, subscription: str, group: str) -> None:
        for resource in self.in_group(subscription, group):
            self.items.pop(resource.id.lower(), None)

    def _check_idle(self, resource_id: str) -> None:
        op = self.busy.get(resource_id.lower())
        if op is not None and not op.done:
            raise arm_error(409, "AnotherOperationInProgress",
                            f"Another operation on this or dependent resource is in progress. "
                            f"To retrieve status of the operation use uri: operations/{op.id}.")

    def put(self, resource_id: str, type_name: str, name: str, body: dict[str, Any]) -> tuple[Resource, bool, Operation]:
        """Create or replace; the resource is ``Updating`` until the operation completes."""
        if BAD_NAME.search(name) or len(name) > 260 or name.endswith("."):
            raise arm_error(400, "InvalidResourceName",
                            f"Resource name {name} is invalid. The name can be up to 260 characters "
                            "long and cannot end with '.' or contain <>*%&:\\?/#| or control "
                            "characters.")
        self._check_idle(resource_id)
        child = type_name.count("/") > 1
        if child:
            parent_id = resource_id.rsplit("/", 2)[0]
            if self.find(parent_id) is None:
                parent = parent_id.rsplit("/", 1)[-1]
                raise arm_error(404, "ParentResourceNotFound",
                                "Can not perform requested operation on nested resource. Parent "
                                f"resource '{parent}' not found.")
        location = body.get("location")
        if location is None and not child:
            raise arm_error(400, "LocationRequired",
                            "The location property is required for this definition.")
        if location is not None:
            location = normalize_location(location)
            if location not in LOCATIONS:
                raise arm_error(400, "LocationNotAvailableForResourceType",
                                f"The provided location '{body['location']}' is not available for "
                                f"resource type '{type_name.rsplit('/', 1)[0]}'.")
        existing = self.find(resource_id)
        if existing is not None and existing.location and location \
                and existing.location != location:
            raise arm_error(409, "InvalidResourceLocation",
                            f"The resource '{name}' already exists in location "
                            f"'{existing.location}'. A resource with the same name cannot be "
                            f"created in location '{location}'. Please select a new resource name.")
        validator = VALIDATORS.get(type_name.lower())
        if validator is not None:
            body = validator(resource_id, body)
        if existing is None:
            resource = Resource(resource_id, type_name, name, location, body,
                                state="Creating" if _namespace(type_name) != NETWORK
                                else "Updating")
            self.items[resource_id.lower()] = resource
        else:
            resource = existing
            resource.body, resource.state = body, "Updating"
            resource.etag = f'W/"{uuid.uuid4()}"'

        def finish() -> None:
            resource.state = "Succeeded"

        op = self.store.start_operation(finish, resource.to_json, target=resource)
        self.busy[resource_id.lower()] = op
        return resource, existing is None, op

    def patch(self, resource_id: str, group: str, body: dict[str, Any]) -> Resource:
        resource = self.get(resource_id, group)
        if "tags" in body:
            resource.body["tags"] = dict(body["tags"] or {})
        return resource

    def delete(self, resource_id: str) -> Operation | None:
        """Start deleting (with every child resource); None when there is nothing to delete."""
        resource = self.find(resource_id)
        if resource is None:
            return None
        self._check_idle(resource_id)
        resource.state = "Deleting"
        prefix = resource_id.lower() + "/"

        def finish() -> None:
            for key in [k for k in self.items if k == resource_id.lower() or k.startswith(prefix)]:
                del self.items[key]

        op = self.store.start_operation(finish, target=resource)
        self.busy[resource_id.lower()] = op
        return op


def _namespace(type_name: str) -> str:
    return type_name.split("/", 1)[0].lower()


def split_types(names: list[str]) -> tuple[str, str] | None:
    """``[NS, T, N, T2, N2]`` -> (``"NS/T/T2"``, last name); None if the path is no resource."""
    if len(names) < 3 or len(names) % 2 == 0:
        return None
    types = [names[0], *names[1::2]]
    return "/".join(types), names[-1]
