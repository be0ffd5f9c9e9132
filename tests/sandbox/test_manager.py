"""The sandbox manager: start, report and stop exactly its own services.

Most tests run small stand-in HTTP services (fast, isolated); the ``sandbox``
ones check the real five emulators started by the session fixture.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from provision.errors import SandboxError, SandboxNotRunningError
from provision.sandbox import DEFAULT_SERVICES, Sandbox, SandboxStatus, ServiceSpec
from provision.sandbox import process
from provision.sandbox.process import answers_http, answers_http2

# Serves HTTP on the port given as argv[1]; if the port is taken it just waits,
# so that a decoy with the very same command line stays alive.
STUB = """
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
try:
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
except OSError:
    time.sleep(120)
"""


def stub(name: str) -> ServiceSpec:
    return ServiceSpec(name, lambda port, home: [sys.executable, "-c", STUB, str(port)])


def failing(name: str, code: int = 3) -> ServiceSpec:
    script = f"import sys; print('cannot open the frobnicator', file=sys.stderr); sys.exit({code})"
    return ServiceSpec(name, lambda port, home: [sys.executable, "-c", script, str(port)])


def silent(name: str) -> ServiceSpec:
    return ServiceSpec(name, lambda port, home: [sys.executable, "-c", "import time; time.sleep(120)", str(port)])


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path / "home", services=[stub("alpha"), stub("beta")], startup_timeout=20)
    try:
        yield sandbox
    finally:
        sandbox.down()


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts itself (decoys); killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def http_status(endpoint: str) -> int:
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    finally:
        conn.close()


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket LISTENing on ``port`` (from /proc/net/tcp{,6})."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, port_hex = fields[1].rpartition(":")
            if int(port_hex, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


# -- stand-in services --------------------------------------------------------------


def test_up_starts_each_service_on_loopback_and_records_it(box: Sandbox) -> None:
    status = box.up()
    assert status.running and set(status.endpoints) == {"alpha", "beta"}
    recorded = json.loads(box.state_file.read_text())["services"]
    for name, service in status.services.items():
        assert service.endpoint == f"http://127.0.0.1:{service.port}"
        assert http_status(service.endpoint) == 200
        assert listening_addresses(service.port or 0) == {"0100007F"}  # 127.0.0.1 only
        record = recorded[name]
        assert record["pid"] == service.pid and record["port"] == service.port
        assert record["command"] == [sys.executable, "-c", STUB, str(service.port)]
        assert record["started_at"] and Path(record["log"]).is_file()


def test_up_is_idempotent(box: Sandbox) -> None:
    first = box.up()
    second = box.up()
    assert {n: s.pid for n, s in second.services.items()} == {n: s.pid for n, s in first.services.items()}
    assert second.endpoints == first.endpoints


def test_up_restarts_only_a_service_that_died(box: Sandbox) -> None:
    first = box.up()
    alpha = first.services["alpha"]
    assert alpha.pid is not None and box.processes.stop(alpha.pid, json.loads(
        box.state_file.read_text())["services"]["alpha"]["command"])
    assert not box.status().services["alpha"].running
    second = box.up()
    assert second.services["alpha"].pid != alpha.pid and second.services["alpha"].running
    assert second.services["beta"].pid == first.services["beta"].pid


def test_status_reports_every_service(box: Sandbox) -> None:
    started = box.up()
    status = Sandbox(box.home, services=box.services).status()
    assert status.to_json()["endpoints"] == started.endpoints
    assert {n: (s.pid, s.running) for n, s in status.services.items()} == \
        {n: (s.pid, True) for n, s in started.services.items()}


def test_down_stops_exactly_the_recorded_processes(
        box: Sandbox, spawned: list[subprocess.Popen[bytes]]) -> None:
    status = box.up()
    records = json.loads(box.state_file.read_text())["services"]
    # A decoy running the very same command line as a recorded service.
    decoy = subprocess.Popen(records["alpha"]["command"], start_new_session=True)
    spawned.append(decoy)
    assert box.processes.cmdline(decoy.pid) == records["alpha"]["command"]
    box.down()
    for service in status.services.values():
        assert service.pid is not None and not box.processes.is_alive(service.pid)
    assert decoy.poll() is None, "the decoy with the same command must be left alone"
    assert not box.state_file.exists()
    assert not box.status().running and box.status().endpoints == {}


def test_down_leaves_a_reused_pid_alone(box: Sandbox, spawned: list[subprocess.Popen[bytes]]) -> None:
    box.up()
    data = json.loads(box.state_file.read_text())
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                start_new_session=True)
    spawned.append(stranger)
    real_pid = data["services"]["alpha"]["pid"]
    data["services"]["alpha"]["pid"] = stranger.pid  # as if alpha died and its pid was reused
    box.state_file.write_text(json.dumps(data))
    box.down()
    assert stranger.poll() is None, "a process running another command must not be signalled"
    assert not box.processes.is_alive(data["services"]["beta"]["pid"])
    # alpha itself is no longer recorded: stop it here.
    os.killpg(real_pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while box.processes.is_alive(real_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not box.processes.is_alive(real_pid)


def test_a_service_that_exits_gives_a_clear_error_and_stops_the_others(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "home", services=[stub("alpha"), failing("broken")], startup_timeout=20)
    with pytest.raises(SandboxError) as info:
        box.up()
    message = info.value.message
    assert "'broken'" in message and "exited with code 3" in message
    assert str(box.log_file("broken")) in message and "cannot open the frobnicator" in message
    assert not box.state_file.exists()
    assert not box.status().services["alpha"].running
    assert info.value.hint


def test_a_service_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "home", services=[silent("mute")], startup_timeout=1)
    with pytest.raises(SandboxError, match=r"'mute' did not come up: it did not answer HTTP"):
        box.up()
    (pid,) = box.processes.started()
    assert not box.processes.is_alive(pid)
    assert not box.state_file.exists()


def test_a_port_taken_before_the_service_binds_it_is_retried_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ServiceSpec("web", lambda port, home: [sys.executable, "-m", "http.server",
                                                  "--bind", "127.0.0.1", str(port)])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        occupied = squatter.getsockname()[1]
        picks = iter([occupied])
        real_free_port = process.free_port
        monkeypatch.setattr(process, "free_port", lambda: next(picks, None) or real_free_port())
        box = Sandbox(tmp_path / "home", services=[spec], startup_timeout=20)
        try:
            status = box.up()
            assert status.running and status.services["web"].port != occupied
            assert http_status(status.endpoints["web"]) == 200
        finally:
            box.down()


def test_missing_azurite_is_reported_before_anything_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "empty-cache"))
    box = Sandbox(tmp_path / "home")
    with pytest.raises(SandboxError, match="Azurite 3.37.0 is not installed") as info:
        box.up()
    assert "make setup" in info.value.hint and ".ci/install-azurite.sh" in info.value.hint
    assert box.processes.started() == frozenset()
    assert not box.state_file.exists()


def test_status_of_a_sandbox_that_never_ran(tmp_path: Path) -> None:
    status = Sandbox(tmp_path / "home").status()
    assert not status.running and status.endpoints == {}
    assert [s.name for s in status.services.values()] == [s.name for s in DEFAULT_SERVICES]
    assert all(s.pid is None and not s.running for s in status.services.values())
    with pytest.raises(SandboxNotRunningError):
        status.cloud_settings()
    Sandbox(tmp_path / "home").down()  # nothing recorded: nothing to do


def test_a_malformed_state_file_is_an_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "state.json").write_text('{"services": {"aws": {"pid": "x"}}}')
    with pytest.raises(SandboxError, match="malformed"):
        Sandbox(home).status()


# -- the real emulators ---------------------------------------------------------------


@pytest.mark.sandbox
def test_all_six_emulators_answer_on_loopback_only(sandbox: SandboxStatus) -> None:
    assert sandbox.running
    assert set(sandbox.endpoints) == {"aws", "azure_blob", "gcs", "azure_arm", "gcp_crm",
                                      "gcp_pubsub"}
    for name, service in sandbox.services.items():
        url = urlsplit(service.endpoint)
        assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.port == service.port
        if name == "gcp_pubsub":  # gRPC: cleartext HTTP/2 only
            assert answers_http2(service.port or 0) and not answers_http(service.port or 0)
        else:
            assert http_status(service.endpoint) < 500, name
        # 127.0.0.1, or (gRPC's dual-stack socket) 127.0.0.1 as an IPv4-mapped IPv6 address
        assert len(listening_addresses(service.port or 0)) == 1, name
        assert listening_addresses(service.port or 0) <= {
            "0100007F", "0000000000000000FFFF00000100007F"}, name


@pytest.mark.sandbox
def test_status_from_the_state_directory(sandbox: SandboxStatus) -> None:
    status = Sandbox(sandbox.home).status()
    assert status.running and status.endpoints == sandbox.endpoints
    assert status.to_json()["endpoints"] == sandbox.endpoints


@pytest.mark.sandbox
def test_cloud_settings_for_environment_local(sandbox: SandboxStatus) -> None:
    settings = sandbox.cloud_settings()
    ep = sandbox.endpoints
    assert settings == {
        "aws": {"endpoint_url": ep["aws"], "region": "us-east-1"},
        "azure": {"arm_endpoint": ep["azure_arm"], "blob_endpoint": ep["azure_blob"],
                  "subscription_id": "00000000-0000-0000-0000-000000000000", "location": "westeurope"},
        "gcp": {"storage_endpoint": ep["gcs"], "crm_endpoint": ep["gcp_crm"],
                "pubsub_endpoint": ep["gcp_pubsub"].removeprefix("http://"),
                "project": "provision-local", "region": "europe-west1"},
    }
    assert ep["azure_blob"].endswith("/devstoreaccount1")


@pytest.mark.sandbox
def test_moto_serves_s3(sandbox: SandboxStatus) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=sandbox.endpoints["aws"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = f"sbx-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.sandbox
def test_azurite_serves_blobs(sandbox: SandboxStatus) -> None:
    from azure.storage.blob import BlobServiceClient

    # Azurite's documented development account key (public, not a secret).
    key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    client = BlobServiceClient(sandbox.endpoints["azure_blob"],
                               credential={"account_name": "devstoreaccount1", "account_key": key})
    container = client.create_container(f"sbx-{uuid.uuid4().hex[:12]}")
    container.upload_blob("hello.txt", b"hello")
    assert container.download_blob("hello.txt").readall() == b"hello"


@pytest.mark.sandbox
def test_gcs_emulator_serves_buckets(sandbox: SandboxStatus) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="provision-local", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": sandbox.endpoints["gcs"]})
    name = f"sbx-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    assert name in [b.name for b in client.list_buckets()]
