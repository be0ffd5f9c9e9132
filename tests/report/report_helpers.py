"""A small but complete policy report (every status) for the reporter tests."""

from __future__ import annotations

from provision.policy.model import (Enforcement, Phase, PolicyReport, Result, RuleInfo,
                                    RuleMeta, Severity, Status)


def _info(rid: str, severity: Severity, enforcement: Enforcement, pack: str = "aws") -> RuleInfo:
    meta = RuleMeta(id=rid, title=f"title of {rid}", severity=severity,
                    resource_types=("aws:s3:Bucket",), remediation=f"fix {rid}")
    return RuleInfo(meta, pack, enforcement, "rego", f"policies/{pack}/{rid}.rego")


RULES = {
    "PRV-T-001": _info("PRV-T-001", Severity.CRITICAL, Enforcement.MANDATORY),
    "PRV-T-002": _info("PRV-T-002", Severity.MEDIUM, Enforcement.ADVISORY),
    "PRV-T-003": _info("PRV-T-003", Severity.LOW, Enforcement.MANDATORY, pack="gov"),
    "PRV-T-004": _info("PRV-T-004", Severity.HIGH, Enforcement.MANDATORY, pack="gov"),
}


def result(rid: str, status: Status, resource: str, line: int = 5, message: str = "",
           waiver: str = "") -> Result:
    info = RULES[rid]
    return Result(rule_id=rid, pack=info.pack, status=status, resource_id=resource,
                  resource_type="aws:s3:Bucket", stage="storage", phase=Phase.PRE,
                  message=message or f"{rid} {status.value} on {resource}",
                  file="stacks/app.yaml", line=line, severity=info.meta.severity,
                  enforcement=info.enforcement, title=info.meta.title, waiver=waiver)


def sample_report() -> PolicyReport:
    results = [
        result("PRV-T-001", Status.FAIL, "logs", 10),
        result("PRV-T-001", Status.PASS, "site", 20, message=""),
        result("PRV-T-001", Status.WAIVED, "legacy", 30, waiver="alice: reviewed (expires 2026-12-31)"),
        result("PRV-T-002", Status.WARN, "logs", 10),
        result("PRV-T-002", Status.WARN, "logs", 10, message="a second warning, same case"),
        result("PRV-T-003", Status.DEFERRED, "site", 20),
        result("PRV-T-004", Status.ERROR, "site", 20, message="rule raised KeyError"),
        Result(rule_id="PRV-T-003", pack="gov", status=Status.FAIL, resource_id="",
               resource_type="", stage="storage", phase=Phase.PRE, message="whole-input finding",
               severity=Severity.LOW, enforcement=Enforcement.MANDATORY, title="t3"),
    ]
    return PolicyReport(Phase.PRE, "prod", "storage", results, dict(RULES))
