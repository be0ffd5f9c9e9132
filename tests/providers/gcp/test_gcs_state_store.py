"""The Cloud Storage state store: conditional create/replace/delete on object
generations, and the environment lock over it (two holders, one winner).

The sandbox's GCS emulator ignores request preconditions, so these tests run on
fake-gcs-server, which honours ``ifGenerationMatch``; it is built from Go modules
by ``.ci/build-fake-gcs.sh`` (cached by version outside the clone) and started
here on a free loopback port, then stopped.
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from provision.engine.lock import EnvironmentLock, current_holder
from provision.engine.statestore import StoreRegistry
from provision.errors import EnvironmentLockedError
from provision.sandbox import process
from provision.vocabulary import Operation
from providers import state_stores
from providers.gcp.state_store import GCSStateStore
from state_store_contract import check_conditional_operations

FAKE_GCS_VERSION = "1.56.1"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    built = subprocess.run(["bash", str(ROOT / ".ci" / "build-fake-gcs.sh"), FAKE_GCS_VERSION],
                           capture_output=True, text=True, check=True)
    binary = Path(built.stdout.strip()) / "fake-gcs-server"
    port = process.free_port()
    command = [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
               "-backend", "memory", "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"]
    log = tmp_path_factory.mktemp("fake-gcs") / "server.log"
    processes = process.Processes()
    pid = processes.spawn(command, log)
    try:
        problem = processes.wait_until_ready(pid, port, timeout=30.0)
        assert problem is None, f"fake-gcs-server {problem}: {log.read_text()[-2000:]}"
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.stop(pid, command)


@pytest.fixture
def store(endpoint: str, request: pytest.FixtureRequest) -> GCSStateStore:
    bucket = f"state-{request.node.name.replace('_', '-')[:40]}".lower()
    body = f'{{"name": "{bucket}"}}'.encode()
    urllib.request.urlopen(urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=test", data=body, method="POST",
        headers={"Content-Type": "application/json"}), timeout=10).close()
    opened = StoreRegistry(state_stores()).open(f"gs://{bucket}/team/a?endpoint={endpoint}")
    assert isinstance(opened, GCSStateStore)
    return opened


def test_conditional_operations(store: GCSStateStore) -> None:
    check_conditional_operations(store)
    names = [b.name for b in store.bucket.client.list_blobs(store.bucket)]
    assert all(n.startswith("team/a/") for n in names)


def test_the_environment_lock_over_gcs(store: GCSStateStore) -> None:
    with EnvironmentLock(store, "demo", "prod", "run-1", Operation.APPLY):
        with pytest.raises(EnvironmentLockedError, match="locked by run run-1"):
            EnvironmentLock(store, "demo", "prod", "run-2", Operation.DESTROY).acquire()
        found = current_holder(store, "demo", "prod")
        assert found is not None and found[0].run_id == "run-1"
    assert current_holder(store, "demo", "prod") is None
