"""Where the sandbox looks for Azurite, and the script that installs it there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from provision.errors import SandboxError
from provision.sandbox import AZURITE_VERSION, tools

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / tools.INSTALL_SCRIPT


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROVISION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tools.cache_dir() == tmp_path / "xdg" / "provision"
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "explicit"))
    assert tools.cache_dir() == tmp_path / "explicit"
    assert tools.azurite_prefix() == tmp_path / "explicit" / "npm" / f"azurite-{AZURITE_VERSION}"


def test_missing_azurite_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path))
    with pytest.raises(SandboxError) as info:
        tools.azurite_blob_command()
    assert str(tools.azurite_blob_script()) in info.value.message
    assert "make setup" in info.value.hint and tools.INSTALL_SCRIPT in info.value.hint


def test_install_script_pins_the_same_version() -> None:
    match = re.search(r'^version="([^"]+)"$', SCRIPT.read_text(), re.M)
    assert match is not None and match.group(1) == AZURITE_VERSION


def test_install_script_is_idempotent_and_prints_the_bin_dir() -> None:
    first = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600, check=True)
    second = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60, check=True)
    bin_dir = tools.azurite_prefix() / "node_modules" / ".bin"
    assert first.stdout.strip() == second.stdout.strip() == str(bin_dir)
    assert "installing" not in second.stderr  # already there: nothing fetched
    assert tools.azurite_blob_script().is_file()
    command = tools.azurite_blob_command()
    assert Path(command[0]).name == "node" and command[1] == str(tools.azurite_blob_script())
