"""The CI examples in docs/ci/ parse as YAML and use only commands and options the CLI has."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
import yaml

from cli_helpers import REPO
from provision.cli.main import app

CI = REPO / "docs" / "ci"


def _command(words: list[str]) -> tuple[str, Any]:
    """The (sub)command the words name, and its path ('' when none). Typer vendors its
    own click, so groups are recognised by their ``commands``."""
    cmd: Any = typer.main.get_command(app)
    path: list[str] = []
    for word in words:
        if word not in getattr(cmd, "commands", {}):
            break
        cmd = cmd.commands[word]
        path.append(word)
    return " ".join(path), cmd


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_example_uses_real_commands(name: str) -> None:
    text = (CI / name).read_text()
    yaml.safe_load(text)
    calls = re.findall(r"\.venv/bin/provision ([^\n>|;]+)", text)
    assert len(calls) >= 4
    used = set()
    for call in calls:
        words = call.split()
        path, cmd = _command(words[:2])
        assert path and not hasattr(cmd, "commands"), call
        used.add(path)
        options = {o for p in cmd.params for o in getattr(p, "opts", [])}
        for word in words:
            if word.startswith("-"):
                assert word in options, f"{name}: {call}: unknown option {word}"
    assert {"rollout", "approve"} <= used
