"""``azure:resources:ResourceGroup``: an Azure resource group (azure-mgmt-resource).

The id is the group's ARM resource id. ``location`` defaults to the
environment's azure ``location`` setting; ``name`` and ``location`` cannot
change in place. Only ``tags`` update in place. Deletion waits for the
long-running operation, and deletes every resource still in the group.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.azure import limits, session
from providers.base import name_taken, plan_update, with_defaults

TYPE = "azure:resources:ResourceGroup"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="azure",
    read_back=True,                 # create and update end with a read
    setting_defaults={"location": "location"},
    terraform_type="azurerm_resource_group",
    description="An Azure resource group.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="resource group name",
                               constraints=limits.RESOURCE_GROUP_NAME),
        "location": PropertySchema(
            "string", force_new=True, description="Azure region; defaults to the azure location"),
        "tags": PropertySchema("map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"resource_id": "string", "provisioning_state": "string"},
)


def _name(id: str, props: Mapping[str, Any]) -> str:
    return session.parse_id(id).get("resourcegroups") or str(props.get("name") or id)


class ResourceGroup:
    """CRUD for resource groups through ``ResourceManagementClient.resource_groups``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props, {"location": config.get("location")})
        name = str(values["name"])
        with session.translate(TYPE, name, config):
            client = session.resource_client(config)
            # create_or_update would silently adopt an existing group, whose
            # deletion later would take every resource in it along.
            if client.resource_groups.check_existence(name):
                raise name_taken("Azure error ResourceGroupExists: the resource group already "
                                 "exists", what="resource group", name=name, resource_type=TYPE)
            group = client.resource_groups.create_or_update(
                name, {"location": values["location"], "tags": values["tags"] or {}})
        return _result(group)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The resource group named by ``props["name"]``, if it exists."""
        return self.read("", props, config) if props.get("name") else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        name = _name(id, props)
        with session.translate(TYPE, name, config):
            client = session.resource_client(config)
            try:
                group = client.resource_groups.get(name)
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise
        return _result(group)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        defaults = {"location": config.get("location")}
        name = _name(id, new)
        values, names = plan_update(SCHEMA, old, new, defaults, resource=name)
        with session.translate(TYPE, name, config):
            client = session.resource_client(config)
            if "tags" in names:
                group = client.resource_groups.update(name, {"tags": values["tags"] or {}})
            else:
                group = client.resource_groups.get(name)
        return _result(group)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        name = _name(id, props)
        with session.translate(TYPE, name, config):
            client = session.resource_client(config)
            try:
                client.resource_groups.begin_delete(name).result()
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise


def _result(group: Any) -> ReadResult:
    if not group.id:
        raise CloudError("ARM returned a resource group without an id",
                         resource=str(group.name), resource_type=TYPE)
    properties = getattr(group, "properties", None)
    return ReadResult(id=str(group.id), properties={
        "name": group.name,
        "location": group.location,
        "tags": dict(group.tags or {}),
        "resource_id": group.id,
        "provisioning_state": getattr(properties, "provisioning_state", None),
    })
