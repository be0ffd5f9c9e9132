"""``azure:network:VirtualNetwork``: an Azure virtual network with its subnets (azure-mgmt-network).

The id is the network's ARM resource id. ``name``, ``resource_group_name`` and
``location`` cannot change in place; ``address_space``, ``subnets``,
``dns_servers`` and ``tags`` update in place. The network resource provider
has no partial update besides tags, so an update reads the live network and
PUTs it back with the changed properties, keeping what provision does not
manage (for example a subnet's network security group). Create, update and
delete are long-running operations awaited with the SDK's ARM poller
(``begin_*().result()``). Each write is followed by a ``GET`` so the result is
the cloud's state, not the request.

``subnets`` is a list of ``{name, address_prefix}``; Azure requires every
subnet inside the address space and no two overlapping (Azure docs, "Add,
change, or delete a virtual network subnet").
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.constraints import Each, Fields, Length
from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.azure import limits, session
from providers.base import name_taken, plan_update, with_defaults

TYPE = "azure:network:VirtualNetwork"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="azure",
    read_back=True,                 # create and update end with a read
    setting_defaults={"location": "location"},
    terraform_type="azurerm_virtual_network",
    description="An Azure virtual network and its subnets.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="2-64 letters, digits, '_', '.', '-'",
                               constraints=limits.VNET_NAME),
        "resource_group_name": PropertySchema("string", required=True, force_new=True,
                                              constraints=limits.RESOURCE_GROUP_NAME),
        "location": PropertySchema(
            "string", force_new=True, description="Azure region; defaults to the azure location"),
        "address_space": PropertySchema(
            "list", required=True, description="CIDR blocks, e.g. [\"10.0.0.0/16\"]",
            constraints=(Length(1, None, source=limits.VNET_DOCS),
                         Each((limits.IpCidr(source=limits.VNET_DOCS),)))),
        "subnets": PropertySchema(
            "list", description="[{name, address_prefix}] inside address_space, not overlapping",
            constraints=(Each((Fields({"name": limits.SUBNET_NAME,
                                       "address_prefix": (limits.IpCidr(
                                           source=limits.SUBNET_DOCS),)},
                                      required=("name", "address_prefix"),
                                      source=limits.SUBNET_DOCS),)),)),
        "dns_servers": PropertySchema("list", description="custom DNS server IP addresses"),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    rules=(limits.SubnetsInside(),),
    outputs={"resource_id": "string", "guid": "string", "provisioning_state": "string",
             "subnet_ids": "map"},
)

SUBNET_KEYS = frozenset({"name", "address_prefix"})


def _where(id: str, props: Mapping[str, Any]) -> tuple[str, str]:
    parts = session.parse_id(id)
    group = parts.get("resourcegroups") or str(props.get("resource_group_name") or "")
    name = parts.get("virtualnetworks") or str(props.get("name") or id)
    return group, name


def _subnets(value: Any, name: str) -> list[dict[str, str]]:
    """The spec's subnets, checked: a list of maps with exactly ``name`` and ``address_prefix``."""
    subnets: list[dict[str, str]] = []
    for index, item in enumerate(value or []):
        if not isinstance(item, Mapping) or set(item) != SUBNET_KEYS:
            raise ProviderError(
                f"subnets[{index}] must be a map with exactly the keys name and address_prefix",
                resource=name, resource_type=TYPE)
        subnets.append({"name": str(item["name"]), "address_prefix": str(item["address_prefix"])})
    return subnets


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value or []]


class VirtualNetwork:
    """CRUD for virtual networks through ``NetworkManagementClient.virtual_networks``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        from azure.mgmt.network.models import (
            AddressSpace, DhcpOptions, Subnet, SubnetPropertiesFormat,
            VirtualNetworkPropertiesFormat,
        )
        from azure.mgmt.network.models import VirtualNetwork as Model

        values = with_defaults(SCHEMA, props, {"location": config.get("location")})
        name, group = str(values["name"]), str(values["resource_group_name"])
        subnets = _subnets(values["subnets"], name)
        body = Model(
            location=values["location"], tags=values["tags"] or {},
            properties=VirtualNetworkPropertiesFormat(
                address_space=AddressSpace(address_prefixes=_strings(values["address_space"])),
                subnets=[Subnet(name=s["name"], properties=SubnetPropertiesFormat(
                    address_prefix=s["address_prefix"])) for s in subnets],
                dhcp_options=DhcpOptions(dns_servers=_strings(values["dns_servers"]))))
        with session.translate(TYPE, name, config):
            client = session.network_client(config)
            # A PUT on an existing network replaces its subnets: never adopt one silently.
            if _get(client, group, name) is not None:
                raise name_taken("Azure error VirtualNetworkExists: the virtual network already "
                                 f"exists in resource group '{group}'", what="virtual network",
                                 name=name, resource_type=TYPE)
            client.virtual_networks.begin_create_or_update(group, name, body).result()
            network = client.virtual_networks.get(group, name)
        return _result(network, group)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The network named by ``props["name"]`` in ``props["resource_group_name"]``
        (its natural key: names are unique in a resource group), if it exists."""
        if not props.get("name") or not props.get("resource_group_name"):
            return None
        return self.read("", props, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        group, name = _where(id, props)
        with session.translate(TYPE, name, config):
            network = _get(session.network_client(config), group, name)
        return None if network is None else _result(network, group)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        from azure.mgmt.network.models import AddressSpace, DhcpOptions, Subnet

        group, name = _where(id, new)
        values, names = plan_update(SCHEMA, old, new, {"location": config.get("location")},
                                    resource=name)
        with session.translate(TYPE, name, config):
            client = session.network_client(config)
            network = client.virtual_networks.get(group, name)
            if names:
                if "address_space" in names:
                    network.address_space = AddressSpace(
                        address_prefixes=_strings(values["address_space"]))
                if "subnets" in names:
                    live = {s.name.lower(): s for s in network.subnets or []}
                    merged = []
                    for wanted in _subnets(values["subnets"], name):
                        subnet = live.get(wanted["name"].lower()) or Subnet(name=wanted["name"])
                        subnet.address_prefix = wanted["address_prefix"]
                        merged.append(subnet)
                    network.subnets = merged
                if "dns_servers" in names:
                    network.dhcp_options = DhcpOptions(dns_servers=_strings(values["dns_servers"]))
                if "tags" in names:
                    network.tags = values["tags"] or {}
                client.virtual_networks.begin_create_or_update(group, name, network).result()
                network = client.virtual_networks.get(group, name)
        return _result(network, group)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        group, name = _where(id, props)
        with session.translate(TYPE, name, config):
            client = session.network_client(config)
            try:
                client.virtual_networks.begin_delete(group, name).result()
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise


def _get(client: Any, group: str, name: str) -> Any:
    try:
        return client.virtual_networks.get(group, name)
    except Exception as exc:
        if session.is_not_found(exc):
            return None
        raise


def _result(network: Any, group: str) -> ReadResult:
    if not network.id:
        raise CloudError("ARM returned a virtual network without an id",
                         resource=str(network.name), resource_type=TYPE)
    space = getattr(network, "address_space", None)
    dhcp = getattr(network, "dhcp_options", None)
    subnets = list(network.subnets or [])
    return ReadResult(id=str(network.id), properties={
        "name": network.name,
        "resource_group_name": session.parse_id(str(network.id)).get("resourcegroups", group),
        "location": network.location,
        "address_space": list(getattr(space, "address_prefixes", None) or []),
        "subnets": [{"name": s.name, "address_prefix": s.address_prefix} for s in subnets],
        "dns_servers": list(getattr(dhcp, "dns_servers", None) or []),
        "tags": dict(network.tags or {}),
        "resource_id": network.id,
        "guid": network.resource_guid,
        "provisioning_state": session.plain(network.provisioning_state),
        "subnet_ids": {s.name: s.id for s in subnets},
    })
