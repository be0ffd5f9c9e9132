"""JUnit XML: one testsuite per pack, one testcase per rule x resource.

A testcase fails (``<failure>``) on a mandatory violation, errors on a rule
error, is skipped when deferred or waived; an advisory ``warn`` passes with
the warning in ``<system-out>`` -- so the CI verdict matches the exit code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from provision.policy.model import PolicyReport, Status
from provision.report.common import TOOL_NAME, group_by_case, location, worst


class JUnitReporter:
    format = "junit"

    def render(self, report: PolicyReport) -> str:
        root = ET.Element("testsuites", name=f"{TOOL_NAME} {report.phase.value} {report.env}")
        suites: dict[str, ET.Element] = {}
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        per_suite: dict[str, dict[str, int]] = {}
        for (pack, rule_id, stage, resource_id), results in group_by_case(report.results).items():
            suite = suites.get(pack)
            if suite is None:
                suite = suites[pack] = ET.SubElement(root, "testsuite", name=pack)
                per_suite[pack] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            first = results[0]
            name = f"{rule_id} {resource_id or '(input)'}" + (f" [{stage}]" if stage else "")
            case = ET.SubElement(suite, "testcase", name=name, classname=f"{pack}.{rule_id}")
            if first.file:
                case.set("file", first.file)
                if first.line:
                    case.set("line", str(first.line))
            status = worst(results)
            lead = next(r for r in results if r.status is status)
            text = "\n".join(f"{r.status.value}: {r.message}" + (f" ({location(r)})"
                             if location(r) else "") for r in results)
            counts = per_suite[pack]
            counts["tests"] += 1
            if status is Status.FAIL:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", type=rule_id,
                                        message=f"{lead.title}: {lead.message}")
                failure.text = text
            elif status is Status.ERROR:
                counts["errors"] += 1
                error = ET.SubElement(case, "error", type=rule_id, message=lead.message)
                error.text = text
            elif status in (Status.DEFERRED, Status.WAIVED):
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{status.value}: {lead.message}"
                              + (f" [{lead.waiver}]" if lead.waiver else ""))
            elif status is Status.WARN:
                out = ET.SubElement(case, "system-out")
                out.text = text
        for pack, suite in suites.items():
            for key, value in per_suite[pack].items():
                suite.set(key, str(value))
                totals[key] += value
        for key, value in totals.items():
            root.set(key, str(value))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
