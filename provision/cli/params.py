"""Shared pieces of the command line: parameter checks (a bad value is a usage error,
exit 2) and the command class that writes usage lines in the usual form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:   # the click that Typer vendors
    from typer._click.core import Context


def choice(*allowed: str) -> Callable[[str], str]:
    """A Typer callback accepting one of ``allowed`` (an empty default passes through)."""

    def check(value: str) -> str:
        if value and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    return check


class Command(TyperCommand):
    """A command whose usage line names arguments the usual way: ``provision import
    [OPTIONS] SPEC RESOURCE_ID CLOUD_ID`` (required bare, optional in brackets), not
    Typer's ``{SPEC}``. Each argument sets its ``metavar`` (the name shown)."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece
                for piece in super().collect_usage_pieces(ctx)]
