"""The environment lock: one mutating run per (spec, environment, backend) at a time.

The lock is one small JSON object on the state backend (``.provision/locks/
<spec>/<env>.json``), created with an atomic create-if-absent and renewed by a
background thread before its lease runs out. Holder identity: run id,
operation, user, host, pid, the pid's start time, and since when it holds it.

A lock whose holder is provably gone is taken over (with a conditional replace,
so two runs cannot both take it over) and the takeover is reported:
- same machine (host name, kernel boot id and pid namespace all match) and the
  holder's pid is not running, or runs a different process (start time differs);
- or its lease expired (the holder stopped renewing it: killed, or cut off).
Otherwise the run fails at once with :class:`EnvironmentLockedError` naming the
holder; ``provision unlock SPEC --env ENV`` removes a lock by hand.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from provision.engine.statestore import StateStore
from provision.errors import EnvironmentLockedError
from provision.vocabulary import Operation

LEASE_SECONDS = 120.0
LOCK_PREFIX = ".provision/locks"


def lock_key(spec: str, env: str) -> str:
    return f"{LOCK_PREFIX}/{spec}/{env}.json"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` from field 3 (state) on; [] when the process does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat[stat.rindex(")") + 2:].split()


def process_start(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    "" when unknown or when the process does not exist."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else ""


def process_started_at(pid: int) -> datetime | None:
    """When ``pid`` started (UTC), from its start ticks and the boot time in ``/proc/stat``;
    None when unknown."""
    ticks = process_start(pid)
    try:
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return datetime.fromtimestamp(boot + int(ticks) / os.sysconf("SC_CLK_TCK"),
                                      timezone.utc)
    except (OSError, ValueError, StopIteration):
        return None


def pid_alive(pid: int, start: str = "") -> bool:
    """True when ``pid`` runs on this machine (and is the process that started at ``start``).

    A zombie (exited, not yet reaped: state Z or X in ``/proc/<pid>/stat``) is not
    running. Zombies stay when the killed run's children were re-parented to an init
    that does not reap them, as in many containers.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat_fields(pid)
    if fields and fields[0] in ("Z", "X"):
        return False
    current = fields[19] if len(fields) > 19 else ""
    return not (start and current and current != start)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) an environment lock."""

    run_id: str
    operation: str
    user: str
    host: str
    pid: int
    since: str                 # ISO 8601, UTC
    expires: str               # ISO 8601, UTC; renewed while the holder runs
    pid_start: str = ""
    boot_id: str = ""
    pid_ns: str = ""

    @classmethod
    def me(cls, run_id: str, operation: Operation, lease: float) -> "LockHolder":
        now = _now()
        return cls(run_id=run_id, operation=operation.value, user=getpass.getuser(),
                   host=socket.gethostname(), pid=os.getpid(), since=now.isoformat(),
                   expires=(now + timedelta(seconds=lease)).isoformat(),
                   pid_start=process_start(os.getpid()), boot_id=_boot_id(),
                   pid_ns=_pid_namespace())

    @classmethod
    def parse(cls, data: bytes) -> "LockHolder":
        raw: dict[str, Any] = json.loads(data.decode("utf-8"))
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8")

    def describe(self) -> str:
        return (f"run {self.run_id} ({self.operation}) by {self.user}@{self.host}, "
                f"pid {self.pid}, since {self.since}")

    def same_machine(self) -> bool:
        return (self.host == socket.gethostname() and self.boot_id == _boot_id()
                and self.pid_ns == _pid_namespace())

    def gone(self, now: datetime | None = None) -> str:
        """Why the holder is provably gone ("" when it may still run)."""
        if self.same_machine() and not pid_alive(self.pid, self.pid_start):
            return f"its process {self.pid} on {self.host} is no longer running"
        try:
            expires = datetime.fromisoformat(self.expires)
        except ValueError:
            return "its lock record is unreadable"
        if (now or _now()) > expires:
            return f"its lease expired at {self.expires}"
        return ""


class EnvironmentLock:
    """Acquire, renew and release the lock of one (spec, environment) on one backend.

    Use as a context manager around a mutating run::

        with EnvironmentLock(store, "demo", "local", run_id, Operation.APPLY, log=print):
            ...

    Raises :class:`EnvironmentLockedError` when another live run holds it.
    ``log`` receives one line per takeover (and per lost lease).
    """

    def __init__(self, store: StateStore, spec: str, env: str, run_id: str,
                 operation: Operation, *, lease: float = LEASE_SECONDS,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.store, self.spec, self.env = store, spec, env
        self.key = lock_key(spec, env)
        self.run_id, self.operation, self.lease = run_id, operation, lease
        self.log = log
        self.took_over: LockHolder | None = None
        self.took_over_because = ""       # why the holder taken over is gone
        self._version: str | None = None
        self._holder: LockHolder | None = None
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    @property
    def lost(self) -> bool:
        """True when the lease could not be renewed (another run took the lock over)."""
        return self._lost.is_set()

    def acquire(self) -> LockHolder:
        me = LockHolder.me(self.run_id, self.operation, self.lease)
        data = me.encode()
        for _ in range(5):            # a few rounds: the lock may vanish between calls
            if self.store.create(self.key, data):
                self._hold(me, data)
                return me
            current = self.store.read(self.key)
            if current is None:
                continue
            holder = LockHolder.parse(current[0])
            reason = holder.gone()
            if not reason:
                raise EnvironmentLockedError(self.spec, self.env, holder.describe(),
                                             location=f"{self.store.url}/{self.key}")
            if self.store.replace(self.key, data, current[1]):
                self.took_over, self.took_over_because = holder, reason
                self.log(f"took over the lock of {self.spec}/{self.env} from "
                         f"{holder.describe()}: {reason}")
                self._hold(me, data)
                return me
        raise EnvironmentLockedError(self.spec, self.env, "another run (the lock keeps changing)",
                                     location=f"{self.store.url}/{self.key}")

    def _hold(self, me: LockHolder, data: bytes) -> None:
        current = self.store.read(self.key)
        self._holder, self._version = me, current[1] if current else None
        self._thread = threading.Thread(target=self._renew_loop, name="env-lock-lease",
                                        daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease / 4):
            self.renew()

    def renew(self) -> bool:
        """Extend the lease; False (and :attr:`lost`) when the lock is no longer ours."""
        with self._mutex:
            if self._holder is None or self._version is None:
                return False
            expires = (_now() + timedelta(seconds=self.lease)).isoformat()
            holder = LockHolder(**{**asdict(self._holder), "expires": expires})
            data = holder.encode()
            if not self.store.replace(self.key, data, self._version):
                self._lost.set()
                self.log(f"lost the lock of {self.spec}/{self.env}: another run took it over")
                return False
            current = self.store.read(self.key)
            self._holder, self._version = holder, current[1] if current else None
            return True

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._mutex:
            if self._version is not None and not self._lost.is_set():
                self.store.delete(self.key, self._version)
            self._holder = self._version = None

    def __enter__(self) -> "EnvironmentLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def current_holder(store: StateStore, spec: str, env: str) -> tuple[LockHolder, str] | None:
    """The holder of the lock and the lock's version, or None when it is free."""
    current = store.read(lock_key(spec, env))
    if current is None:
        return None
    return LockHolder.parse(current[0]), current[1]


def force_unlock(store: StateStore, spec: str, env: str, version: str) -> bool:
    """Remove the lock if it is still the one the user confirmed (``version``)."""
    return store.delete(lock_key(spec, env), version)
