"""Helpers to run the real ``provision`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import Result, Run


@pytest.fixture
def provision_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def run_cli(tmp_path: Path, provision_home: Path) -> Run:
    """Run ``python -m provision.cli.main ARGS`` from ``tmp_path`` (or ``cwd``)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 600) -> Result:
        full_env = {**os.environ, "PROVISION_HOME": str(provision_home),
                    "PROVISION_SANDBOX_DIR": str(provision_home / "no-sandbox"),
                    **(env or {})}
        full_env.pop("PROVISION_PASSPHRASE", None)
        proc = subprocess.run([sys.executable, "-m", "provision.cli.main", *args],
                              cwd=cwd or tmp_path, env=full_env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
