"""Small objects kept on the state backend, written with conditional operations.

The environment lock and the run journal live *on the state backend* next to
Pulumi's own files, so two machines that share a backend see the same lock.
Every backend kind offers the same few operations, each atomic on its own:

    create(key, data)            write only if the key does not exist  -> bool
    read(key)                    (data, version) or None
    replace(key, data, version)  write only if the version is unchanged -> bool
    delete(key, version)         delete only if the version is unchanged -> bool
    put(key, data)               unconditional write (journal entries)
    list(prefix)                 the keys under a prefix, sorted

Object stores have these natively (S3 ``If-None-Match: *`` / ``If-Match: etag``,
GCS ``ifGenerationMatch``, Azure Blob ``If-None-Match``/``If-Match``); those
stores live under ``providers/`` and are named in a :class:`StoreRegistry`
entry per URL scheme. The file backend is implemented here: a create is a hard
link of a complete temporary file (atomic, fails if the target exists), and a
conditional replace or delete runs under an exclusive ``flock`` of the
directory's guard file. Keys are ``/``-separated paths relative to the backend
root (``file:///srv/state`` -> ``/srv/state/<key>``).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Protocol, runtime_checkable
from urllib.parse import urlparse

from provision.errors import EngineError

_GUARD = ".guard"


@runtime_checkable
class StateStore(Protocol):
    """Conditional key/value operations on one state backend (see module doc)."""

    url: str

    def create(self, key: str, data: bytes) -> bool: ...

    def read(self, key: str) -> tuple[bytes, str] | None: ...

    def replace(self, key: str, data: bytes, version: str) -> bool: ...

    def delete(self, key: str, version: str | None = None) -> bool: ...

    def put(self, key: str, data: bytes) -> None: ...

    def list(self, prefix: str) -> list[str]: ...


class FileStateStore:
    """:class:`StateStore` on a local (or shared, POSIX-locking) directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"file://{root}"

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise EngineError(f"invalid state key '{key}'")
        return self.root.joinpath(*parts)

    @contextmanager
    def _guard(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / _GUARD, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)          # closing releases the flock

    def _temp(self, path: Path, data: bytes) -> str:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    @staticmethod
    def _version(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def create(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        with self._guard(path):
            tmp = self._temp(path, data)
            try:
                os.link(tmp, path)
                return True
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)

    def read(self, key: str) -> tuple[bytes, str] | None:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return data, self._version(data)

    def replace(self, key: str, data: bytes, version: str) -> bool:
        path = self._path(key)
        with self._guard(path):
            current = self.read(key)
            if current is None or current[1] != version:
                return False
            os.replace(self._temp(path, data), path)
            return True

    def delete(self, key: str, version: str | None = None) -> bool:
        path = self._path(key)
        with self._guard(path):
            current = self.read(key)
            if current is None or (version is not None and current[1] != version):
                return False
            path.unlink()
            return True

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp(path, data), path)

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        keys = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                keys.append(path.relative_to(self.root).as_posix())
        return sorted(keys)


class StoreRegistry:
    """URL scheme -> ``"module:Class"`` of the :class:`StateStore` serving it.

    ``file`` is built in; the composition root adds the cloud stores from
    ``providers`` (their classes take the backend URL: ``Class(url)``).
    """

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self._entries = dict(entries or {})

    def open(self, backend_url: str) -> StateStore:
        """The store for ``backend_url``; raises EngineError for an unknown scheme."""
        parsed = urlparse(backend_url)
        if parsed.scheme == "file":
            return FileStateStore(Path(parsed.path))
        ref = self._entries.get(parsed.scheme)
        if ref is None:
            known = ", ".join(sorted({"file", *self._entries}))
            raise EngineError(f"no lock/journal store for backend '{parsed.scheme}://'",
                              hint=f"supported backends: {known}")
        module_name, _, class_name = ref.partition(":")
        store: StateStore = getattr(importlib.import_module(module_name), class_name)(backend_url)
        return store
