"""A fault-injecting HTTP proxy in front of one sandbox emulator (stdlib only).

moto, gcp-storage-emulator and Azurite cannot be told to fail on purpose, so
when the sandbox runs with a fault plan each of them runs behind this proxy:

    python -m provision.sandbox.fault_proxy --port 4566 --upstream-port 4567 \\
        --service aws --faults HOME/faults.json -- python -m moto.server -p 4567 ...

The proxy starts the emulator command (after ``--``) as its child, waits until it
answers HTTP, then listens on ``--port`` and forwards every request unchanged
(Host header included, so URLs the emulator builds point at the proxy). Before
forwarding it asks the :class:`~provision.sandbox.faults.FaultInjector` whether
to delay the request, answer an error in the cloud's own format instead, or
forward it and then lose the answer. When the proxy is terminated it stops the
emulator too (both live in the process group the sandbox manager stops).
"""

from __future__ import annotations

import argparse
import http.client
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from provision.sandbox.faults import Fault, FaultInjector

HOST = "127.0.0.1"
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded; bodies are re-framed.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "expect",
                        "te", "trailer", "upgrade", "content-length"})
UPSTREAM_TIMEOUT = 120.0


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def make_handler(upstream_port: int, faults: FaultInjector) -> type[BaseHTTPRequestHandler]:
    """A handler class forwarding to 127.0.0.1:``upstream_port`` under ``faults``."""
    local = threading.local()

    def connection() -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(HOST, upstream_port, timeout=UPSTREAM_TIMEOUT)
            local.conn = conn
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            body = _read_body(self)
            fault = faults.decide(self.command, self.path, body)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None and not fault.after:
                self._send_fault(fault)
                return
            status, reason, headers, payload = self._forward(body)
            if fault is not None and fault.status is not None:
                self._send_fault(fault)  # the emulator did the work; the answer is lost
                return
            self.send_response(status, reason)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            for attempt in (1, 2):
                conn = connection()
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    return response.status, response.reason, response.getheaders(), payload
                except (http.client.HTTPException, OSError):
                    # A kept-alive connection the emulator closed: reconnect once.
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def _send_fault(self, fault: Fault) -> None:
            self.send_response(fault.status or 500)
            for name, value in fault.headers.items():
                self.send_header(name, value)
            if fault.content_type:
                self.send_header("Content-Type", fault.content_type)
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(fault.body)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return  # the emulator behind logs every request itself

    return Handler


def _wait_for(port: int, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the emulator exited with code {child.returncode} before it "
                             "answered")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
    raise SystemExit(f"the emulator did not answer on {HOST}:{port} within {timeout:g}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="fault-injecting proxy for one emulator")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--upstream-port", type=int, required=True, help="the emulator's port")
    parser.add_argument("--service", required=True, help="sandbox service name (fault rules)")
    parser.add_argument("--faults", type=Path, required=True, help="fault plan (JSON)")
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- emulator command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("the emulator command is missing (after --)")
    child = subprocess.Popen(command)

    def stop(signum: int, frame: Any) -> None:
        child.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        _wait_for(args.upstream_port, child, args.startup_timeout)
        injector = FaultInjector(args.faults, args.service)
        server = ThreadingHTTPServer((HOST, args.port),
                                     make_handler(args.upstream_port, injector))
        server.daemon_threads = True
        print(f"fault proxy for {args.service} on http://{HOST}:{args.port} -> "
              f":{args.upstream_port}", file=sys.stderr, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
