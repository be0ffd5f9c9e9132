"""The per-process client cache: one build per key, thread-safe, keyed by credentials."""

from __future__ import annotations

import threading
import time

import pytest

from providers.clients import ClientCache, credential_fingerprint


def test_one_build_per_key_and_reuse_afterwards() -> None:
    cache = ClientCache()
    built: list[str] = []

    def build(name: str) -> object:
        built.append(name)
        return object()

    first = cache.get(("aws", "s3"), lambda: build("s3"))
    assert cache.get(("aws", "s3"), lambda: build("s3")) is first
    other = cache.get(("aws", "sts"), lambda: build("sts"))
    assert other is not first
    assert built == ["s3", "sts"]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 2, 2)


def test_threads_asking_at_once_share_one_build() -> None:
    cache = ClientCache()
    calls: list[int] = []
    results: list[object] = []

    def slow_build() -> object:
        calls.append(1)
        time.sleep(0.05)
        return object()

    threads = [threading.Thread(target=lambda: results.append(cache.get(("k",), slow_build)))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(results) == 16 and all(r is results[0] for r in results)


def test_builds_of_different_keys_never_overlap() -> None:
    """Builds import SDKs; two at once could deadlock Python's import locks."""
    cache = ClientCache()
    running: list[int] = []
    overlaps: list[int] = []

    def build() -> object:
        running.append(1)
        overlaps.append(len(running))
        time.sleep(0.01)
        running.pop()
        return cache.get(("inner",), object) if not overlaps[1:] else object()

    threads = [threading.Thread(target=lambda i=i: cache.get(("k", i), build))  # type: ignore[misc]
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 8 and max(overlaps) == 1
    assert cache.stats().size == 9           # a build may get another client (re-entrant)


def test_a_failed_build_is_not_cached() -> None:
    cache = ClientCache()

    def fail() -> object:
        raise RuntimeError("no endpoint")

    with pytest.raises(RuntimeError):
        cache.get(("k",), fail)
    client = object()
    assert cache.get(("k",), lambda: client) is client


def test_clear_forgets_every_client() -> None:
    cache = ClientCache()
    first = cache.get(("k",), object)
    cache.clear()
    assert cache.get(("k",), object) is not first


def test_fingerprint_changes_with_the_credentials_and_never_holds_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SECRET_KEY", "s3cr3t-value-1")
    monkeypatch.delenv("TEST_PROFILE", raising=False)
    before = credential_fingerprint("TEST_SECRET_KEY", "TEST_PROFILE")
    assert before == credential_fingerprint("TEST_SECRET_KEY", "TEST_PROFILE")
    assert "s3cr3t" not in before
    monkeypatch.setenv("TEST_SECRET_KEY", "s3cr3t-value-2")
    assert credential_fingerprint("TEST_SECRET_KEY", "TEST_PROFILE") != before
    # An empty variable is not the same as an unset one.
    monkeypatch.setenv("TEST_PROFILE", "")
    changed = credential_fingerprint("TEST_SECRET_KEY", "TEST_PROFILE")
    monkeypatch.delenv("TEST_PROFILE")
    assert credential_fingerprint("TEST_SECRET_KEY", "TEST_PROFILE") != changed
