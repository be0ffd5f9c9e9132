"""The Azure Blob state store on Azurite: conditional create/replace/delete, and the
environment lock over it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from provision.engine.lock import EnvironmentLock, current_holder
from provision.engine.statestore import StoreRegistry
from provision.errors import EnvironmentLockedError
from provision.vocabulary import Operation
from providers import state_stores
from providers.azure.session import AZURITE_ACCOUNT, AZURITE_KEY
from providers.azure.state_store import AzureBlobStateStore
from state_store_contract import check_conditional_operations

pytestmark = pytest.mark.sandbox


@pytest.fixture
def store(sandbox: Any, unique: str, monkeypatch: pytest.MonkeyPatch) -> AzureBlobStateStore:
    from azure.storage.blob import BlobServiceClient

    blob_url = sandbox.cloud_settings()["azure"]["blob_endpoint"]
    monkeypatch.setenv("AZURE_STORAGE_KEY", AZURITE_KEY)
    service = BlobServiceClient(blob_url, credential={"account_name": AZURITE_ACCOUNT,
                                                      "account_key": AZURITE_KEY})
    service.create_container(f"state-{unique}")
    host = urlparse(blob_url).netloc
    url = (f"azblob://state-{unique}/team?storage_account={AZURITE_ACCOUNT}"
           f"&localemu=true&domain={host}&protocol=http")
    opened = StoreRegistry(state_stores()).open(url)
    assert isinstance(opened, AzureBlobStateStore)
    return opened


def test_conditional_operations(store: AzureBlobStateStore) -> None:
    check_conditional_operations(store)


def test_the_environment_lock_over_azure_blob(store: AzureBlobStateStore) -> None:
    with EnvironmentLock(store, "demo", "prod", "run-1", Operation.APPLY):
        with pytest.raises(EnvironmentLockedError, match="locked by run run-1"):
            EnvironmentLock(store, "demo", "prod", "run-2", Operation.APPLY).acquire()
    assert current_holder(store, "demo", "prod") is None
