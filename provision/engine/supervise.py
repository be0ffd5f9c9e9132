"""Every process a run starts dies with the run; the first interrupt stops it cleanly.

Pulumi starts its language host and each provider plugin in a process group of
its own (``cmdutil.RegisterProcessGroup`` in the Pulumi SDK's
``go/common/resource/plugin/plugin.go``), so killing ``provision``'s process
group does not reach them, and a killed run's dynamic provider went on creating
resources. A :class:`Supervisor` therefore:

- marks every process of the run: the engine commands it starts carry
  ``PROVISION_RUN_TOKEN=<random>`` in their environment, which Pulumi passes on
  to every plugin it starts (they inherit ``os.Environ()``);
- makes this process a Linux child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``)
  while the run lasts, so descendants whose parent dies stay below it instead of
  escaping to init (they are reaped when this process ends);
- starts a small watchdog (``_watchdog.py``, in a session of its own) that holds
  a pipe from this process. When the pipe closes without a clean goodbye (this
  process was SIGKILLed, or crashed), the watchdog SIGKILLs every process that
  carries the token, until none is left, and exits.

:class:`Interrupt` turns the first SIGINT/SIGTERM into a graceful stop (no new
stage; each running Pulumi command gets one SIGINT, Pulumi's own cancel, which
lets in-flight resource operations finish) and the second into an immediate one.
The engine commands run in sessions of their own, so a terminal's Ctrl-C reaches
them only through here, exactly once. Linux only for the token sweep and the
subreaper; elsewhere processes are still signalled through their sessions.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import Any, Callable

RUN_TOKEN_ENV = "PROVISION_RUN_TOKEN"
_PR_SET_CHILD_SUBREAPER = 36
_WATCHDOG = Path(__file__).with_name("_watchdog.py")


def processes_with_env(name: str, value: str, *, exclude: set[int] | None = None) -> list[int]:
    """Pids of the running processes whose environment holds ``name=value`` (Linux /proc).

    This process and ``exclude`` are left out; so are zombies (exited, not reaped),
    whose ``/proc/<pid>/environ`` reads empty.
    """
    marker = f"{name}={value}".encode()
    skip = {os.getpid(), *(exclude or set())}
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) in skip:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry))
    return found


def processes_with_token(token: str, *, exclude: set[int] | None = None) -> list[int]:
    """Pids of the processes whose environment holds ``RUN_TOKEN_ENV=token``."""
    return processes_with_env(RUN_TOKEN_ENV, token, exclude=exclude)


def _set_subreaper(on: bool) -> bool:
    """Make this process a child subreaper (Linux ``prctl``), or stop being one."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


class Supervisor:
    """Starts, tracks, interrupts and kills the processes of one run (see module doc)."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(12)
        self._procs: set[subprocess.Popen[Any]] = set()
        self._lock = threading.Lock()
        self._watchdog: subprocess.Popen[bytes] | None = None
        self.subreaper = False

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> "Supervisor":
        self.subreaper = _set_subreaper(True)
        env = {k: v for k, v in os.environ.items() if k != RUN_TOKEN_ENV}
        self._watchdog = subprocess.Popen(
            [sys.executable, "-I", str(_WATCHDOG), self.token, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True, close_fds=True)
        return self

    def stop(self) -> None:
        """Kill whatever of the run is still running, then dismiss the watchdog."""
        self.kill_all()
        if self.subreaper:
            _set_subreaper(False)
            self.subreaper = False
        dog, self._watchdog = self._watchdog, None
        if dog is not None and dog.stdin is not None:
            try:
                dog.stdin.write(b"done\n")
                dog.stdin.close()
            except OSError:
                pass
            try:
                dog.wait(timeout=5)
            except subprocess.TimeoutExpired:
                dog.kill()
                dog.wait()

    def __enter__(self) -> "Supervisor":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def watchdog_pid(self) -> int | None:
        return self._watchdog.pid if self._watchdog is not None else None

    # -- processes -------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """Variables every process of the run must carry."""
        return {RUN_TOKEN_ENV: self.token}

    def spawn(self, cmd: list[str], *, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``cmd`` as a process of the run (own session, marked, tracked)."""
        proc: subprocess.Popen[Any] = subprocess.Popen(
            cmd, env={**env, **self.environment()}, start_new_session=True, **kwargs)
        with self._lock:
            self._procs.add(proc)
        return proc

    def release(self, proc: subprocess.Popen[Any]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def running(self) -> list[subprocess.Popen[Any]]:
        with self._lock:
            return [p for p in self._procs if p.poll() is None]

    def interrupt(self) -> None:
        """Ask every running engine command to stop cleanly (one SIGINT each)."""
        for proc in self.running():
            try:
                os.kill(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def kill_all(self) -> None:
        """SIGKILL every process of the run at once (tracked or marked by the token)."""
        exclude = {self.watchdog_pid} if self.watchdog_pid else set()
        for _ in range(20):
            pids = {p.pid for p in self.running()} | set(processes_with_token(self.token,
                                                                             exclude=exclude))
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

def exit_interrupted(signum: int, frame: FrameType | None) -> None:
    """A signal handler: exit 130 at once, without a word (the run has said it all)."""
    os._exit(130)


class Interrupt:
    """SIGINT/SIGTERM handling for a run: first signal graceful, second immediate.

    ``on_first(signal_name)`` is called once on the first signal (after the engine
    commands were asked to stop); ``on_second()`` on the second, after every
    process of the run was killed: it must record where the run stopped and exit
    (130). :attr:`requested` tells the orchestrator not to start another stage.
    """

    def __init__(self, supervisor: Supervisor, *, on_first: Callable[[str], None],
                 on_second: Callable[[], None]) -> None:
        self.supervisor = supervisor
        self.requested = threading.Event()
        self._on_first, self._on_second = on_first, on_second
        self._previous: dict[int, Any] = {}

    def install(self) -> "Interrupt":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        """Put the handlers found at :meth:`install` back; once a stop was requested the
        process is ending (exit 130, the run said where it stopped): a further signal
        then ends it at once, silently (:func:`exit_interrupted`)."""
        stopping = self.requested.is_set()
        for sig, handler in self._previous.items():
            signal.signal(sig, exit_interrupted if stopping else handler)
        self._previous.clear()

    def __enter__(self) -> "Interrupt":
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.requested.is_set():
            self.requested.set()
            self.supervisor.interrupt()
            self._on_first(signal.Signals(signum).name)
            return
        # The engine's processes die now: the Automation API's event-stream thread then
        # warns ("Error in event stream") on stderr; the run is ending, nothing to say.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pulumi\.automation")
        self.supervisor.kill_all()
        self._on_second()
