"""The one typed protocol between the core and the cloud adapters in ``providers/``.

The core never imports a cloud SDK. An adapter declares its resource type's
schema (used by validation and planning without any SDK loaded) and implements
create/read/update/delete with the real SDK, imported lazily inside its methods.
Adapters are found through an explicit :class:`AdapterRegistry` built by the
composition root (``providers.registry()``), never by import side effects.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

from provision.constraints import Constraint, Rule

PropertyType = str  # "string" | "integer" | "number" | "boolean" | "map" | "list" | "object"

# The input under which the engine hands a create its token (ResourceSchema.create_token).
CREATE_TOKEN = "__create_token"


@dataclass(frozen=True)
class PropertySchema:
    type: PropertyType = "string"
    required: bool = False
    # Changing it replaces the resource (delete + create) instead of updating it.
    force_new: bool = False
    secret: bool = False
    description: str = ""
    default: Any = None
    # The cloud's documented limits on the value (length, pattern, enum, range, CIDR),
    # checked by validate/plan before any cloud call (``provision.constraints``).
    constraints: tuple[Constraint, ...] = ()
    # The type of each element of a map or list ("string" for tags and labels);
    # None: elements are not typed. See ``provision.coerce``.
    items: PropertyType | None = None


@dataclass(frozen=True)
class ResourceSchema:
    type_name: str                       # "aws:s3:Bucket"
    cloud: str                           # "aws" | "azure" | "gcp"
    terraform_type: str                  # "aws_s3_bucket"
    properties: Mapping[str, PropertySchema] = field(default_factory=dict)
    # Attributes a reference can read (``${bucket.arn}``); inputs are readable too.
    outputs: Mapping[str, PropertyType] = field(default_factory=dict)
    description: str = ""
    # Constraints across properties or resources (mutually exclusive keys, a subnet
    # inside its VPC), checked with the properties' own ``constraints``.
    rules: tuple[Rule, ...] = ()
    # For types with no unique name (a VPC): the engine puts a fresh token in the
    # inputs of each create under CREATE_TOKEN, so it is recorded with a create a
    # crash leaves pending; the adapter tags the resource with it, and its ``find``
    # looks the token up. Other properties never carry it.
    create_token: bool = False
    # ``create`` and ``update`` end with a read of the resource: their result is what
    # ``read`` would report at that moment (the cloud's representation, not the inputs
    # echoed). The gate after a stage then takes a created or updated resource's
    # recorded outputs as its live record instead of reading it again
    # (``provision.engine.live``); False: it is read live.
    read_back: bool = False
    # Properties or outputs whose value, when the spec leaves it out, is a setting of the
    # environment's cloud: {property: setting key}, e.g. an S3 bucket's ``region`` is the
    # aws ``region`` setting, an Azure resource's ``location`` the azure ``location``.
    # Known at plan time, so the policy gate before a stage judges it
    # (``provision.policy.inputs``); the adapters fill the same defaults when they create.
    setting_defaults: Mapping[str, str] = field(default_factory=dict)

    def readable(self) -> set[str]:
        return {"id", *self.properties, *self.outputs}


@dataclass(frozen=True)
class CloudConfig:
    """Where and how to reach one cloud for one environment.

    ``settings`` holds non-secret values only (region, location, project,
    subscription id, endpoint URLs for the sandbox). Credentials come from the
    cloud's own standard chain (environment, profile, workload identity) at call
    time, so they never enter plans or state.
    """

    cloud: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    sandbox: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


@dataclass(frozen=True)
class ReadResult:
    """The live state of a resource: its properties and outputs as the cloud reports them."""

    id: str
    properties: dict[str, Any]


@runtime_checkable
class Adapter(Protocol):
    """CRUD for one resource type against one cloud API."""

    schema: ResourceSchema

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        """Create the resource; return its id and all properties + outputs."""
        ...

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """Read the live resource; None if it no longer exists."""
        ...

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        """Update in place the properties that are not ``force_new``."""
        ...

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        """Delete the resource; succeed if it is already gone."""
        ...


@runtime_checkable
class NaturalKeyLookup(Protocol):
    """An adapter that can find a live resource from its planned inputs alone.

    Used to reconcile a create that a crashed run left pending: the id was never
    recorded, so the resource is looked up by its natural key (its name).
    """

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The live resource that ``props`` name (bucket name, project id, ...); None if absent."""
        ...


class AdapterRegistry:
    """Explicit map from resource type name to the adapter class that serves it.

    Entries are ``"module:Class"`` references so that the registry can be
    pickled into a dynamic provider and resolved again in the provider process.
    """

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)
        self._cache: dict[str, Adapter] = {}

    def types(self) -> list[str]:
        return sorted(self._entries)

    def ref(self, type_name: str) -> str:
        return self._entries[type_name]

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._entries

    def get(self, type_name: str) -> Adapter:
        if type_name not in self._cache:
            self._cache[type_name] = load_adapter(self._entries[type_name])
        return self._cache[type_name]

    def schema(self, type_name: str) -> ResourceSchema:
        return self.get(type_name).schema


def load_adapter(ref: str) -> Adapter:
    module_name, _, class_name = ref.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter = cls()
    if not isinstance(adapter, Adapter):
        raise TypeError(f"{ref} does not implement the Adapter protocol")
    return adapter
