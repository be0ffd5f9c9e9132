"""Shared fixtures: ``sandbox``, the local emulators for the whole test session.

The fixture starts a :class:`provision.sandbox.Sandbox` in a temporary home,
yields its :class:`~provision.sandbox.SandboxStatus` (endpoints and
``cloud_settings()`` for environment ``local``) and stops exactly those
processes at the end. On a fresh machine it installs Azurite first.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from types import FrameType
from pathlib import Path

# Imported before any test runs the Pulumi engine in-process: imported first at the
# end of a session (by its pytest plugin's summary hook), CPython 3.11's AST check
# fails while pytest rewrites it ("AST constructor recursion depth mismatch").
import hypothesis
import pytest

from provision.sandbox import Sandbox, SandboxStatus
from provision.sandbox import tools

ROOT = Path(__file__).resolve().parent.parent

# Property tests on a shared, loaded machine: the time hypothesis takes to generate
# data is not a property of the code, so its "too slow" health check is off; a
# failure prints the blob that reproduces it (@reproduce_failure).
hypothesis.settings.register_profile(
    "provision", suppress_health_check=[hypothesis.HealthCheck.too_slow], print_blob=True)
hypothesis.settings.load_profile("provision")


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """A test session ended by SIGTERM (a CI timeout, ``kill``) ends like one ended by
    Ctrl-C: pytest then still runs the session fixtures' teardown, which stops the
    emulators it started instead of leaving them to init."""
    signal.signal(signal.SIGTERM, _interrupted)


def _ensure_azurite() -> None:
    if tools.azurite_blob_script().is_file():
        return
    script = ROOT / tools.INSTALL_SCRIPT
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not tools.azurite_blob_script().is_file():
        pytest.fail(f"{script} could not install Azurite (exit {result.returncode}):\n{result.stderr}")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxStatus]:
    """The running local sandbox (all six emulators on 127.0.0.1) for this session."""
    _ensure_azurite()
    box = Sandbox(tmp_path_factory.mktemp("sandbox"))
    try:
        yield box.up()
    finally:
        box.down()


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process commands keep their local state (run history, plans) in a temporary
    home, never in the working tree's .provision/ (subprocess tests set their own)."""
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("PROVISION_HISTORY_DB", raising=False)


@pytest.fixture(scope="session")
def fault_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A second sandbox whose services take fault plans (``up(faults=...)``), with no
    faults until a test sets a plan; tests set the plan they need and clear it after."""
    _ensure_azurite()
    from provision.sandbox.faults import FaultPlan

    box = Sandbox(tmp_path_factory.mktemp("fault-sandbox"))
    try:
        box.up(faults=FaultPlan())
        yield box
    finally:
        box.down()
