"""Health checks against a fake probe and a real local HTTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from provision.errors import CloudError
from provision.rollout.health import run_checks
from provision.spec.model import HealthCheck


class _Probe:
    def __init__(self, live: dict[str, dict[str, Any]], outputs: dict[str, dict[str, Any]]) -> None:
        self._live, self._outputs = live, outputs

    def live(self, resource_id: str) -> dict[str, Any] | None:
        if resource_id == "broken":
            raise CloudError("access denied", resource="broken")
        return self._live.get(resource_id)

    def output(self, resource_id: str, attribute: str) -> Any:
        return self._outputs[resource_id][attribute]

    def secret(self, resource_id: str, attribute: str) -> bool:
        return attribute == "token"


PROBE = _Probe({"logs": {"bucket": "b1", "tags": {"env": "dev", "owner": "me"}}},
               {"logs": {"arn": "arn:aws:s3:::b1", "bucket": "b1", "token": "hunter2"}})


def _run(*checks: HealthCheck) -> list[tuple[bool, str]]:
    return [(r.passed, r.detail) for r in run_checks(list(checks), PROBE)]


def test_resource_checks() -> None:
    [ok, wrong, missing, error] = _run(
        HealthCheck("a", "resource", "logs", expect={"tags": {"env": "dev"}}),
        HealthCheck("b", "resource", "logs", expect={"bucket": "other"}),
        HealthCheck("c", "resource", "gone"),
        HealthCheck("d", "resource", "broken"))
    assert ok[0] and not wrong[0] and "bucket='b1' (expected 'other')" in wrong[1]
    assert not missing[0] and "does not exist" in missing[1]
    assert not error[0] and "access denied" in error[1]


def test_output_checks() -> None:
    results = _run(HealthCheck("a", "output", "logs.arn", matches=r"^arn:aws:s3:::"),
                   HealthCheck("b", "output", "logs.bucket", equals="b1"),
                   HealthCheck("c", "output", "logs.bucket", equals="b2"),
                   HealthCheck("d", "output", "logs.nope", equals="x"),
                   HealthCheck("e", "output", "logs.arn", matches=r"^gs://"))
    assert [p for p, _ in results] == [True, True, False, False, False]
    assert "expected 'b2'" in results[2][1] and "no output 'logs.nope'" in results[3][1]


def test_secret_values_are_never_shown() -> None:
    [(passed, detail)] = _run(HealthCheck("t", "output", "logs.token", equals="other"))
    assert not passed and "hunter2" not in detail and "other" not in detail
    assert "(secret)" in detail


class _Server:
    """Answers GET with the next status of ``statuses`` (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.hits = list(statuses), 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.hits += 1
                code = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/health"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[type[_Server]]:
    made: list[_Server] = []

    def make(statuses: list[int]) -> _Server:
        s = _Server(statuses)
        made.append(s)
        return s

    yield make  # type: ignore[misc]
    for s in made:
        s.close()


def test_http_retries_until_expected_status(server: Any) -> None:
    srv = server([503, 503, 200])
    [(passed, detail)] = _run(HealthCheck("web", "http", srv.url, retries=3, interval=0.01))
    assert passed and detail == "HTTP 200" and srv.hits == 3


def test_http_fails_after_retries(server: Any) -> None:
    srv = server([500])
    [(passed, detail)] = _run(HealthCheck("web", "http", srv.url, status=(200, 204), retries=2,
                                          interval=0.01))
    assert not passed and "answered HTTP 500, expected 200/204" in detail and srv.hits == 3


def test_http_unreachable_and_credentials_not_shown() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    [result] = run_checks([HealthCheck("web", "http", f"http://user:s3cret@127.0.0.1:{port}/",
                                       retries=1, interval=0.01, timeout=1)], PROBE)
    assert not result.passed and "no answer" in result.detail and "2 attempt(s)" in result.detail
    assert "s3cret" not in result.detail and "s3cret" not in result.target
