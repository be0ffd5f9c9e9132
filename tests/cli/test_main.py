"""The CLI's start path: importing the command line stays light, every command is listed."""

from __future__ import annotations

import json
import subprocess
import sys

from cli_helpers import Run

# Packages whose import costs tenths of a second (or a cloud SDK, which the core
# never imports): none of them may load before a command runs.
HEAVY = ("pulumi", "boto3", "botocore", "azure", "google", "hcl2", "lark", "regopy", "yaml",
         "pydantic", "rich", "providers", "provision.engine", "provision.policy",
         "provision.spec", "provision.plan", "provision.cli.commands", "provision.cli.session")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return list(json.loads(out.splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_package() -> None:
    loaded = _loaded_after("import provision.cli.main")
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


def test_the_probe_sees_heavy_imports() -> None:
    # The control: the same probe does notice a command's implementation.
    loaded = _loaded_after("import provision.cli.main\nimport provision.cli.commands")
    assert "pulumi" in loaded and "provision.engine.runner" in loaded


def test_help_lists_every_command(run_cli: Run) -> None:
    result = run_cli("--help")
    assert result.code == 0, result.stderr
    for command in ("plan", "apply", "destroy", "validate", "graph", "sandbox", "policy"):
        assert command in result.stdout


def test_policy_help_lists_its_commands(run_cli: Run) -> None:
    result = run_cli("policy", "--help")
    assert result.code == 0, result.stderr
    assert "check" in result.stdout and "test" in result.stdout
