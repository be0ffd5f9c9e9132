"""Test adapters with small schemas, so validation runs with no cloud SDK at all."""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from provision.provider import (
    Adapter, AdapterRegistry, CloudConfig, PropertySchema, ReadResult, ResourceSchema,
)


class SchemaOnly:
    """An adapter that only declares a schema; CRUD is never called by the planner."""

    def __init__(self, schema: ResourceSchema) -> None:
        self.schema = schema

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        raise AssertionError("the planner must not create resources")

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        raise AssertionError("the planner must not read resources")

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        raise AssertionError("the planner must not update resources")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        raise AssertionError("the planner must not delete resources")


class StaticRegistry(AdapterRegistry):
    """A registry over adapter instances instead of importable ``module:Class`` refs."""

    def __init__(self, adapters: Mapping[str, Adapter]) -> None:
        super().__init__({name: f"tests:{name}" for name in adapters})
        self._adapters = dict(adapters)

    def get(self, type_name: str) -> Adapter:
        return self._adapters[type_name]


SCHEMAS = [
    ResourceSchema(
        "aws:s3:Bucket", "aws", "aws_s3_bucket",
        {"bucket": PropertySchema("string", required=True, force_new=True),
         "tags": PropertySchema("map"),
         "versioning": PropertySchema("boolean"),
         "lifecycle_days": PropertySchema("integer")},
        {"arn": "string", "region": "string"}),
    ResourceSchema(
        "azure:resources:ResourceGroup", "azure", "azurerm_resource_group",
        {"name": PropertySchema("string", required=True, force_new=True),
         "location": PropertySchema("string"),
         "tags": PropertySchema("map")},
        {"resource_id": "string"}),
    ResourceSchema(
        "gcp:storage:Bucket", "gcp", "google_storage_bucket",
        {"name": PropertySchema("string", required=True, force_new=True),
         "location": PropertySchema("string"),
         "labels": PropertySchema("map"),
         "members": PropertySchema("list"),
         "versioning": PropertySchema("boolean")},
        {"self_link": "string", "url": "string"}),
]


def make_registry() -> StaticRegistry:
    return StaticRegistry({s.type_name: SchemaOnly(s) for s in SCHEMAS})


@pytest.fixture
def registry() -> StaticRegistry:
    return make_registry()
