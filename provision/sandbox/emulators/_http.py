"""A tiny JSON-over-HTTP server base shared by the emulators (stdlib only).

Handlers return a :class:`Reply` or raise :class:`HttpError`; the server binds
127.0.0.1 only and logs one line per request without query strings or headers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from provision.sandbox.faults import Fault, FaultInjector

HOST = "127.0.0.1"


@dataclass
class Request:
    method: str
    path: str
    # Query parameters; keys as sent (callers look up case-insensitively when the API does).
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # scheme://host:port as the client addressed us

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable; None sends no body
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.reply = Reply(status, body, headers or {})


App = Callable[[Request], Reply]


def make_handler(app: App, extra_headers: Callable[[], dict[str, str]] | None = None,
                 on_error: Callable[[Exception], Reply] | None = None,
                 faults: FaultInjector | None = None) -> type[BaseHTTPRequestHandler]:
    """A request handler class that routes every method to ``app``, applying the fault
    plan of ``faults`` (see :mod:`provision.sandbox.faults`) to each request."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "provision-emulator"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            host = self.headers.get("Host") or HOST
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                base_url=f"http://{host}",
            )
            fault = (faults.decide(self.command, self.path, body) if faults is not None
                     else None)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None and not fault.after:
                self._send(_fault_reply(fault))
                return
            try:
                reply = app(request)
            except HttpError as exc:
                reply = exc.reply
            except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer
                if on_error is None:
                    raise
                reply = on_error(exc)
            if fault is not None and fault.status is not None:
                reply = _fault_reply(fault)  # the work is done; the answer is lost
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            headers = dict(extra_headers() if extra_headers else {})
            headers.update(reply.headers)
            if reply.body is not None:
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            # One line per request, without the query string (it may carry tokens).
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path} -> {args[1] if len(args) > 1 else ''}\n")

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.log_message("%s %s %s", self.requestline, str(code), str(size))

    return Handler


def _fault_reply(fault: Fault) -> Reply:
    return Reply(fault.status or 500, json.loads(fault.body) if fault.body else None,
                 dict(fault.headers))


def request_id() -> str:
    return str(uuid.uuid4())


def serve(description: str, app: App, argv: list[str] | None = None, *,
          extra_headers: Callable[[], dict[str, str]] | None = None,
          on_error: Callable[[Exception], Reply] | None = None,
          configure: Callable[[argparse.ArgumentParser], None] | None = None,
          apply: Callable[[argparse.Namespace], None] | None = None) -> None:
    """Parse ``--port`` and serve ``app`` on 127.0.0.1 until interrupted or terminated."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--faults", type=Path, default=None,
                        help="fault plan (JSON) to apply, read again whenever it changes")
    parser.add_argument("--service", default="", help="the sandbox service name, for fault rules")
    if configure is not None:
        configure(parser)
    args = parser.parse_args(argv)
    if apply is not None:
        apply(args)
    faults = FaultInjector(args.faults, args.service) if args.faults is not None else None
    server = ThreadingHTTPServer((HOST, args.port),
                                 make_handler(app, extra_headers, on_error, faults))
    server.daemon_threads = True
    print(f"{description} listening on http://{HOST}:{args.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
