"""The sandbox's recorded state (``home/state.json``) and the status it reports.

``state.json`` lists, per service, the pid, port, endpoint, exact command and
start time of what ``up`` started; ``down`` stops exactly those processes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provision.errors import SandboxError, SandboxNotRunningError

STATE_VERSION = 1

AWS_REGION = "us-east-1"
AZURE_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
AZURE_LOCATION = "westeurope"
GCP_PROJECT = "provision-local"
GCP_REGION = "europe-west1"


@dataclass(frozen=True)
class ServiceRecord:
    """What was started for one service."""

    name: str
    pid: int
    port: int
    endpoint: str
    command: list[str]
    started_at: str
    log: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceRecord:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            port=int(data["port"]),
            endpoint=str(data["endpoint"]),
            command=[str(part) for part in data["command"]],
            started_at=str(data["started_at"]),
            log=str(data["log"]),
        )


def load(path: Path) -> dict[str, ServiceRecord]:
    """The recorded services; empty when there is no state file."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SandboxError(
            f"cannot read sandbox state {path}: {exc}",
            hint="stop the services it lists by hand, then delete the file",
        ) from exc
    try:
        return {name: ServiceRecord.from_json(rec) for name, rec in data["services"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SandboxError(
            f"sandbox state {path} is malformed: {exc!r}",
            hint="stop the services it lists by hand, then delete the file",
        ) from exc


def save(path: Path, services: dict[str, ServiceRecord]) -> None:
    """Write the state atomically; remove the file when nothing is recorded."""
    if not services:
        path.unlink(missing_ok=True)
        return
    data = {"version": STATE_VERSION, "services": {n: asdict(r) for n, r in services.items()}}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    endpoint: str = ""
    pid: int | None = None
    port: int | None = None
    running: bool = False
    started_at: str = ""
    log: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SandboxStatus:
    """Every service of the sandbox and whether it runs; ``endpoints`` of the running ones."""

    home: Path
    services: dict[str, ServiceStatus]
    endpoints: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.endpoints = {n: s.endpoint for n, s in self.services.items() if s.running}

    @property
    def running(self) -> bool:
        """True when every service runs."""
        return bool(self.services) and all(s.running for s in self.services.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "running": self.running,
            "endpoints": dict(self.endpoints),
            "services": {n: s.to_json() for n, s in self.services.items()},
        }

    def _endpoint(self, service: str) -> str:
        try:
            return self.endpoints[service]
        except KeyError:
            raise SandboxNotRunningError() from None

    def cloud_settings(self) -> dict[str, dict[str, Any]]:
        """The non-secret settings the cloud adapters use for environment ``local``."""
        return {
            "aws": {"endpoint_url": self._endpoint("aws"), "region": AWS_REGION},
            "azure": {
                "arm_endpoint": self._endpoint("azure_arm"),
                "blob_endpoint": self._endpoint("azure_blob"),
                "subscription_id": AZURE_SUBSCRIPTION_ID,
                "location": AZURE_LOCATION,
            },
            "gcp": {
                "storage_endpoint": self._endpoint("gcs"),
                "crm_endpoint": self._endpoint("gcp_crm"),
                # A gRPC target (host:port), as PUBSUB_EMULATOR_HOST takes it.
                "pubsub_endpoint": self._endpoint("gcp_pubsub").split("://", 1)[-1],
                "project": GCP_PROJECT,
                "region": GCP_REGION,
            },
        }
