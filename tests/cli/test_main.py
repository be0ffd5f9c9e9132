"""The CLI's help lists every command."""

from __future__ import annotations

from cli_helpers import Run


def test_help_lists_every_command(run_cli: Run) -> None:
    result = run_cli("--help")
    assert result.code == 0, result.stderr
    for command in ("plan", "apply", "destroy", "validate", "graph", "sandbox", "policy"):
        assert command in result.stdout


def test_policy_help_lists_its_commands(run_cli: Run) -> None:
    result = run_cli("policy", "--help")
    assert result.code == 0, result.stderr
    assert "check" in result.stdout and "test" in result.stdout
