"""Terminal table of a policy report (rich): problems first, then a one-line summary."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from provision.policy.model import PolicyReport, Status
from provision.report.common import STATUS_ORDER, location

_STYLE = {
    Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.WARN: "yellow",
    Status.WAIVED: "cyan", Status.DEFERRED: "blue", Status.PASS: "green",
}


class TableReporter:
    format = "table"

    def __init__(self, *, show_pass: bool = False, width: int = 140, color: bool = False) -> None:
        self.show_pass = show_pass
        self.width = width
        self.color = color

    def render(self, report: PolicyReport) -> str:
        buffer = io.StringIO()
        console = Console(file=buffer, width=self.width, color_system="standard" if self.color
                          else None, force_terminal=self.color, highlight=False)
        shown = [r for r in report.results if self.show_pass or r.status is not Status.PASS]
        shown.sort(key=lambda r: (STATUS_ORDER[r.status], r.rule_id, r.resource_id))
        title = f"policy {report.phase.value}-check, env {report.env}"
        if report.stage:
            title += f", stage {report.stage}"
        if shown:
            table = Table(title=Text(title), show_lines=False, expand=False)
            for column in ("status", "rule", "severity", "resource", "stage", "where", "message"):
                table.add_column(column, overflow="fold")
            for r in shown:
                message = r.message + (f" [waiver: {r.waiver}]" if r.waiver and
                                       r.waiver not in r.message else "")
                # Every cell is Text, never markup: "[...]" in a message, waiver note or
                # resource name prints as written.
                table.add_row(Text(r.status.value.upper(), style=_STYLE[r.status]),
                              *(Text(cell) for cell in (
                                  r.rule_id, r.severity.value,
                                  f"{r.resource_id} ({r.resource_type})" if r.resource_id
                                  else "-", r.stage or "-", location(r) or "-", message)))
            console.print(table)
        else:
            console.print(title, markup=False)
        counts = report.counts()
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        verdict = (f"BLOCKED by {len(report.blocking_results())} mandatory violation(s)"
                   if report.blocking else "no mandatory violation")
        console.print(f"{len(report.results)} result(s): {summary or 'none'} -- {verdict}",
                      markup=False)
        return buffer.getvalue()
