"""Finding the Pulumi CLI: its version is asked once per binary (memo in the process
and in the cache directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provision.engine import toolchain
from provision.engine.toolchain import cli_version, find_toolchain, sdk_version
from provision.errors import ToolchainError


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test with its own versions file, and nothing remembered in the process."""
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "cache"))
    toolchain._version_of.cache_clear()


def _fake_cli(bin_dir: Path, version: str) -> Path:
    """A ``pulumi`` that prints ``version`` and counts its runs in ``calls``."""
    bin_dir.mkdir(parents=True)
    calls = bin_dir / "calls"
    script = bin_dir / "pulumi"
    script.write_text(f"#!/bin/sh\necho run >> '{calls}'\necho v{version}\n")
    script.chmod(0o755)
    (bin_dir / "pulumi-resource-pulumi-python").write_text("#!/bin/sh\n")
    return calls


def _runs(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_version_is_asked_once_per_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_cli(tmp_path / "bin", sdk_version())
    monkeypatch.setenv("PROVISION_PULUMI_BIN", str(tmp_path / "bin"))
    first = find_toolchain()
    second = find_toolchain()
    assert first == second and first.bin_dir == tmp_path / "bin"
    assert first.version == sdk_version()
    assert _runs(calls) == 1


def test_a_changed_binary_is_asked_again(tmp_path: Path) -> None:
    calls = _fake_cli(tmp_path / "bin", "3.1.0")
    binary = tmp_path / "bin" / "pulumi"
    assert cli_version(binary) == "3.1.0"
    assert cli_version(binary) == "3.1.0"
    binary.write_text(binary.read_text().replace("v3.1.0", "v3.2.0"))
    stat = binary.stat()
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cli_version(binary) == "3.2.0"
    assert _runs(calls) == 2


def test_the_next_process_does_not_ask_again(tmp_path: Path) -> None:
    calls = _fake_cli(tmp_path / "bin", "3.1.0")
    binary = tmp_path / "bin" / "pulumi"
    assert cli_version(binary) == "3.1.0"
    toolchain._version_of.cache_clear()          # as in a new process
    assert cli_version(binary) == "3.1.0"
    assert _runs(calls) == 1


def test_a_missing_binary_has_no_version(tmp_path: Path) -> None:
    assert cli_version(tmp_path / "nothing" / "pulumi") is None


def test_a_mismatched_cli_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_cli(tmp_path / "bin", "3.0.0")
    monkeypatch.setenv("PROVISION_PULUMI_BIN", str(tmp_path / "bin"))
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-dir"))
    with pytest.raises(ToolchainError, match=f"v{sdk_version()}"):
        find_toolchain()
