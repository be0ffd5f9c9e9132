"""Policy reports: one reporter per format, chosen by one factory.

    from provision.report import render, reporter, FORMATS

    text = render(policy_report, "sarif")          # or reporter("sarif").render(report)

Formats: ``table`` (rich, for terminals), ``json`` (the report as data),
``sarif`` (SARIF 2.1.0 for code-scanning tools), ``junit`` (JUnit XML, one
testcase per rule x resource, for CI test views).
"""

from __future__ import annotations

from typing import Callable, Protocol

from provision.errors import PolicyError
from provision.policy.model import PolicyReport


class Reporter(Protocol):
    """Renders a :class:`PolicyReport` to text in one format."""

    format: str

    def render(self, report: PolicyReport) -> str: ...


def _table() -> Reporter:
    from provision.report.table import TableReporter
    return TableReporter()


def _json() -> Reporter:
    from provision.report.json_report import JsonReporter
    return JsonReporter()


def _sarif() -> Reporter:
    from provision.report.sarif import SarifReporter
    return SarifReporter()


def _junit() -> Reporter:
    from provision.report.junit import JUnitReporter
    return JUnitReporter()


_FACTORIES: dict[str, Callable[[], Reporter]] = {
    "table": _table, "json": _json, "sarif": _sarif, "junit": _junit,
}
FORMATS: tuple[str, ...] = tuple(_FACTORIES)


def reporter(fmt: str) -> Reporter:
    """The reporter for ``fmt``; PolicyError names the known formats otherwise."""
    try:
        return _FACTORIES[fmt]()
    except KeyError:
        raise PolicyError(f"unknown report format '{fmt}'",
                          hint=f"use one of: {', '.join(FORMATS)}") from None


def render(report: PolicyReport, fmt: str) -> str:
    return reporter(fmt).render(report)


__all__ = ["FORMATS", "Reporter", "render", "reporter"]
