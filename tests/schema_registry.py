"""Test adapters that only declare schemas, and a registry over adapter instances:
the planner, validation and plan views run with them, with no cloud SDK at all."""

from __future__ import annotations

from typing import Any, Mapping

from provision.provider import Adapter, AdapterRegistry, CloudConfig, ReadResult, ResourceSchema


class SchemaOnly:
    """An adapter that only declares a schema; planning and views never call its CRUD."""

    def __init__(self, schema: ResourceSchema) -> None:
        self.schema = schema

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        raise AssertionError("planning must not create resources")

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        raise AssertionError("planning must not read resources")

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        raise AssertionError("planning must not update resources")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        raise AssertionError("planning must not delete resources")


class StaticRegistry(AdapterRegistry):
    """A registry over adapter instances instead of importable ``module:Class`` refs."""

    def __init__(self, adapters: Mapping[str, Adapter]) -> None:
        super().__init__({name: f"tests:{name}" for name in adapters})
        self._adapters = dict(adapters)

    def get(self, type_name: str) -> Adapter:
        return self._adapters[type_name]
