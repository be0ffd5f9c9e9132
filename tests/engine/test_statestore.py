"""The file state store: atomic create, conditional replace/delete, across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provision.engine.statestore import FileStateStore, StoreRegistry
from provision.errors import EngineError


def test_create_is_exclusive_and_read_returns_a_version(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    assert store.create("a/b.json", b"one")
    assert not store.create("a/b.json", b"two")
    data, version = store.read("a/b.json") or (b"", "")
    assert data == b"one" and version
    assert store.read("a/missing.json") is None


def test_replace_and_delete_only_at_the_version_read(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    store.create("k.json", b"v1")
    _, v1 = store.read("k.json") or (b"", "")
    assert store.replace("k.json", b"v2", v1)
    assert not store.replace("k.json", b"v3", v1)          # v1 is stale now
    assert not store.delete("k.json", v1)
    _, v2 = store.read("k.json") or (b"", "")
    assert store.delete("k.json", v2)
    assert store.read("k.json") is None


def test_list_and_put(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    store.put("j/x/2.json", b"{}")
    store.put("j/x/1.json", b"{}")
    assert store.list("j/x") == ["j/x/1.json", "j/x/2.json"]
    assert store.list("nothing") == []


def test_keys_cannot_leave_the_root(tmp_path: Path) -> None:
    with pytest.raises(EngineError):
        FileStateStore(tmp_path).put("../escape.json", b"")


def test_only_one_of_many_processes_creates(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from provision.engine.statestore import "
            "FileStateStore; print(FileStateStore(Path(sys.argv[1])).create('l.json', "
            "sys.argv[2].encode()))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(i)],
                              stdout=subprocess.PIPE, text=True) for i in range(6)]
    results = [p.communicate()[0].strip() for p in procs]
    assert results.count("True") == 1
    winner = results.index("True")
    assert (tmp_path / "l.json").read_text() == str(winner)


def test_registry_names_unsupported_backends() -> None:
    assert isinstance(StoreRegistry().open("file:///tmp/x"), FileStateStore)
    with pytest.raises(EngineError, match="no lock/journal store for backend 'ftp://'"):
        StoreRegistry().open("ftp://host/state")
