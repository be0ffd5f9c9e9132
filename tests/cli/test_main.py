"""The CLI's help lists every command."""

from __future__ import annotations

import pytest

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


def test_the_start_path_loads_no_engine_and_no_cloud_sdk() -> None:
    """`provision --help` stays fast: the CLI module imports the engine, Pulumi and the
    cloud SDKs only inside the commands that use them."""
    import subprocess
    import sys

    code = ("import sys, provision.cli.main; "
            "print(sorted(m for m in ('pulumi', 'boto3', 'provision.engine.runner', "
            "'provision.cli.commands', 'azure.core', 'google.cloud.storage', 'temporalio') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_version_prints_the_installed_version(run_cli: Run) -> None:
    from importlib.metadata import version

    result = run_cli("--version")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == f"provision {version('provision')}"


def test_destroy_target_help_says_what_a_targeted_destroy_takes(run_cli: Run) -> None:
    """A targeted destroy also deletes what depends on the target (as Terraform's), so its
    help must not say what apply's says (the target and what it depends on)."""
    result = run_cli("destroy", "--help", env={"COLUMNS": "200"})
    assert "Only this resource and what depends on it" in result.stdout
    assert "what it depends on" not in result.stdout


def test_the_command_leaves_without_finalizing_once_the_temporal_sdk_is_loaded(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The Temporal SDK's native threads can abort interpreter finalization (exit -6
    instead of the command's code): the command's entry point flushes its output and
    leaves with its own exit code instead; without the SDK it exits normally."""
    import sys

    from provision.cli import main

    left: list[int] = []
    monkeypatch.setattr(main.os, "_exit", left.append)
    monkeypatch.setattr(sys, "argv", ["provision", "--version"])
    monkeypatch.delitem(sys.modules, main._TEMPORAL_BRIDGE, raising=False)
    with pytest.raises(SystemExit):
        main.entry()
    assert left == []
    monkeypatch.setitem(sys.modules, main._TEMPORAL_BRIDGE, object())  # type: ignore[arg-type]
    main.entry()
    assert left == [0] and capsys.readouterr().out.startswith("provision ")
    monkeypatch.setattr(sys, "argv", ["provision", "no-such-command"])
    main.entry()
    assert left == [0, 2]
