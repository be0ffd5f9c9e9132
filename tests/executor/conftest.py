"""Fixtures for executor tests.

``dev_server``: one Temporal dev server for the session (SQLite in a temporary
directory, free loopback ports), stopped at the end: exactly what it started.
``run_both(spec_text, scenario)`` runs the same scenario through the ``local``
executor and through the temporal executor (in-process workers on the session's
dev server), each on a fresh FakeEngine and fake cloud, and returns both results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from provision.executor.temporal_server import DevServer


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("temporal") / "dev.sqlite")
    with server:
        yield server
    assert not server.running()


@pytest.fixture
def plan_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "plans"
    monkeypatch.setenv("PROVISION_PLAN_DIR", str(path))
    return path
