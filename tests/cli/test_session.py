"""provision/cli/session.py: a sandbox environment's stacks made with the generated
passphrase file, opened while a passphrase variable overrides it, get an error that
says so (not "incorrect passphrase ... restore the file")."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.cli.session import _overridden
from provision.spec.model import Environment

# Made by `pulumi stack init` (v3.260.0) with PULUMI_CONFIG_PASSPHRASE=right.
SALT = "v1:1o3Fi3JO92A=:v1:fGUXF5SzRLJQDn14:RkWCg9ZCK/kX5W764rnn6aF1Og0mxw=="


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path))
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    return tmp_path


def test_a_variable_overriding_the_generated_file_is_named(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "passphrase").write_text("right\n")
    monkeypatch.setenv("PROVISION_PASSPHRASE", "something-else")
    error = _overridden(Environment("local"), {"demo.local.aws": SALT})
    assert error is not None
    assert str(error).startswith(f"the stacks of 'local' were made with the generated "
                                 f"passphrase {home / 'passphrase'}, but PROVISION_PASSPHRASE "
                                 "is set and takes precedence")
    assert "unset PROVISION_PASSPHRASE" in error.hint
    assert "something-else" not in str(error) + error.hint


@pytest.mark.parametrize("case", ["file opens nothing", "no variable", "not a sandbox"])
def test_otherwise_the_incorrect_passphrase_error_stands(
        case: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "passphrase").write_text("wrong" if case == "file opens nothing" else "right")
    if case == "no variable":
        monkeypatch.delenv("PROVISION_PASSPHRASE", raising=False)
    else:
        monkeypatch.setenv("PROVISION_PASSPHRASE", "something-else")
    env = Environment("prod", clouds={"aws": {"region": "eu-west-1"}}) \
        if case == "not a sandbox" else Environment("local")
    assert _overridden(env, {"demo.x.aws": SALT}) is None
