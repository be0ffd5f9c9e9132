"""The dev server lifecycle: started loopback-only on free ports, stopped exactly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from provision.errors import ExecutorError
from provision.executor.temporal_server import (TEMPORAL_CLI_VERSION, DevServer, cli_version,
                                                find_temporal)
from provision.sandbox import process


def test_the_pinned_cli_is_found_and_reports_its_version() -> None:
    binary = find_temporal()
    assert cli_version(binary) == TEMPORAL_CLI_VERSION


def test_a_wrong_override_is_skipped_and_a_missing_cli_says_how_to_build_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_TEMPORAL_BIN", str(tmp_path / "nope"))
    assert find_temporal().name == "temporal"          # the cache still has it
    with pytest.raises(ExecutorError, match="Temporal CLI v0.0.1") as raised:
        find_temporal("0.0.1")
    assert "build-temporal.sh 0.0.1" in raised.value.hint


def test_start_serves_grpc_on_loopback_and_stop_ends_exactly_that_process(tmp_path: Path) -> None:
    server = DevServer(tmp_path / "dev.sqlite")
    with server:
        pid, command = server.pid, list(server.command)
        assert pid is not None and server.running()
        assert process.answers_http2(server.port)
        assert "--headless" in command and "127.0.0.1" in command
        assert "frontend.enableServerVersionCheck=false" in command
        assert (tmp_path / "dev.sqlite").exists()
    assert not server.processes.is_alive(pid)
    assert not process.answers_http2(server.port)
    server.stop()                                       # idempotent


def test_with_ui_the_web_ui_answers_on_loopback_and_links_a_workflow(tmp_path: Path) -> None:
    with DevServer(tmp_path / "dev.sqlite", ui=True) as server:
        assert "--headless" not in server.command
        deadline = time.monotonic() + 30
        while not process.answers_http(server.ui_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.answers_http(server.ui_port)
        assert server.workflow_url("provision/demo/dev") == (
            f"http://127.0.0.1:{server.ui_port}/namespaces/default/workflows/provision%2Fdemo%2Fdev")


def test_a_server_left_by_a_killed_provision_is_stopped_by_the_next_start(tmp_path: Path) -> None:
    left = DevServer(tmp_path / "dev.sqlite").start()
    pid = left.pid
    assert pid is not None and left.pid_file.exists()
    # The provision that started it dies without stopping it: a new one takes its file.
    again = DevServer(tmp_path / "dev.sqlite")
    with again:
        assert not left.processes.is_alive(pid)
        assert again.pid != pid and again.running()
    assert not again.pid_file.exists()
    left.pid = None
