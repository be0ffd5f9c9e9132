"""Natural-key lookups of the Azure and GCP types whose names are their keys: the
adapter finds the live resource from the planned inputs alone, as recovery does for a
create a crashed run left pending (ARM emulator, gRPC Pub/Sub emulator)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from provision.provider import CloudConfig, NaturalKeyLookup
from providers.azure.generic_resource import GenericResource
from providers.azure.resource_group import ResourceGroup
from providers.azure.virtual_network import VirtualNetwork
from providers.gcp.pubsub_subscription import PubSubSubscription
from providers.gcp.pubsub_topic import PubSubTopic

pytestmark = pytest.mark.sandbox

VAULT = {"tenantId": "11111111-2222-3333-4444-555555555555",
         "sku": {"family": "A", "name": "standard"}, "enableSoftDelete": True}


@pytest.fixture
def group(azure_config: CloudConfig, unique: str) -> Iterator[str]:
    created = ResourceGroup().create({"name": f"rg-find-{unique}"}, azure_config)
    yield f"rg-find-{unique}"
    ResourceGroup().delete(created.id, created.properties, azure_config)


def _check(adapter: Any, planned: dict[str, Any], config: CloudConfig) -> None:
    assert isinstance(adapter, NaturalKeyLookup)
    assert adapter.find(planned, config) is None
    created = adapter.create(planned, config)
    found = adapter.find(planned, config)
    assert found is not None and found.id == created.id
    adapter.delete(created.id, created.properties, config)
    assert adapter.find(planned, config) is None


@pytest.mark.parametrize("adapter,props", [
    (VirtualNetwork(), lambda g, u: {"name": f"vnet-{u}", "resource_group_name": g,
                                     "address_space": ["10.9.0.0/16"]}),
    (GenericResource(), lambda g, u: {"resource_type": "Microsoft.KeyVault/vaults",
                                      "api_version": "2023-07-01", "name": f"kv-{u}",
                                      "parent": g, "properties": VAULT}),
], ids=["vnet", "generic-arm"])
def test_azure_types_found_by_name(adapter: Any, props: Callable[[str, str], dict[str, Any]],
                                   azure_config: CloudConfig, group: str, unique: str) -> None:
    _check(adapter, props(group, unique), azure_config)


def test_pubsub_topic_and_subscription_found_by_name(gcp_config: CloudConfig,
                                                     unique: str) -> None:
    _check(PubSubTopic(), {"name": f"find-{unique}"}, gcp_config)
    topic = PubSubTopic().create({"name": f"find-t-{unique}"}, gcp_config)
    try:
        _check(PubSubSubscription(), {"name": f"find-s-{unique}", "topic": f"find-t-{unique}"},
               gcp_config)
    finally:
        PubSubTopic().delete(topic.id, topic.properties, gcp_config)


def test_find_needs_the_whole_natural_key(azure_config: CloudConfig) -> None:
    # Without the key (a planned value known only after apply) nothing is looked up.
    assert VirtualNetwork().find({"name": "v"}, azure_config) is None
    assert GenericResource().find({"name": "kv", "api_version": "1"}, azure_config) is None
