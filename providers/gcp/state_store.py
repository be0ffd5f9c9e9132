"""The environment lock and run journal on a Google Cloud Storage state backend (``gs://``).

A :class:`provision.engine.statestore.StateStore` over Cloud Storage's request
preconditions: an upload with ``ifGenerationMatch=0`` creates only when the object
is absent, and uploads and deletes with ``ifGenerationMatch=<generation>`` act only
on the generation that was read; otherwise the service answers 412 Precondition
Failed. Source: https://cloud.google.com/storage/docs/request-preconditions .
The object's generation is the version this store hands out.

The URL is Pulumi's GCS backend URL, ``gs://bucket/optional/prefix``. Credentials
come from Application Default Credentials. For an emulator (or a private endpoint)
``?endpoint=http://HOST:PORT`` sends every request there with anonymous credentials;
``STORAGE_EMULATOR_HOST`` (the SDK's own variable) works as well.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlparse

# With an endpoint the client gets a fixed project, so the SDK never looks one up
# (object operations need none; a lookup could reach for a metadata server).
_EMULATOR_PROJECT = "provision-state"


class GCSStateStore:
    """Conditional key/value operations on one Cloud Storage state backend."""

    def __init__(self, url: str) -> None:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage  # type: ignore[attr-defined]

        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        endpoint = query.get("endpoint") or os.environ.get("STORAGE_EMULATOR_HOST", "")
        client: Any
        if endpoint:
            if "://" not in endpoint:
                endpoint = f"http://{endpoint}"
            client = storage.Client(project=query.get("project", _EMULATOR_PROJECT),
                                    credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                                    client_options=ClientOptions(api_endpoint=endpoint))
        else:
            client = storage.Client(project=query.get("project"))
        self.url = url
        self.prefix = parsed.path.strip("/")
        self.bucket: Any = client.bucket(parsed.netloc)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _upload(self, key: str, data: bytes, generation: int | None) -> bool:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        blob = self.bucket.blob(self._key(key))
        try:
            blob.upload_from_string(data, content_type="application/json",
                                    if_generation_match=generation)
            return True
        except (PreconditionFailed, NotFound):
            return False

    def create(self, key: str, data: bytes) -> bool:
        return self._upload(key, data, 0)

    def read(self, key: str) -> tuple[bytes, str] | None:
        from google.api_core.exceptions import NotFound

        blob = self.bucket.blob(self._key(key))
        try:
            data = blob.download_as_bytes()
        except NotFound:
            return None
        return bytes(data), str(blob.generation)

    def replace(self, key: str, data: bytes, version: str) -> bool:
        return self._upload(key, data, int(version))

    def delete(self, key: str, version: str | None = None) -> bool:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        # Naming the generation as well as matching it keeps the delete exact on
        # emulators that honour only one of the two (both are valid on the service).
        generation = int(version) if version is not None else None
        blob = self.bucket.blob(self._key(key), generation=generation)
        try:
            blob.delete(if_generation_match=generation)
            return True
        except (PreconditionFailed, NotFound):
            return False

    def put(self, key: str, data: bytes) -> None:
        self.bucket.blob(self._key(key)).upload_from_string(data,
                                                            content_type="application/json")

    def list(self, prefix: str) -> list[str]:
        start = self._key(prefix.strip("/")) + "/"
        cut = len(self.prefix) + 1 if self.prefix else 0
        return sorted(str(b.name)[cut:] for b in self.bucket.client.list_blobs(
            self.bucket, prefix=start))
