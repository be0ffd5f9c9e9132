"""Shared parameter checks for the command line: a bad value is a usage error (exit 2)."""

from __future__ import annotations

from typing import Callable

import typer


def choice(*allowed: str) -> Callable[[str], str]:
    """A Typer callback accepting one of ``allowed`` (an empty default passes through)."""

    def check(value: str) -> str:
        if value and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    return check
