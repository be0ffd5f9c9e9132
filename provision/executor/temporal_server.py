"""The Temporal dev server that the ``temporal-local`` executor starts and stops.

The server is the Temporal CLI's ``temporal server start-dev``, built from Go
modules by ``.ci/build-temporal.sh`` into the version-keyed cache
(``$PROVISION_CACHE/temporal/vX.Y.Z/bin/temporal``); ``PROVISION_TEMPORAL_BIN``
(the binary itself) overrides it, and a ``temporal`` on PATH of the pinned
version is used too. It runs offline and loopback-only: ``--headless`` unless the
web UI is asked for, bound to 127.0.0.1 on free ports, both version checks off (it would otherwise call home),
its state in one SQLite file (under ``.provision/temporal/`` by default).

Only what :meth:`DevServer.start` started is ever stopped, through the sandbox's
process helpers (a pid is signalled only while it still runs the recorded command).
The pid and command are recorded beside the SQLite file, so a server left running by a
provision that was killed is stopped by the next start on that file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from provision.engine.toolchain import cache_root
from provision.errors import ExecutorError
from provision.sandbox import process

# The Temporal CLI (with the dev server) that .ci/build-temporal.sh builds; the Makefile
# reads this line. Newer CLIs need a Go sub-module the module proxy refuses.
TEMPORAL_CLI_VERSION = "1.5.1"
NAMESPACE = "default"
# A cold start on a loaded 2-core machine (SQLite schema set-up included).
START_TIMEOUT = 90.0


def cli_version(binary: Path) -> str | None:
    """``1.5.1`` from ``temporal --version`` ("temporal version 1.5.1 (Server ..., UI ...)")."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=60, check=False,
                             env={**os.environ, "TEMPORAL_VERSION_CHECK_DISABLED": "1"})
    except OSError:
        return None
    words = out.stdout.split()
    return words[2] if len(words) >= 3 and words[:2] == ["temporal", "version"] else None


def find_temporal(version: str = TEMPORAL_CLI_VERSION) -> Path:
    """The Temporal CLI binary of ``version``, or an :class:`ExecutorError` saying how to build it."""
    candidates: list[Path] = []
    if override := os.environ.get("PROVISION_TEMPORAL_BIN"):
        candidates.append(Path(override))
    candidates.append(cache_root() / "temporal" / f"v{version}" / "bin" / "temporal")
    if on_path := shutil.which("temporal"):
        candidates.append(Path(on_path).resolve())
    for binary in candidates:
        if binary.is_file() and os.access(binary, os.X_OK) and cli_version(binary) == version:
            return binary
    raise ExecutorError(
        f"the Temporal CLI v{version} (for the temporal-local executor) was not found",
        hint=f"run `make setup` (it builds it from Go modules with "
             f"`.ci/build-temporal.sh {version}`), or set PROVISION_TEMPORAL_BIN")


def dev_server_command(binary: Path, *, port: int, ui_port: int, db_file: Path,
                       ui: bool = False) -> list[str]:
    return [str(binary), "server", "start-dev", *([] if ui else ["--headless"]),
            "--ip", process.HOST,
            "--port", str(port), "--ui-port", str(ui_port), "--db-filename", str(db_file),
            "--log-level", "warn",
            "--dynamic-config-value", "frontend.enableServerVersionCheck=false"]


@dataclass
class DevServer:
    """One dev server process: ``start()`` it, ``address`` to connect, ``stop()`` it.

    ``port`` 0 picks a free port at start; pass the previous one to restart a server
    on the same address (its workflows survive in ``db_file``)."""

    db_file: Path
    port: int = 0
    ui_port: int = 0
    binary: Path | None = None
    log_file: Path | None = None
    ui: bool = False                     # serve the web UI on ui_port (loopback only)
    pid: int | None = field(default=None, init=False)
    command: list[str] = field(default_factory=list, init=False)
    # What this server object started (to reap it) and how it checks and stops a pid.
    processes: process.Processes = field(default_factory=process.Processes, init=False,
                                         repr=False, compare=False)

    @property
    def address(self) -> str:
        return f"{process.HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        """The web UI (served by the same process when started with ``ui``)."""
        return f"http://{process.HOST}:{self.ui_port}"

    def workflow_url(self, workflow_id: str, namespace: str = NAMESPACE) -> str:
        return f"{self.ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

    @property
    def pid_file(self) -> Path:
        """Where a started server's pid and command are recorded (beside its SQLite file)."""
        return self.db_file.with_name(self.db_file.name + ".pid")

    def _stop_leftover(self) -> None:
        """Stop a server an earlier provision started on this SQLite file and could not
        stop (it was killed): only if that pid still runs exactly the recorded command."""
        try:
            recorded = json.loads(self.pid_file.read_text())
            pid, command = int(recorded["pid"]), [str(a) for a in recorded["command"]]
        except (OSError, ValueError, KeyError, TypeError):
            return
        self.processes.stop(pid, command)
        self.pid_file.unlink(missing_ok=True)

    def start(self, timeout: float = START_TIMEOUT) -> "DevServer":
        if self.pid is not None:
            return self
        self._stop_leftover()
        binary = self.binary or find_temporal()
        self.port = self.port or process.free_port()
        self.ui_port = self.ui_port or process.free_port()
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file or self.db_file.with_suffix(".log")
        self.command = dev_server_command(binary, port=self.port, ui_port=self.ui_port,
                                          db_file=self.db_file, ui=self.ui)
        env = {**os.environ, "TEMPORAL_VERSION_CHECK_DISABLED": "1"}
        self.pid = self.processes.spawn(self.command, log, env=env)
        self.pid_file.write_text(json.dumps({"pid": self.pid, "command": self.command}))
        why = self.processes.wait_until_ready(self.pid, self.port, timeout,
                                              probe=process.answers_http2)
        if why is not None:
            self.stop()
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ExecutorError(f"the Temporal dev server on {self.address} {why}",
                                hint=f"its log is {log}" + (f":\n{tail}" if tail else ""))
        return self

    def running(self) -> bool:
        return self.pid is not None and self.processes.runs(self.pid, self.command)

    def stop(self) -> None:
        """Stop the process this object started (and only it); idempotent."""
        if self.pid is not None:
            self.processes.stop(self.pid, self.command)
            self.pid = None
            self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> "DevServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
