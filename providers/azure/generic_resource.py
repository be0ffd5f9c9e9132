"""``azure:resources:Resource``: any ARM resource type, by type, API version and id.

The escape hatch that reaches every Azure resource type without a dedicated
adapter, through azure-mgmt-resource's generic resources API
(``resources.begin_create_or_update_by_id`` / ``get_by_id`` /
``begin_delete_by_id``, each a long-running operation awaited with the SDK's
ARM poller), as Terraform's ``azapi_resource`` does.

Properties:

``resource_type``  ``Namespace/type`` or, for a child, ``Namespace/type/child``
                   (e.g. ``Microsoft.KeyVault/vaults``); cannot change in place
``api_version``    the resource provider's API version (``yyyy-mm-dd[-preview]``)
``name``           the resource's name; cannot change in place
``parent``         a resource group name, a resource group id, or (for a child
                   type) the parent resource's id; cannot change in place
``location``       region of a top-level (tracked) resource; defaults to the
                   azure ``location`` setting; child resources have none
``properties``     the request body's ``properties`` object, in ARM's camelCase
``tags``, ``kind``, ``sku``  as in ARM

Updates PUT the whole desired body (ARM's create-or-replace contract).
Reading back, ``properties`` holds the live values of the keys the spec sets
(recursively), so read-only values the provider adds, such as
``provisioningState``, are never a difference; the whole live object is the
``live_properties`` output.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.constraints import Pattern
from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.azure import limits, session
from providers.base import name_taken, plan_update, with_defaults

TYPE = "azure:resources:Resource"

# "Resource providers and types" and the ARM REST "api-version" query parameter.
TYPES_DOCS = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
              "resource-providers-and-types")
RESOURCE_TYPE = Pattern(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+(/[A-Za-z][A-Za-z0-9]*)+",
                        "Namespace/type[/child], e.g. Microsoft.KeyVault/vaults",
                        source=TYPES_DOCS)
API_VERSION = Pattern(r"\d{4}-\d{2}-\d{2}(-preview)?", "yyyy-mm-dd or yyyy-mm-dd-preview",
                      source=TYPES_DOCS)

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="azure",
    read_back=True,                 # create and update end with a read
    terraform_type="azapi_resource",
    description="Any Azure Resource Manager resource, by type, API version and properties.",
    properties={
        "resource_type": PropertySchema("string", required=True, force_new=True,
                                        description="Namespace/type[/child], e.g. "
                                                    "Microsoft.KeyVault/vaults",
                                        constraints=(RESOURCE_TYPE,)),
        "api_version": PropertySchema("string", required=True,
                                      description="yyyy-mm-dd or yyyy-mm-dd-preview",
                                      constraints=(API_VERSION,)),
        "name": PropertySchema("string", required=True, force_new=True,
                               constraints=limits.ARM_NAME),
        "parent": PropertySchema("string", required=True, force_new=True,
                                 description="resource group name or id, or the parent "
                                             "resource id of a child type"),
        "location": PropertySchema("string", force_new=True,
                                   description="region of a top-level resource"),
        "properties": PropertySchema("map", description="the ARM body's properties object"),
        "tags": PropertySchema("map", items="string", constraints=limits.TAGS),
        "kind": PropertySchema("string", force_new=True),
        "sku": PropertySchema("map"),
    },
    outputs={"resource_id": "string", "provisioning_state": "string",
             "live_properties": "map"},
)


def _type_parts(resource_type: str, name: str) -> list[str]:
    parts = [p for p in resource_type.split("/") if p]
    if len(parts) < 2 or "." not in parts[0]:
        raise ProviderError(f"resource_type '{resource_type}' is not an ARM type",
                            resource=name, resource_type=TYPE,
                            hint="write Namespace/type, e.g. Microsoft.KeyVault/vaults")
    return parts


def resource_id(values: Mapping[str, Any], config: CloudConfig) -> str:
    """The ARM id of the resource ``values`` describe (see the module doc for ``parent``)."""
    name = str(values["name"])
    parts = _type_parts(str(values["resource_type"]), name)
    parent = str(values["parent"]).rstrip("/")
    child = len(parts) > 2
    if parent.startswith("/"):
        keys = list(session.parse_id(parent))
        if keys == ["subscriptions", "resourcegroups"] and not child:
            return f"{parent}/providers/{parts[0]}/{parts[1]}/{name}"
        if child and "providers" in keys:
            return f"{parent}/{parts[-1]}/{name}"
    elif not child:
        return (f"/subscriptions/{session.subscription_id(config)}/resourceGroups/{parent}"
                f"/providers/{parts[0]}/{parts[1]}/{name}")
    raise ProviderError(
        f"parent '{parent}' does not fit resource_type '{values['resource_type']}'",
        resource=name, resource_type=TYPE,
        hint="a top-level type takes a resource group name or id; a child type takes "
             "its parent resource's id")


def project(live: Any, shape: Any) -> Any:
    """``live`` restricted to the keys of ``shape``, recursively through maps."""
    if isinstance(shape, Mapping) and isinstance(live, Mapping):
        return {k: project(live[k], v) for k, v in shape.items() if k in live}
    return live


def _body(values: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"properties": values["properties"] or {}}
    if values["location"]:
        body["location"] = values["location"]
    if values["tags"]:
        body["tags"] = values["tags"]
    if values["kind"]:
        body["kind"] = values["kind"]
    if values["sku"]:
        body["sku"] = values["sku"]
    return body


class GenericResource:
    """CRUD for any ARM type through ``ResourceManagementClient.resources`` by id."""

    schema = SCHEMA

    def _values(self, props: Mapping[str, Any], config: CloudConfig,
                strict: bool = True) -> dict[str, Any]:
        values = with_defaults(SCHEMA, props, strict=strict)
        top_level = str(values.get("resource_type") or "").count("/") == 1
        if values["location"] is None and top_level:
            values["location"] = config.get("location")
        return values

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = self._values(props, config)
        name, version = str(values["name"]), str(values["api_version"])
        rid = resource_id(values, config)
        with session.translate(TYPE, rid, config):
            client = session.resource_client(config)
            # A PUT on an existing resource replaces it: never adopt one silently.
            if client.resources.check_existence_by_id(rid, api_version=version):
                raise name_taken("Azure error ResourceExists: the resource already exists",
                                 what="resource", name=rid, resource_type=TYPE, cloud_id=rid)
            client.resources.begin_create_or_update_by_id(
                rid, _body(values), api_version=version).result()
            live = client.resources.get_by_id(rid, api_version=version)
        return _result(live, values)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The resource at the id its type, parent and name make (its natural key), if
        it exists."""
        if not all(props.get(k) for k in ("resource_type", "name", "parent", "api_version")):
            return None
        values = self._values(props, config, strict=False)
        return self.read(resource_id(values, config), props, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        version = str(props.get("api_version") or "")
        if not version:
            raise ProviderError("property 'api_version' is required to read a resource",
                                resource=id, resource_type=TYPE)
        with session.translate(TYPE, id, config):
            client = session.resource_client(config)
            try:
                live = client.resources.get_by_id(id, api_version=version)
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise
        return _result(live, props)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values = self._values(new, config)
        _, names = plan_update(SCHEMA, self._values(old, config, strict=False), values,
                               resource=id)
        version = str(values["api_version"])
        with session.translate(TYPE, id, config):
            client = session.resource_client(config)
            if set(names) - {"api_version"}:
                client.resources.begin_create_or_update_by_id(
                    id, _body(values), api_version=version).result()
            live = client.resources.get_by_id(id, api_version=version)
        return _result(live, values)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        version = str(props.get("api_version") or "")
        with session.translate(TYPE, id, config):
            client = session.resource_client(config)
            try:
                client.resources.begin_delete_by_id(id, api_version=version).result()
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise


def _result(live: Any, wanted: Mapping[str, Any]) -> ReadResult:
    if not live.id:
        raise CloudError("ARM returned a resource without an id", resource=str(live.name),
                         resource_type=TYPE)
    data = live.as_dict()
    rid = str(live.id)
    parts = [p for p in rid.split("/") if p]
    lower = [p.lower() for p in parts]
    provider_at = len(lower) - 1 - lower[::-1].index("providers")
    types = [parts[provider_at + 1], *parts[provider_at + 2::2]]
    # The parent as the spec wrote it when it still names this resource's parent.
    derived_parent = ("/".join(parts[: len(parts) - 2]) if len(types) > 2
                      else "/".join(parts[: provider_at]))
    parent = str(wanted.get("parent") or "")
    if parent.strip("/").lower() not in (derived_parent.lower(),
                                         session.parse_id(rid).get("resourcegroups", "").lower()):
        parent = "/" + derived_parent
    live_props = dict(data.get("properties") or {})
    shape = wanted.get("properties") or {}
    sku = data.get("sku")
    return ReadResult(id=rid, properties={
        "resource_type": "/".join(types) if not wanted.get("resource_type")
        else str(wanted["resource_type"]),
        "api_version": wanted.get("api_version"),
        "name": live.name,
        "parent": parent,
        "location": data.get("location"),
        "properties": project(live_props, shape),
        "tags": dict(data.get("tags") or {}),
        "kind": data.get("kind"),
        "sku": project(sku, wanted.get("sku")) if wanted.get("sku") else (sku or None),
        "resource_id": rid,
        "provisioning_state": live_props.get("provisioningState"),
        "live_properties": live_props,
    })
