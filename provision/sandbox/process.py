"""Start, probe, recognise and stop the sandbox's service processes.

A process is only ever signalled after ``/proc/<pid>/cmdline`` shows that the
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

# Popen handles of the services this Python process started: kept so that they
# can be reaped (no zombies, no "still running" warnings at garbage collection).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


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


def spawn(command: list[str], log_file: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> int:
    """Start ``command`` in its own session with stdout+stderr appended to ``log_file``."""
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
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        proc.poll()  # kept after exit: its exit code explains a failed start
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def exit_code(pid: int) -> int | None:
    """The exit code of a child started here, or None while it runs (or is not ours)."""
    proc = _CHILDREN.get(pid)
    return proc.poll() if proc is not None else None


def _read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if not raw:
        return None
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    _reap(pid)
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    # The state letter follows the parenthesised command name, which may hold spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def cmdline(pid: int, settle: float = 1.0) -> list[str] | None:
    """The argv of a live process, or None if it is gone or a zombie.

    Right after exec the kernel may briefly show an empty cmdline; it is read
    again for up to ``settle`` seconds while the process is alive.
    """
    deadline = time.monotonic() + settle
    while True:
        if not is_alive(pid):
            return None
        argv = _read_cmdline(pid)
        if argv is not None or time.monotonic() >= deadline:
            return argv
        time.sleep(0.02)


def runs(pid: int, command: list[str]) -> bool:
    """True when ``pid`` is alive and still runs exactly ``command``."""
    return cmdline(pid) == command


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


def wait_until_ready(pid: int, port: int, timeout: float,
                     probe: Callable[[int], bool] = answers_http) -> str | None:
    """Wait until ``probe`` (HTTP by default) says the service answers; None when it
    does, else why not."""
    deadline = time.monotonic() + timeout
    while True:
        if not is_alive(pid):
            code = exit_code(pid)
            return "exited" + (f" with code {code}" if code is not None else "")
        if probe(port):
            return None
        if time.monotonic() >= deadline:
            return f"did not answer HTTP on 127.0.0.1:{port} within {timeout:g}s"
        time.sleep(0.1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def stop(pid: int, command: list[str], timeout: float = 10.0) -> bool:
    """Stop ``pid``'s process group if, and only if, ``pid`` still runs ``command``.

    SIGTERM first, SIGKILL after ``timeout``. Returns whether it was signalled.
    """
    if not runs(pid, command):
        return False
    # start_new_session made the service the leader of its own process group.
    try:
        leads_group = os.getpgid(pid) == pid
    except ProcessLookupError:
        return False
    send = _signal_group if leads_group else _signal_one
    send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_alive(pid):
        send(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if leads_group:
        # Helpers the service forked stay in its group; a group id is not reused
        # while any member lives, so this reaches only what the service left.
        _signal_group(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _signal_one(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
