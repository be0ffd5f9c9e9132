"""Policy data: rule identity, one result per rule x resource, and the report.

A rule's identity (:class:`RuleMeta`) is the same whether it is written in Rego
or Python. Every evaluation yields :class:`Result` records collected in a
:class:`PolicyReport`; ``report.blocking`` says whether the run must stop and
``report.blocking_results()`` which results stop it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Mapping

from provision.errors import PolicyError
from provision.vocabulary import Phase as Phase  # re-exported: reports and results carry it


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Enforcement(str, Enum):
    MANDATORY = "mandatory"     # a failure blocks the stage
    ADVISORY = "advisory"       # a failure is shown and recorded as ``warn``
    DISABLED = "disabled"       # the rule is not evaluated


class RulePhase(str, Enum):
    """The gate phases a rule runs in (the phases themselves are :class:`Phase`)."""

    PRE = Phase.PRE.value       # on the planned changes of a stage
    POST = Phase.POST.value     # on the live state read back after the stage
    BOTH = "both"

    def covers(self, phase: Phase) -> bool:
        return self is RulePhase.BOTH or self.value == phase.value


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"               # a mandatory rule is violated
    WARN = "warn"               # an advisory rule is violated (or a Rego ``warn``)
    DEFERRED = "deferred"       # pre: an input the rule reads is known only after apply
    WAIVED = "waived"           # violated, but a valid waiver covers it
    ERROR = "error"             # the rule itself failed to evaluate


def _enum(cls: type[Enum], value: Any, what: str, rule: str) -> Any:
    try:
        return cls(str(value).lower())
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise PolicyError(f"rule {rule or '?'}: invalid {what} '{value}'",
                          hint=f"use one of: {allowed}") from None


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is, independent of the language it is written in."""

    id: str                                 # "PRV-AWS-003"
    title: str
    severity: Severity = Severity.MEDIUM
    # None: take the pack's (per-environment) default enforcement.
    enforcement: Enforcement | None = None
    phase: RulePhase = RulePhase.BOTH
    resource_types: tuple[str, ...] = ()    # empty: every type
    remediation: str = ""
    # Dotted property paths the rule reads; if one is unknown at plan time the
    # rule is ``deferred`` for that resource in the pre phase.
    reads: tuple[str, ...] = ()
    description: str = ""

    def applies_to(self, resource_type: str) -> bool:
        return not self.resource_types or resource_type in self.resource_types

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, default_id: str = "") -> "RuleMeta":
        """Build from a manifest or Rego ``metadata`` object; raises PolicyError."""
        rid = str(data.get("id") or default_id)
        if not rid:
            raise PolicyError("rule metadata has no 'id'", hint="give every rule an id like PRV-AWS-001")
        known = {"id", "title", "severity", "enforcement", "phase", "resource_types",
                 "remediation", "reads", "description"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PolicyError(f"rule {rid}: unknown metadata key(s): {', '.join(unknown)}",
                              hint=f"known keys: {', '.join(sorted(known))}")
        enforcement = data.get("enforcement")
        return cls(
            id=rid,
            title=str(data.get("title") or rid),
            severity=_enum(Severity, data.get("severity", "medium"), "severity", rid),
            enforcement=None if enforcement is None else
            _enum(Enforcement, enforcement, "enforcement", rid),
            phase=_enum(RulePhase, data.get("phase", RulePhase.BOTH.value), "phase", rid),
            resource_types=tuple(str(t) for t in data.get("resource_types") or ()),
            remediation=str(data.get("remediation") or ""),
            reads=tuple(str(p) for p in data.get("reads") or ()),
            description=str(data.get("description") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "severity": self.severity.value,
            "enforcement": self.enforcement.value if self.enforcement else None,
            "phase": self.phase.value, "resource_types": list(self.resource_types),
            "remediation": self.remediation, "reads": list(self.reads),
            "description": self.description,
        }


@dataclass(frozen=True)
class RuleInfo:
    """A loaded rule as the report knows it: identity, pack and effective enforcement."""

    meta: RuleMeta
    pack: str
    enforcement: Enforcement
    language: str               # "rego" | "python"
    source: str = ""            # file the rule is defined in


@dataclass(slots=True)
class Result:
    """The outcome of one rule on one resource (or on the whole input)."""

    rule_id: str
    pack: str
    status: Status
    resource_id: str
    resource_type: str
    stage: str
    phase: Phase
    message: str = ""
    file: str = ""
    line: int = 0
    severity: Severity = Severity.MEDIUM
    enforcement: Enforcement = Enforcement.ADVISORY
    title: str = ""
    # Set when a waiver matched: "<approver>: <reason> (expires YYYY-MM-DD)";
    # an expired waiver is named here too, but the status stays fail/warn.
    waiver: str = ""

    def with_(self, **changes: Any) -> "Result":
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for a terminal: rule, resource, where in the spec, message."""
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        subject = f"{self.resource_id} ({self.resource_type})" if self.resource_id else "(input)"
        return (f"{self.rule_id} [{self.status.value}] {subject}"
                + (f" at {where}" if where else "") + f": {self.message}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("status", "phase", "severity", "enforcement"):
            data[key] = data[key].value
        return data

    to_json = to_dict


@dataclass
class PolicyReport:
    """All results of one check (one stage and phase, or a whole standalone run)."""

    phase: Phase
    env: str
    stage: str = ""
    results: list[Result] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)

    def blocking_results(self) -> list[Result]:
        """Mandatory failures, and mandatory rules that could not be evaluated (fail closed)."""
        return [r for r in self.results
                if r.enforcement is Enforcement.MANDATORY
                and r.status in (Status.FAIL, Status.ERROR)]

    @property
    def blocking(self) -> bool:
        """True when the stage must not go on: see :meth:`blocking_results`."""
        return bool(self.blocking_results())

    @property
    def ok(self) -> bool:
        return not self.blocking

    def by_status(self, status: Status) -> list[Result]:
        return [r for r in self.results if r.status is status]

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for r in self.results:
            counts[r.status.value] += 1
        return counts

    def extend(self, other: "PolicyReport") -> None:
        """Merge another report's results and rules into this one."""
        self.results.extend(other.results)
        self.rules.update(other.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase.value, "env": self.env, "stage": self.stage,
            "summary": self.counts(),
            "blocking": len(self.blocking_results()),
            "rules": {rid: {**info.meta.to_dict(), "pack": info.pack,
                            "enforcement": info.enforcement.value,
                            "language": info.language, "source": info.source}
                      for rid, info in sorted(self.rules.items())},
            "results": [r.to_dict() for r in self.results],
        }
