"""The conditional-operation contract every cloud state store keeps (shared by the
AWS, Azure and GCP state-store tests): create-if-absent, compare-and-swap replace
and delete on a version, and a prefix listing."""

from __future__ import annotations

from provision.engine.statestore import StateStore


def check_conditional_operations(store: StateStore) -> None:
    assert store.create("locks/x.json", b"one")
    assert not store.create("locks/x.json", b"two")
    data, v1 = store.read("locks/x.json") or (b"", "")
    assert data == b"one"
    assert store.replace("locks/x.json", b"three", v1)
    assert not store.replace("locks/x.json", b"four", v1)
    assert store.list("locks") == ["locks/x.json"]
    _, v2 = store.read("locks/x.json") or (b"", "")
    assert not store.delete("locks/x.json", v1)
    assert store.delete("locks/x.json", v2)
    assert store.read("locks/x.json") is None
