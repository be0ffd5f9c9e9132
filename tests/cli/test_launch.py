"""The ``provision`` console script (provision.cli.launch): an interrupt at any moment
ends it with exit 130 and the one line ``interrupted``, never a traceback or an
"internal error". Each case sends the SIGINT from inside the process at a chosen import
(no timing involved)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

# Runs the console script's entry point with a SIGINT sent to the process itself when
# module sys.argv[1] is first imported.
INTERRUPT_AT = r'''
import importlib.abc, os, signal, sys
target = sys.argv.pop(1)
class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv[0] = "provision"
from provision.cli.launch import entry
entry()
'''


def _interrupted_at(module: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", INTERRUPT_AT, module, "plan", "spec.yaml",
                           "--env", "dev"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_console_script_is_the_launcher() -> None:
    [script] = [e for e in entry_points(group="console_scripts") if e.name == "provision"]
    assert script.value == "provision.cli.launch:entry"


@pytest.mark.parametrize("module", ["typer", "provision.cli.commands"])
def test_an_interrupt_while_loading_or_in_a_command_is_one_line_and_130(
        module: str, tmp_path: Path) -> None:
    # typer: while the CLI loads; provision.cli.commands: imported by 'plan' on use.
    done = _interrupted_at(module, tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted\n", "")


def test_an_error_after_an_interrupt_is_the_interrupt(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A library cut short by the interrupt may fail afterwards (a half-imported module:
    ImportError): that is the interrupt, not an internal error."""
    from provision.cli import main
    from provision.cli.launch import InterruptWatch

    watch = InterruptWatch()
    watch.loading = False
    signals = [True]

    def cut_short(**kwargs: object) -> int:
        watch.seen = bool(signals and signals.pop())
        raise ImportError("cannot import name 'EMOJI' from partially initialized module")

    monkeypatch.setattr(main, "app", cut_short)
    with pytest.raises(SystemExit) as exited:
        main.run(watch)
    assert exited.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"
    # Without an interrupt the same error is a bug, and said so.
    with pytest.raises(SystemExit) as exited:
        main.run(watch)
    assert exited.value.code == 1 and "internal error: ImportError" in capsys.readouterr().err


def test_an_interrupted_command_leaves_without_finalizing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Finalizing puts Python's default SIGINT handler back: another Ctrl-C then would
    kill the process by the signal. An interrupted command leaves with its 130 at once."""
    from provision.cli import main
    from provision.cli.launch import InterruptWatch

    left: list[int] = []
    monkeypatch.setattr(main.os, "_exit", left.append)
    monkeypatch.delitem(sys.modules, main._TEMPORAL_BRIDGE, raising=False)

    def interrupted(watch: object) -> None:
        raise SystemExit(130)

    monkeypatch.setattr(main, "run", interrupted)
    main.entry(InterruptWatch())
    assert left == [130]
