"""Fixtures for the adapter tests that speak HTTP to the sandbox emulators.

``sandbox`` (session-scoped, from ``tests/conftest.py``) starts the emulators.
Here each cloud's :class:`CloudConfig` for environment ``local`` is built from
its ``cloud_settings()``, names are made unique per test (the emulators live
for the whole session), and plain SDK clients are built *independently of
providers/* so tests can check what an adapter did without trusting it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from provision.provider import CloudConfig


@pytest.fixture
def unique() -> str:
    """A short lowercase suffix valid in every cloud's resource names."""
    return uuid.uuid4().hex[:10]


def _config(sandbox: Any, cloud: str) -> CloudConfig:
    return CloudConfig(cloud, dict(sandbox.cloud_settings()[cloud]), sandbox=True)


@pytest.fixture
def aws_config(sandbox: Any) -> CloudConfig:
    return _config(sandbox, "aws")


@pytest.fixture
def azure_config(sandbox: Any) -> CloudConfig:
    return _config(sandbox, "azure")


@pytest.fixture
def gcp_config(sandbox: Any) -> CloudConfig:
    return _config(sandbox, "gcp")


@pytest.fixture
def s3(aws_config: CloudConfig) -> Any:
    """A boto3 S3 client straight at the emulator."""
    import boto3

    return boto3.client("s3", endpoint_url=aws_config.settings["endpoint_url"],
                        region_name=aws_config.settings["region"],
                        aws_access_key_id="direct", aws_secret_access_key="direct")


class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("the plain auth policy never asks for a token")


def _arm_kwargs(config: CloudConfig) -> dict[str, Any]:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class PlainAuth(SansIOHTTPPolicy):  # type: ignore[misc,type-arg]
        def on_request(self, request: Any) -> None:
            request.http_request.headers["Authorization"] = "Bearer direct-test"

    return {"base_url": config.settings["arm_endpoint"], "authentication_policy": PlainAuth()}


@pytest.fixture
def arm_resources(azure_config: CloudConfig) -> Any:
    """An ``azure-mgmt-resource`` client straight at the ARM emulator."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(_NoCredential(), azure_config.settings["subscription_id"],
                                    **_arm_kwargs(azure_config))


@pytest.fixture
def arm_storage(azure_config: CloudConfig) -> Any:
    """An ``azure-mgmt-storage`` client straight at the ARM emulator."""
    from azure.mgmt.storage import StorageManagementClient

    return StorageManagementClient(_NoCredential(), azure_config.settings["subscription_id"],
                                   **_arm_kwargs(azure_config))


# Azurite's published development account (not a secret).
AZURITE_CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr"
    "/KBHBeksoGMGw==;BlobEndpoint={endpoint};"
)


@pytest.fixture
def blob_service(azure_config: CloudConfig) -> Any:
    """An ``azure-storage-blob`` client straight at Azurite."""
    from azure.storage.blob import BlobServiceClient

    endpoint = str(azure_config.settings["blob_endpoint"]).rstrip("/")
    return BlobServiceClient.from_connection_string(AZURITE_CONNECTION.format(endpoint=endpoint))


@pytest.fixture
def gcs(gcp_config: CloudConfig) -> Any:
    """A ``google-cloud-storage`` client straight at the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=gcp_config.settings["project"],
                          credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": gcp_config.settings["storage_endpoint"]})


@pytest.fixture
def crm(gcp_config: CloudConfig) -> Any:
    """A Resource Manager v3 ``ProjectsClient`` straight at the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import resourcemanager_v3

    return resourcemanager_v3.ProjectsClient(
        credentials=AnonymousCredentials(), transport="rest",
        client_options={"api_endpoint": gcp_config.settings["crm_endpoint"]})


@pytest.fixture
def arm_network(azure_config: CloudConfig) -> Any:
    """An ``azure-mgmt-network`` client straight at the ARM emulator."""
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(_NoCredential(), azure_config.settings["subscription_id"],
                                   **_arm_kwargs(azure_config))


@pytest.fixture
def pubsub(gcp_config: CloudConfig) -> Any:
    """Pub/Sub ``(PublisherClient, SubscriberClient)`` straight at the emulator (plain gRPC)."""
    import grpc
    from google.pubsub_v1.services.publisher import PublisherClient
    from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber import SubscriberClient
    from google.pubsub_v1.services.subscriber.transports.grpc import SubscriberGrpcTransport

    channel = grpc.insecure_channel(gcp_config.settings["pubsub_endpoint"])
    yield (PublisherClient(transport=PublisherGrpcTransport(channel=channel)),
           SubscriberClient(transport=SubscriberGrpcTransport(channel=channel)))
    channel.close()


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    """Each test builds its own SDK clients: tests patch settings that a cached client
    built by an earlier test would hide."""
    from providers.clients import CLIENTS

    CLIENTS.clear()
