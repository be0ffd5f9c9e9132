"""Test adapters with small schemas, so validation runs with no cloud SDK at all."""

from __future__ import annotations


import pytest

from provision.provider import PropertySchema, ResourceSchema
from schema_registry import SchemaOnly, StaticRegistry


SCHEMAS = [
    ResourceSchema(
        "aws:s3:Bucket", "aws", "aws_s3_bucket",
        {"bucket": PropertySchema("string", required=True, force_new=True),
         "tags": PropertySchema("map", items="string"),
         "versioning": PropertySchema("boolean"),
         "lifecycle_days": PropertySchema("integer")},
        {"arn": "string", "region": "string"}),
    ResourceSchema(
        "azure:resources:ResourceGroup", "azure", "azurerm_resource_group",
        {"name": PropertySchema("string", required=True, force_new=True),
         "location": PropertySchema("string"),
         "tags": PropertySchema("map", items="string")},
        {"resource_id": "string"}),
    ResourceSchema(
        "gcp:storage:Bucket", "gcp", "google_storage_bucket",
        {"name": PropertySchema("string", required=True, force_new=True),
         "location": PropertySchema("string"),
         "labels": PropertySchema("map", items="string"),
         "members": PropertySchema("list"),
         "versioning": PropertySchema("boolean")},
        {"self_link": "string", "url": "string"}),
]


def make_registry() -> StaticRegistry:
    return StaticRegistry({s.type_name: SchemaOnly(s) for s in SCHEMAS})


@pytest.fixture
def registry() -> StaticRegistry:
    return make_registry()
