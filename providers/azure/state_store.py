"""The environment lock and run journal on an Azure Blob state backend (``azblob://``).

A :class:`provision.engine.statestore.StateStore` over Blob Storage's conditional
requests: an upload with ``If-None-Match: *`` creates only when the blob is absent,
and uploads and deletes with ``If-Match: <etag>`` act only on the version that was
read; otherwise the service answers 409 BlobAlreadyExists or 412
ConditionNotMet. Source: https://learn.microsoft.com/rest/api/storageservices/
specifying-conditional-headers-for-blob-service-operations .

The URL is Pulumi's backend URL, ``azblob://container/optional/prefix``, with the
account from ``?storage_account=`` or ``AZURE_STORAGE_ACCOUNT``. Credentials:
``AZURE_STORAGE_KEY`` (shared key) when set, otherwise ``DefaultAzureCredential``.
For an emulator (Azurite), ``?localemu=true&domain=HOST:PORT&protocol=http``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlparse


class AzureBlobStateStore:
    """Conditional key/value operations on one Azure Blob state backend."""

    def __init__(self, url: str) -> None:
        from azure.storage.blob import ContainerClient

        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        account = query.get("storage_account") or os.environ.get("AZURE_STORAGE_ACCOUNT", "")
        protocol = query.get("protocol", "https")
        if query.get("localemu", "").lower() == "true":
            account_url = f"{protocol}://{query.get('domain', '127.0.0.1:10000')}/{account}"
        else:
            account_url = f"{protocol}://{account}.{query.get('domain', 'blob.core.windows.net')}"
        key = os.environ.get("AZURE_STORAGE_KEY")
        credential: Any
        if key:
            credential = {"account_name": account, "account_key": key}
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self.url = url
        self.prefix = parsed.path.strip("/")
        self.container: Any = ContainerClient(account_url, parsed.netloc, credential=credential)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def create(self, key: str, data: bytes) -> bool:
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        try:
            self.container.upload_blob(self._key(key), data, overwrite=False)
            return True
        except (ResourceExistsError, ResourceModifiedError):
            return False

    def read(self, key: str) -> tuple[bytes, str] | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self.container.download_blob(self._key(key))
        except ResourceNotFoundError:
            return None
        return downloader.readall(), str(downloader.properties.etag)

    def replace(self, key: str, data: bytes, version: str) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        try:
            self.container.upload_blob(self._key(key), data, overwrite=True, etag=version,
                                       match_condition=MatchConditions.IfNotModified)
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            return False

    def delete(self, key: str, version: str | None = None) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        extra: dict[str, Any] = ({"etag": version, "match_condition": MatchConditions.IfNotModified}
                                 if version is not None else {})
        try:
            self.container.delete_blob(self._key(key), **extra)
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            return False

    def put(self, key: str, data: bytes) -> None:
        self.container.upload_blob(self._key(key), data, overwrite=True)

    def list(self, prefix: str) -> list[str]:
        start = self._key(prefix.strip("/")) + "/"
        cut = len(self.prefix) + 1 if self.prefix else 0
        return sorted(str(b.name)[cut:] for b in self.container.list_blobs(name_starts_with=start))
