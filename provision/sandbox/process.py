"""Start, probe, recognise and stop the sandbox's service processes.

:class:`Processes` starts processes and keeps what it needs to reap them; the
probes (free ports, HTTP and HTTP/2 answers) hold no state. A process is only
ever signalled after ``/proc/<pid>/cmdline`` shows that the
pid still runs the exact command that was recorded for it, so a reused pid or
an unrelated process with a similar command is never touched.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """True when 127.0.0.1:port cannot be bound (something else listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
        return False


def answers_http(port: int, timeout: float = 1.0) -> bool:
    """True when something on 127.0.0.1:port answers an HTTP request (any status)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# RFC 9113 section 3.4: the client connection preface, then an empty SETTINGS frame.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def answers_http2(port: int, timeout: float = 1.0) -> bool:
    """True when something on 127.0.0.1:port speaks cleartext HTTP/2 (a gRPC server):
    it answers the client preface with a SETTINGS frame (type 4)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as conn:
            conn.sendall(_H2_PREFACE)
            header = conn.recv(9)
    except OSError:
        return False
    return len(header) >= 4 and header[3] == 0x04


def _read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if not raw:
        return None
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _signal_one(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Processes:
    """The processes one owner (a :class:`~provision.sandbox.manager.Sandbox`, a Temporal
    dev server) started, and the checks and signals it sends to any pid.

    The Popen handle of each process started here is kept so that it can be reaped
    (no zombies, no "still running" warnings at garbage collection) and its exit code
    read after it ended. A pid this object did not start (one recorded by an earlier
    run) is checked through ``/proc`` and reaped, if it is a child, with ``waitpid``.
    """

    def __init__(self) -> None:
        self._started: dict[int, subprocess.Popen[bytes]] = {}

    def started(self) -> frozenset[int]:
        """The pids of the processes started here (running or not)."""
        return frozenset(self._started)

    def spawn(self, command: list[str], log_file: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> int:
        """Start ``command`` in its own session with stdout+stderr appended to
        ``log_file``; its pid. Raises :class:`OSError` when it cannot be started."""
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=cwd,
                close_fds=True,
            )
        self._started[proc.pid] = proc
        return proc.pid

    def _reap(self, pid: int) -> None:
        proc = self._started.get(pid)
        if proc is not None:
            proc.poll()  # kept after exit: its exit code explains a failed start
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def exit_code(self, pid: int) -> int | None:
        """The exit code of a process started here, or None while it runs (or is not ours)."""
        proc = self._started.get(pid)
        return proc.poll() if proc is not None else None

    def is_alive(self, pid: int) -> bool:
        """True while ``pid`` exists and is not a zombie."""
        self._reap(pid)
        proc = self._started.get(pid)
        if proc is not None:
            return proc.poll() is None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return False
        # The state letter follows the parenthesised command name, which may hold spaces.
        return stat.rpartition(")")[2].split()[:1] != ["Z"]

    def cmdline(self, pid: int, settle: float = 1.0) -> list[str] | None:
        """The argv of a live process, or None if it is gone or a zombie.

        Right after exec the kernel may briefly show an empty cmdline; it is read
        again for up to ``settle`` seconds while the process is alive.
        """
        deadline = time.monotonic() + settle
        while True:
            if not self.is_alive(pid):
                return None
            argv = _read_cmdline(pid)
            if argv is not None or time.monotonic() >= deadline:
                return argv
            time.sleep(0.02)

    def runs(self, pid: int, command: list[str]) -> bool:
        """True when ``pid`` is alive and still runs exactly ``command``."""
        return self.cmdline(pid) == command

    def wait_until_ready(self, pid: int, port: int, timeout: float,
                         probe: Callable[[int], bool] = answers_http) -> str | None:
        """Wait until ``probe`` (HTTP by default) says the service on ``port`` answers,
        at most ``timeout`` seconds; None when it does, else why not."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_alive(pid):
                code = self.exit_code(pid)
                return "exited" + (f" with code {code}" if code is not None else "")
            if probe(port):
                return None
            if time.monotonic() >= deadline:
                return f"did not answer HTTP on 127.0.0.1:{port} within {timeout:g}s"
            time.sleep(0.1)

    def stop(self, pid: int, command: list[str], timeout: float = 10.0) -> bool:
        """Stop ``pid``'s process group if, and only if, ``pid`` still runs ``command``.

        SIGTERM first, SIGKILL after ``timeout`` seconds. Returns whether it was signalled.
        """
        if not self.runs(pid, command):
            return False
        # start_new_session made the service the leader of its own process group.
        try:
            leads_group = os.getpgid(pid) == pid
        except ProcessLookupError:
            return False
        send = _signal_group if leads_group else _signal_one
        send(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.is_alive(pid):
            send(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
            while self.is_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        if leads_group:
            # Helpers the service forked stay in its group; a group id is not reused
            # while any member lives, so this reaches only what the service left.
            _signal_group(pid, signal.SIGKILL)
        self._reap(pid)
        return True
