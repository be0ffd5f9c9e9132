"""The six local services of the sandbox and how each one is started.

Every service binds 127.0.0.1 only, on a port picked when the sandbox comes up.
A :class:`ServiceSpec` turns that port (and the sandbox home, for scratch files)
into the exact command line that is started and later recognised again in
``/proc/<pid>/cmdline`` before it is stopped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from provision.sandbox import process, tools

HOST = "127.0.0.1"
# Azurite keeps blob content in memory; by default it may take half the machine's.
AZURITE_MEMORY_MB = 512

CommandBuilder = Callable[[int, Path], list[str]]


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one service and where it answers once started."""

    name: str
    command: CommandBuilder
    # Appended to ``http://127.0.0.1:PORT`` to form the endpoint clients use.
    endpoint_path: str = ""
    # How the service takes a fault plan: "native" (the emulator's own --faults),
    # "proxy" (behind provision.sandbox.fault_proxy) or "" (never faulted).
    faults: str = ""
    # Whether the service answers on its port: HTTP/1.1, or cleartext HTTP/2 for gRPC.
    ready: Callable[[int], bool] = process.answers_http

    def endpoint(self, port: int) -> str:
        return f"http://{HOST}:{port}{self.endpoint_path}"


def _moto(port: int, home: Path) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def _azurite_blob(port: int, home: Path) -> list[str]:
    return [
        *tools.azurite_blob_command(),
        "--blobHost", HOST,
        "--blobPort", str(port),
        "--disableTelemetry",
        "--inMemoryPersistence",
        "--extentMemoryLimit", str(AZURITE_MEMORY_MB),
        "--skipApiVersionCheck",
        "--disableProductStyleUrl",
        "--loose",
        # Access logs would carry SAS signatures; keep them out of the log file.
        "--silent",
    ]


def _gcs(port: int, home: Path) -> list[str]:
    return [
        sys.executable, "-m", "gcp_storage_emulator",
        "--data-dir", str(home / "gcs"),
        "start", "--host", HOST, "--port", str(port), "--in-memory",
    ]


def _arm(port: int, home: Path) -> list[str]:
    return [sys.executable, "-m", "provision.sandbox.emulators.arm", "--port", str(port)]


def _crm(port: int, home: Path) -> list[str]:
    return [sys.executable, "-m", "provision.sandbox.emulators.crm", "--port", str(port)]


def _pubsub(port: int, home: Path) -> list[str]:
    return [sys.executable, "-m", "provision.sandbox.emulators.pubsub", "--port", str(port)]


AZURITE_ACCOUNT = "devstoreaccount1"


def with_faults(spec: ServiceSpec, port: int, upstream_port: int, home: Path,
                plan_file: Path) -> list[str]:
    """The command line of ``spec`` taking the fault plan in ``plan_file``.

    "native" services get ``--faults``; "proxy" services run on ``upstream_port``
    behind :mod:`provision.sandbox.fault_proxy`, which listens on ``port``.
    """
    if spec.faults == "native":
        return [*spec.command(port, home), "--faults", str(plan_file), "--service", spec.name]
    if spec.faults == "proxy":
        return [sys.executable, "-m", "provision.sandbox.fault_proxy", "--port", str(port),
                "--upstream-port", str(upstream_port), "--service", spec.name,
                "--faults", str(plan_file), "--", *spec.command(upstream_port, home)]
    return spec.command(port, home)


DEFAULT_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("aws", _moto, faults="proxy"),
    ServiceSpec("azure_blob", _azurite_blob, endpoint_path=f"/{AZURITE_ACCOUNT}",
                faults="proxy"),
    ServiceSpec("gcs", _gcs, faults="proxy"),
    ServiceSpec("azure_arm", _arm, faults="native"),
    ServiceSpec("gcp_crm", _crm, faults="native"),
    # gRPC (HTTP/2): the HTTP fault proxy cannot stand in front of it; never faulted.
    ServiceSpec("gcp_pubsub", _pubsub, ready=process.answers_http2),
)
