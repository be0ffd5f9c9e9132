"""SARIF 2.1.0: one ``tool.driver.rules`` entry per rule, results located in the spec.

Mapping:

* each loaded rule -> a ``reportingDescriptor`` (``id`` = rule id, title,
  remediation as ``help``, pack/enforcement/phase/resource types as properties);
* each result -> ``ruleId``/``ruleIndex``, ``level`` from :data:`LEVELS`
  (severity -> level, the one table), ``kind`` from the status, a physical
  location at the spec file and line, a logical location for the resource;
* ``waived`` -> a ``suppressions`` entry (accepted, with approver and reason);
  ``deferred`` -> kind ``open``; ``pass`` -> kind ``pass``; rule errors also
  become tool execution notifications.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provision.policy.model import PolicyReport, Result, RuleInfo, Severity, Status
from provision.report.common import TOOL_NAME, tool_version

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# The one severity -> SARIF level table.
LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

_KINDS: dict[Status, str] = {
    Status.FAIL: "fail", Status.WARN: "fail", Status.WAIVED: "fail", Status.ERROR: "fail",
    Status.DEFERRED: "open", Status.PASS: "pass",
}


def _uri(file: str) -> str:
    path = Path(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _descriptor(info: RuleInfo) -> dict[str, Any]:
    meta = info.meta
    out: dict[str, Any] = {
        "id": meta.id,
        "name": "".join(w.capitalize() for w in meta.title.replace("/", " ").split()
                        if w.isalnum()) or meta.id,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description or meta.title},
        "defaultConfiguration": {"level": LEVELS[meta.severity],
                                 "enabled": info.enforcement.value != "disabled"},
        "properties": {
            "pack": info.pack, "severity": meta.severity.value,
            "enforcement": info.enforcement.value, "phase": meta.phase.value,
            "resourceTypes": list(meta.resource_types), "language": info.language,
            "tags": ["policy", info.pack, meta.severity.value],
        },
    }
    if meta.remediation:
        out["help"] = {"text": meta.remediation}
    return out


def _result(r: Result, index: int) -> dict[str, Any]:
    text = r.message or ("compliant" if r.status is Status.PASS else r.status.value)
    out: dict[str, Any] = {
        "ruleId": r.rule_id,
        "kind": _KINDS[r.status],
        "level": LEVELS[r.severity] if _KINDS[r.status] == "fail" else "none",
        "message": {"text": text},
        "properties": {"status": r.status.value, "pack": r.pack, "stage": r.stage,
                       "phase": r.phase.value, "resourceType": r.resource_type,
                       "enforcement": r.enforcement.value},
    }
    if index >= 0:
        out["ruleIndex"] = index
    location: dict[str, Any] = {}
    if r.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(r.file)}}
        if r.line > 0:
            physical["region"] = {"startLine": r.line}
        location["physicalLocation"] = physical
    if r.resource_id:
        location["logicalLocations"] = [{
            "name": r.resource_id, "kind": "resource",
            "fullyQualifiedName": f"{r.stage}/{r.resource_id}" if r.stage else r.resource_id,
        }]
    if location:
        out["locations"] = [location]
    if r.status is Status.WAIVED:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": r.waiver}]
    if r.waiver:
        out["properties"]["waiver"] = r.waiver
    return out


class SarifReporter:
    format = "sarif"

    def document(self, report: PolicyReport) -> dict[str, Any]:
        rules = sorted(report.rules.values(), key=lambda i: i.meta.id)
        index = {info.meta.id: i for i, info in enumerate(rules)}
        errors = [r for r in report.results if r.status is Status.ERROR]
        artifacts = sorted({r.file for r in report.results if r.file})
        return {
            "$schema": SARIF_SCHEMA,
            "version": SARIF_VERSION,
            "runs": [{
                "tool": {"driver": {
                    "name": TOOL_NAME, "version": tool_version(),
                    "rules": [_descriptor(info) for info in rules],
                }},
                "invocations": [{
                    "executionSuccessful": not errors,
                    "toolExecutionNotifications": [
                        {"level": "error", "message": {"text": f"{r.rule_id}: {r.message}"},
                         "descriptor": {"id": r.rule_id}}
                        for r in errors],
                    "properties": {"env": report.env, "phase": report.phase.value,
                                   "stage": report.stage},
                }],
                "artifacts": [{"location": {"uri": _uri(f)}} for f in artifacts],
                "results": [_result(r, index.get(r.rule_id, -1)) for r in report.results],
            }],
        }

    def render(self, report: PolicyReport) -> str:
        return json.dumps(self.document(report), indent=2) + "\n"
