"""``provision sandbox up|down|status``: run the local cloud emulators.

:class:`Sandbox` starts moto (AWS), Azurite (Azure blob), gcp-storage-emulator
(GCS) and provision's own Azure Resource Manager and GCP Cloud Resource Manager
emulators, each on 127.0.0.1 and a free port, records them in
``home/state.json`` and stops exactly those processes again.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from provision.errors import SandboxError
from provision.sandbox import process, state
from provision.sandbox.faults import FaultPlan, write_plan
from provision.sandbox.services import DEFAULT_SERVICES, ServiceSpec, with_faults
from provision.sandbox.state import SandboxStatus, ServiceRecord, ServiceStatus

ENV_HOME = "PROVISION_SANDBOX_DIR"
STARTUP_TIMEOUT = 60.0
FAULTS_FILE = "faults.json"
LOG_TAIL_LINES = 15


def default_home(project_dir: Path) -> Path:
    """``$PROVISION_SANDBOX_DIR``, else ``<project>/.provision/sandbox``."""
    explicit = os.environ.get(ENV_HOME)
    return Path(explicit) if explicit else project_dir / ".provision" / "sandbox"


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Sandbox:
    """The local emulators whose state lives in ``home``."""

    def __init__(self, home: Path, *, services: Sequence[ServiceSpec] = DEFAULT_SERVICES,
                 startup_timeout: float = STARTUP_TIMEOUT,
                 processes: process.Processes | None = None) -> None:
        self.home = Path(home)
        self.services = tuple(services)
        self.startup_timeout = startup_timeout
        # What this sandbox started (to reap it) and how it checks and stops any pid.
        self.processes = processes or process.Processes()

    @property
    def faults_file(self) -> Path:
        """The fault plan every service of a fault-taking sandbox reads (when it changes)."""
        return self.home / FAULTS_FILE

    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    def log_file(self, service: str) -> Path:
        return self.home / f"{service}.log"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise up/down between processes sharing this home."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up(self, faults: FaultPlan | None = None) -> SandboxStatus:
        """Start every service that is not already running; keep the ones that are.

        The missing services start side by side; if one does not come up, the
        ones started by this call are stopped again and a SandboxError says why.
        With ``faults`` the services take that fault plan (see
        :mod:`provision.sandbox.faults`): a running fault-taking sandbox switches
        to it at once; one started without faults must be stopped first.
        """
        with self._locked():
            records = state.load(self.state_file)
            records = {n: r for n, r in records.items()
                       if self.processes.runs(r.pid, r.command)}
            if faults is not None:
                plain = sorted(n for n, r in records.items() if "--faults" not in r.command
                               and n in {s.name for s in self.services if s.faults})
                if plain:
                    raise SandboxError(
                        f"the running sandbox was started without a fault plan "
                        f"({', '.join(plain)})",
                        hint="stop it with `provision sandbox down`, then `provision sandbox "
                             "up --faults PLAN`")
                write_plan(faults, self.faults_file)
            faulted = faults is not None or any(
                "--faults" in r.command for r in records.values())
            missing = [spec for spec in self.services if spec.name not in records]
            for spec in missing:
                spec.command(0, self.home)  # a missing tool fails here, before anything starts
            specs = {spec.name: spec for spec in missing}
            started: list[ServiceRecord] = []
            taken = {r.port for r in records.values()}
            try:
                for spec in missing:
                    record = self._spawn(spec, taken, faulted)
                    started.append(record)
                    records[spec.name] = record
                    state.save(self.state_file, records)
                for index, record in enumerate(list(started)):
                    problem = self._wait(record)
                    if problem is not None and problem.startswith("exited") \
                            and process.port_in_use(record.port):
                        # Another program took the port between picking and binding: once more.
                        self.processes.stop(record.pid, record.command, timeout=5.0)
                        record = started[index] = self._spawn(specs[record.name], taken, faulted)
                        records[record.name] = record
                        state.save(self.state_file, records)
                        problem = self._wait(record)
                    if problem is not None:
                        raise self._failure(record, problem)
            except BaseException:
                for record in reversed(started):
                    self.processes.stop(record.pid, record.command, timeout=5.0)
                    records.pop(record.name, None)
                state.save(self.state_file, records)
                raise
            return self._status(records)

    def _spawn(self, spec: ServiceSpec, taken: set[int], faulted: bool) -> ServiceRecord:
        port = process.free_port()
        while port in taken:
            port = process.free_port()
        taken.add(port)
        command = spec.command(port, self.home)
        if faulted and spec.faults:
            upstream = process.free_port()
            while upstream in taken or upstream == port:
                upstream = process.free_port()
            taken.add(upstream)
            command = with_faults(spec, port, upstream, self.home, self.faults_file)
        log = self.log_file(spec.name)
        log.write_text(f"# {spec.name} started {_now()} on 127.0.0.1:{port}\n")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            pid = self.processes.spawn(command, log, env=env, cwd=self.home)
        except OSError as exc:
            raise SandboxError(
                f"sandbox service '{spec.name}' could not be started: {exc}",
                hint=f"see {log}",
            ) from exc
        return ServiceRecord(
            name=spec.name, pid=pid, port=port, endpoint=spec.endpoint(port),
            command=command, started_at=_now(), log=str(log),
        )

    def _wait(self, record: ServiceRecord) -> str | None:
        probes = {spec.name: spec.ready for spec in self.services}
        return self.processes.wait_until_ready(record.pid, record.port, self.startup_timeout,
                                               probes.get(record.name, process.answers_http))

    def _failure(self, record: ServiceRecord, problem: str) -> SandboxError:
        tail = _log_tail(Path(record.log))
        return SandboxError(
            f"sandbox service '{record.name}' did not come up: it {problem}; log: {record.log}"
            + (f"\n{tail}" if tail else ""),
            hint=f"read {record.log}; `provision sandbox down` then `up` retries",
        )

    def down(self) -> None:
        """Stop exactly the recorded processes (after checking each one's command) and forget them."""
        with self._locked():
            records = state.load(self.state_file)
            for record in records.values():
                self.processes.stop(record.pid, record.command)
            state.save(self.state_file, {})

    def status(self) -> SandboxStatus:
        return self._status(state.load(self.state_file))

    def _status(self, records: dict[str, ServiceRecord]) -> SandboxStatus:
        services: dict[str, ServiceStatus] = {}
        names = [spec.name for spec in self.services] + [n for n in records if
                                                         n not in {s.name for s in self.services}]
        for name in names:
            record = records.get(name)
            if record is None:
                services[name] = ServiceStatus(name=name)
                continue
            services[name] = ServiceStatus(
                name=name, endpoint=record.endpoint, pid=record.pid, port=record.port,
                running=self.processes.runs(record.pid, record.command),
                started_at=record.started_at, log=record.log,
            )
        return SandboxStatus(home=self.home, services=services)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
