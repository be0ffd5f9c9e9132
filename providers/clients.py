"""One SDK client per (cloud, service, region, endpoint, credentials) in a provider process.

Building a cloud SDK client is expensive (boto3 loads and validates service
models: tens of milliseconds and megabytes per client) while using one is cheap
and thread-safe (botocore clients, azure-core pipelines and google-cloud
clients all share a connection pool between threads). Pulumi calls an adapter
once per resource and operation, from several threads at once, so the session
modules (``providers/<cloud>/session.py``) build each distinct client once
through :data:`CLIENTS` and hand out the same object afterwards.

The cache key names what makes two clients different: the cloud, the service,
region/location, endpoint, whether the sandbox is meant, the retry settings and
a :func:`credential_fingerprint` of the environment variables the cloud's
standard credential chain reads, so that a changed identity never reuses a
client built for another one. Credentials themselves are never stored in a key:
the fingerprint is a SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")

ClientKey = tuple[Hashable, ...]


@dataclass(frozen=True)
class CacheStats:
    """How often :meth:`ClientCache.get` built a client (``misses``) or reused one (``hits``)."""

    hits: int
    misses: int
    size: int


class ClientCache:
    """A thread-safe map from a client key to the client built for it.

    ``get(key, build)`` calls ``build`` at most once per key, even when many
    threads ask for the same key at the same time (the others wait for the
    first build). A build that raises is not cached: the next call tries again.

    Builds run one at a time, whatever their key: a build is where an SDK is
    first imported, and two threads importing two SDKs that share packages
    (azure-storage-blob and azure-mgmt-* share ``azure.core``; the Pub/Sub
    publisher and subscriber share ``google.pubsub_v1``) can deadlock Python's
    per-module import locks, which then hand one thread a partially initialised
    module ("cannot import name ... from partially initialized module"). Builds
    are rare (once per key and process), so serialising them costs nothing that
    matters; a cache hit never waits for a build.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._build_lock = threading.RLock()    # re-entrant: a build may get another client
        self._clients: dict[ClientKey, Any] = {}
        self._hits = 0
        self._misses = 0

    def get(self, key: ClientKey, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._clients:
                self._hits += 1
                return self._clients[key]  # type: ignore[no-any-return]
        with self._build_lock:
            with self._lock:
                if key in self._clients:
                    self._hits += 1
                    return self._clients[key]  # type: ignore[no-any-return]
            client = build()
            with self._lock:
                self._clients[key] = client
                self._misses += 1
            return client

    def clear(self) -> None:
        """Forget every client (tests; a process that changed its credentials)."""
        with self._lock:
            self._clients.clear()
            self._hits = self._misses = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, size=len(self._clients))


# The one cache of this process. It is process-wide on purpose: Pulumi loads a
# fresh adapter object for every call, so a cache held by an adapter would
# never be hit. It only ever holds SDK clients, never resource data.
CLIENTS = ClientCache()


def credential_fingerprint(*env_names: str) -> str:
    """A SHA-256 digest of the named environment variables' values (set or not).

    Two calls return the same digest exactly when every named variable has the
    same value, so a client is rebuilt after a credential variable changes,
    while no key ever holds a credential.
    """
    digest = hashlib.sha256()
    for name in env_names:
        value = os.environ.get(name)
        digest.update(name.encode())
        digest.update(b"\x00" if value is None else b"\x01" + value.encode())
        digest.update(b"\x1f")
    return digest.hexdigest()
