"""``azure:storage:BlobContainer``: a blob container (azure-storage-blob data plane).

The id is ``{account_name}/{name}``. ``public_access`` is ``none`` (private),
``blob`` or ``container``; it and ``metadata`` update in place. In the sandbox
the data plane is Azurite, reached with its well-known development account.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.azure import session
from providers.base import finish_create, name_taken, plan_update, with_defaults

TYPE = "azure:storage:BlobContainer"

PUBLIC_ACCESS = ("none", "blob", "container")

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="azure",
    read_back=True,                 # create and update end with a read
    terraform_type="azurerm_storage_container",
    description="A blob container in a storage account.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="3-63 lowercase letters, digits and hyphens"),
        "account_name": PropertySchema("string", required=True, force_new=True,
                                       description="the storage account holding the container"),
        "public_access": PropertySchema("string", default="none",
                                        description="none, blob or container"),
        "metadata": PropertySchema(
            "map", items="string", description="container metadata (string values)"),
    },
    outputs={"url": "string"},
)


def _where(id: str, props: Mapping[str, Any]) -> tuple[str, str]:
    account, sep, name = id.partition("/")
    if not sep:
        return str(props.get("account_name") or ""), id
    return account, name


def _access(value: Any) -> str | None:
    """The SDK's ``public_access`` argument for a property value."""
    text = str(value or "none").lower()
    if text not in PUBLIC_ACCESS:
        raise ProviderError(f"public_access must be one of {', '.join(PUBLIC_ACCESS)}, "
                            f"not '{value}'", resource_type=TYPE)
    return None if text == "none" else text


class BlobContainer:
    """CRUD for blob containers through ``BlobServiceClient``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        account, name = str(values["account_name"]), str(values["name"])
        access = _access(values["public_access"])
        where = f"{account}/{name}"
        with session.translate(TYPE, where, config):
            container = session.blob_service(account, config).get_container_client(name)
            # Read before create: a create whose answer was lost is retried by the SDK
            # and then meets its own container (409), which must not fail the create.
            if container.exists():
                raise name_taken("Azure error ContainerAlreadyExists: the container already "
                                 "exists", what="container", name=where, resource_type=TYPE,
                                 cloud_id=where)
            try:
                container.create_container(metadata=_metadata(values["metadata"]),
                                           public_access=access)
            except Exception as exc:
                if session.error_code(exc) != "ContainerAlreadyExists":
                    raise

        def finish() -> ReadResult:
            result = self.read(where, values, config)
            if result is None:
                raise CloudError("container vanished right after it was created",
                                 resource=where, resource_type=TYPE)
            return result

        return finish_create(finish, container.delete_container, resource=where,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The container ``props["name"]`` of account ``props["account_name"]``, if it exists."""
        account, name = str(props.get("account_name") or ""), str(props.get("name") or "")
        return self.read(f"{account}/{name}", props, config) if account and name else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        account, name = _where(id, props)
        with session.translate(TYPE, f"{account}/{name}", config):
            container = session.blob_service(account, config).get_container_client(name)
            try:
                info = container.get_container_properties()
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise
        return ReadResult(id=f"{account}/{name}", properties={
            "name": name,
            "account_name": account,
            "public_access": str(info.public_access or "none"),
            "metadata": dict(info.metadata or {}),
            "url": container.url,
        })

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        account, name = _where(id, new)
        values, names = plan_update(SCHEMA, old, new, resource=f"{account}/{name}")
        with session.translate(TYPE, f"{account}/{name}", config):
            container = session.blob_service(account, config).get_container_client(name)
            if "metadata" in names:
                container.set_container_metadata(metadata=_metadata(values["metadata"]))
            if "public_access" in names:
                # Setting the access level also replaces stored access policies:
                # keep the existing ones.
                policy = container.get_container_access_policy()
                identifiers = {i.id: i.access_policy for i in policy["signed_identifiers"]}
                container.set_container_access_policy(
                    signed_identifiers=identifiers, public_access=_access(values["public_access"]))
        result = self.read(f"{account}/{name}", values, config)
        if result is None:
            raise CloudError("container no longer exists", resource=f"{account}/{name}",
                             resource_type=TYPE,
                             hint="it was deleted outside provision; refresh and apply again")
        return result

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        account, name = _where(id, props)
        with session.translate(TYPE, f"{account}/{name}", config):
            container = session.blob_service(account, config).get_container_client(name)
            try:
                container.delete_container()
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}
