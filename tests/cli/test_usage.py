"""The usage-error sweep: every command, run with a missing argument, an unknown option
and an invalid value, prints the usage line and the problem and exits 2 — never
"internal error". Runs the console-script entry point in-process (parsing fails
before any command body runs, so nothing is touched)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import typer

from provision.cli import main


def _leaves(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        return [(path, command)]
    found = [(path, command)] if path else []
    for name, sub in sorted(subcommands.items()):
        found += _leaves(sub, path + (name,))
    return found


COMMANDS = _leaves(typer.main.get_command(main.app))
GROUPS = [path for path, cmd in COMMANDS if hasattr(cmd, "commands")]
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not hasattr(cmd, "commands")]


def _required(cmd: Any) -> bool:
    return any(p.required for p in cmd.params)


def _filled(cmd: Any) -> list[str]:
    """Arguments and required options with plausible values."""
    args: list[str] = []
    for p in cmd.params:
        if p.param_type_name == "argument" and p.required:
            args.append("spec.yaml")
        elif p.param_type_name == "option" and p.required:
            args += [p.opts[0], "local"]
    return args


def _invalid(cmd: Any) -> list[str] | None:
    """One option given a value it cannot take: a bad number or choice, or a flag's value."""
    for p in cmd.params:
        if p.param_type_name != "option" or p.hidden:
            continue
        numeric = getattr(p.type, "name", "").split()[0] in ("integer", "float")
        if numeric or p.callback is not None:
            return [p.opts[0], "not-a-valid-value"]
    for p in cmd.params:
        if p.param_type_name == "option" and getattr(p, "is_flag", False) and p.opts[0] != "--help":
            return [f"{p.opts[0]}=bogus"]
    return None


def run(args: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["provision", *args])
    with pytest.raises(SystemExit) as exited:
        main.run()
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out + captured.err


CASES: list[Any] = []
for path, cmd in LEAVES:
    name = " ".join(path)
    CASES.append(pytest.param([*path, *_filled(cmd), "--no-such-option"], "No such option",
                              id=f"{name}: unknown option"))
    if _required(cmd):
        CASES.append(pytest.param(list(path), "Missing", id=f"{name}: missing argument"))
    invalid = _invalid(cmd)
    if invalid is not None:
        CASES.append(pytest.param([*path, *_filled(cmd), *invalid], "",
                                  id=f"{name}: invalid value"))
CASES += [pytest.param(list(path), "", id=f"{' '.join(path)}: no subcommand") for path in GROUPS]
CASES += [pytest.param(["no-such-command"], "No such command", id="unknown command"),
          pytest.param([*GROUPS[0], "no-such-command"], "No such command",
                       id="unknown subcommand")]


@pytest.mark.parametrize("args,problem", CASES)
def test_usage_error_exits_2(args: list[str], problem: str, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(args, capsys, monkeypatch)
    assert code == 2, output
    assert "Usage: provision" in output and problem in output
    assert "internal error" not in output and "Traceback" not in output


def test_the_sweep_covers_every_command_and_the_three_kinds() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"plan", "apply", "destroy", "validate", "graph", "sandbox up",
            "policy check", "policy test"} <= names
    ids = [case.id for case in CASES]
    for path, _ in LEAVES:
        assert f"{' '.join(path)}: unknown option" in ids
    assert sum(i.endswith("missing argument") for i in ids) >= 5
    assert sum(i.endswith("invalid value") for i in ids) >= len(LEAVES) - 2


@pytest.mark.parametrize("path", [path for path, _ in LEAVES], ids=" ".join)
def test_usage_lines_name_arguments_in_capitals_with_no_placeholder_braces(
        path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["provision", *path, "--help"])
    with pytest.raises(SystemExit):
        main.run()
    usage = next(line for line in capsys.readouterr().out.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    words = usage.split("[OPTIONS]", 1)[-1].split()
    assert all(w.strip("[].").isupper() for w in words), usage


@pytest.mark.parametrize("path", [path for path, _ in LEAVES], ids=" ".join)
def test_help_shows_no_value_placeholder_after_a_flag(
        path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A flag (``--yes``, ``--json``, ``--help``) takes no value, so its help line
    must not show one (Typer 0.29 printed ``<bool>`` after every flag)."""
    monkeypatch.setattr(sys, "argv", ["provision", *path, "--help"])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main.run()
    out = capsys.readouterr().out
    assert "--help" in out
    assert "<bool>" not in out, out
