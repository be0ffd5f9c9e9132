"""JUnit XML parses with junitparser: one testcase per rule x resource, verdicts per status."""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from provision.report import render
from report_helpers import sample_report


def _parse(tmp_path: Path) -> JUnitXml:
    path = tmp_path / "policy.xml"
    path.write_text(render(sample_report(), "junit"))
    return JUnitXml.fromfile(str(path))


def test_one_testcase_per_rule_and_resource(tmp_path: Path) -> None:
    xml = _parse(tmp_path)
    names = [case.name for suite in xml for case in suite]
    # 8 results, two of them on the same rule x resource (PRV-T-002 logs)
    assert len(names) == len(set(names)) == 7
    assert "PRV-T-002 logs [storage]" in names


def test_verdicts_follow_the_status(tmp_path: Path) -> None:
    xml = _parse(tmp_path)
    verdicts = {}
    for suite in xml:
        for case in suite:
            kinds = {type(r) for r in case.result}
            verdicts[case.name] = ("failure" if Failure in kinds else "error" if Error in kinds
                                   else "skipped" if Skipped in kinds else "passed")
    assert verdicts == {
        "PRV-T-001 logs [storage]": "failure",
        "PRV-T-001 site [storage]": "passed",
        "PRV-T-001 legacy [storage]": "skipped",     # waived
        "PRV-T-002 logs [storage]": "passed",        # advisory warning: in system-out
        "PRV-T-003 site [storage]": "skipped",       # deferred
        "PRV-T-004 site [storage]": "error",
        "PRV-T-003 (input) [storage]": "failure",
    }


def test_suite_counts_and_locations(tmp_path: Path) -> None:
    xml = _parse(tmp_path)
    suites = {s.name: s for s in xml}
    assert (suites["aws"].tests, suites["aws"].failures, suites["aws"].skipped) == (4, 1, 1)
    assert (suites["gov"].tests, suites["gov"].failures, suites["gov"].errors) == (3, 1, 1)
    logs = next(c for c in suites["aws"] if c.name == "PRV-T-001 logs [storage]")
    assert logs.classname == "aws.PRV-T-001"
    assert logs._elem.get("file") == "stacks/app.yaml" and logs._elem.get("line") == "10"
    warn = next(c for c in suites["aws"] if c.name == "PRV-T-002 logs [storage]")
    assert "a second warning, same case" in (warn.system_out or "")
