"""Table report: problems listed worst first, passes hidden by default, a verdict line."""

from __future__ import annotations

import pytest

from provision.errors import PolicyError
from provision.policy.model import Phase, PolicyReport, Status
from provision.report import render, reporter
from provision.report.table import TableReporter
from report_helpers import RULES, result, sample_report


def test_table_lists_problems_worst_first_and_the_verdict() -> None:
    text = render(sample_report(), "table")
    rows = [line for line in text.splitlines() if "PRV-T-" in line]
    statuses = [row.split("│")[1].strip() for row in rows]
    assert statuses == ["ERROR", "FAIL", "FAIL", "WARN", "WARN", "WAIVED", "DEFERRED"]
    assert "stacks/app.yaml:10" in text
    assert "BLOCKED by 3 mandatory violation(s)" in text
    assert "PASS" not in statuses


def test_table_can_show_passes_and_says_clean() -> None:
    report = PolicyReport(Phase.PRE, "dev", "", [result("PRV-T-001", Status.PASS, "site")],
                          dict(RULES))
    assert "PASS" in TableReporter(show_pass=True).render(report)
    assert "no mandatory violation" in render(report, "table")


def test_factory_knows_every_format_and_rejects_others() -> None:
    assert {reporter(f).format for f in ("table", "json", "sarif", "junit")} == {
        "table", "json", "sarif", "junit"}
    with pytest.raises(PolicyError, match="unknown report format 'html'"):
        reporter("html")


def test_brackets_in_messages_waivers_and_names_print_as_written() -> None:
    """Rich markup never eats text: "[...]" stays in the table view."""
    report = PolicyReport(Phase.PRE, "dev[x]", "", [
        result("PRV-T-001", Status.FAIL, "logs[0]",
               message="bucket is public [waiver expired on 2024-01-31 (bob: [b]old)]"),
        result("PRV-T-002", Status.WAIVED, "site", waiver="alice: see [red]SEC-1[/red]"),
    ], dict(RULES))
    text = TableReporter(width=400).render(report)
    assert "bucket is public [waiver expired on 2024-01-31 (bob: [b]old)]" in text
    assert "[waiver: alice: see [red]SEC-1[/red]]" in text
    assert "logs[0] (aws:s3:Bucket)" in text
    assert "env dev[x]" in text
