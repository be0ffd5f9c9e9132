"""The adapter registry: explicit entries, schemas, and no SDK import until a method runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import providers
from provision.provider import Adapter, AdapterRegistry

EXPECTED = {
    "aws:s3:Bucket": ("aws", "aws_s3_bucket"),
    "aws:iam:Role": ("aws", "aws_iam_role"),
    "aws:ec2:Vpc": ("aws", "aws_vpc"),
    "aws:ec2:Subnet": ("aws", "aws_subnet"),
    "aws:ec2:SecurityGroup": ("aws", "aws_security_group"),
    "aws:dynamodb:Table": ("aws", "aws_dynamodb_table"),
    "aws:sqs:Queue": ("aws", "aws_sqs_queue"),
    "azure:resources:ResourceGroup": ("azure", "azurerm_resource_group"),
    "azure:storage:Account": ("azure", "azurerm_storage_account"),
    "azure:storage:BlobContainer": ("azure", "azurerm_storage_container"),
    "azure:network:VirtualNetwork": ("azure", "azurerm_virtual_network"),
    "azure:resources:Resource": ("azure", "azapi_resource"),
    "gcp:storage:Bucket": ("gcp", "google_storage_bucket"),
    "gcp:resourcemanager:Project": ("gcp", "google_project"),
    "gcp:pubsub:Topic": ("gcp", "google_pubsub_topic"),
    "gcp:pubsub:Subscription": ("gcp", "google_pubsub_subscription"),
}


def test_registry_lists_exactly_the_adapters() -> None:
    registry = providers.registry()
    assert isinstance(registry, AdapterRegistry)
    assert registry.types() == sorted(EXPECTED)


@pytest.mark.parametrize("type_name", sorted(EXPECTED))
def test_each_entry_resolves_to_an_adapter_with_its_schema(type_name: str) -> None:
    adapter = providers.registry().get(type_name)
    assert isinstance(adapter, Adapter)
    cloud, terraform_type = EXPECTED[type_name]
    assert adapter.schema.type_name == type_name
    assert adapter.schema.cloud == cloud
    assert adapter.schema.terraform_type == terraform_type
    assert adapter.schema.outputs, "every adapter exposes outputs"
    # Something must come from the spec: a required property or a name/name_prefix pair.
    assert (any(p.required for p in adapter.schema.properties.values())
            or {"name", "name_prefix"} <= set(adapter.schema.properties))
    # Names that are both inputs and outputs would be ambiguous in references.
    assert not set(adapter.schema.properties) & set(adapter.schema.outputs)


NO_SDK_SCRIPT = textwrap.dedent("""
    import sys
    import providers
    registry = providers.registry()
    for name in registry.types():
        registry.schema(name)  # loads every adapter module
    loaded = sorted(m for m in sys.modules
                    if m == "boto3" or m == "botocore" or m.startswith(("azure", "google.cloud",
                                                                          "google.auth")))
    print(",".join(loaded))
""")


def test_importing_providers_and_loading_schemas_imports_no_cloud_sdk() -> None:
    done = subprocess.run([sys.executable, "-c", NO_SDK_SCRIPT], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "", f"cloud SDK modules imported: {done.stdout.strip()}"


def test_the_no_sdk_check_can_see_an_sdk_import() -> None:
    """Guards the test above: the same probe reports boto3 once it is imported."""
    script = "import boto3\n" + NO_SDK_SCRIPT
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "boto3" in done.stdout.split(",")
