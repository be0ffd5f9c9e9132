"""JSON report: the results, rules and summary as data."""

from __future__ import annotations

import json

from provision.report import render
from report_helpers import sample_report


def test_json_report_round_trips_results_and_summary() -> None:
    report = sample_report()
    data = json.loads(render(report, "json"))
    assert data["format"] == "provision-policy-report"
    assert data["ok"] is False and data["blocking"] == 3
    assert data["summary"] == {"pass": 1, "fail": 2, "warn": 2, "deferred": 1, "waived": 1,
                               "error": 1}
    assert len(data["results"]) == len(report.results)
    first = data["results"][0]
    assert {k: first[k] for k in ("rule_id", "status", "resource_id", "file", "line", "phase")} == {
        "rule_id": "PRV-T-001", "status": "fail", "resource_id": "logs",
        "file": "stacks/app.yaml", "line": 10, "phase": "pre"}
    assert data["rules"]["PRV-T-002"]["enforcement"] == "advisory"
    assert data["rules"]["PRV-T-001"]["remediation"] == "fix PRV-T-001"
