"""Python rules: a function plus its :class:`RuleMeta`, listed explicitly by a pack.

A pack's ``rules.py`` builds its rules with :func:`rule` and lists them in
``RULES = [...]``; nothing is registered by importing a module::

    from provision.policy.rules import rule

    @rule(id="PRV-GOV-001", title="Resources carry owner, env and cost-center tags",
          severity="medium", resource_types=["aws:s3:Bucket"], reads=["tags"],
          remediation="add the missing tags")
    def required_tags(subject, ctx):
        missing = [t for t in ctx.params.get("required_tags", []) if t not in subject.get("tags", {})]
        return f"missing tags: {', '.join(missing)}" if missing else None

    RULES = [required_tags]

A check returns ``None`` (pass), a message, or several messages (one failure each).
It raises :class:`Deferred` when the value it needs is known only after apply
(the engine also defers a rule on its own when a path in ``reads`` is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Union

from provision.policy.inputs import Subject
from provision.policy.model import RuleMeta, RulePhase

Outcome = Union[None, str, Iterable[str]]


class Deferred(Exception):
    """Raised by a check in the pre phase: its input is known only after apply."""


@dataclass(frozen=True)
class RuleContext:
    """What a check may know besides the resource: phase, stage, environment, pack parameters."""

    env: str
    phase: str
    stage: str = ""
    params: dict[str, Any] = field(default_factory=dict)


Check = Callable[[Subject, RuleContext], Outcome]


@dataclass(frozen=True)
class PythonRule:
    meta: RuleMeta
    check: Check

    def messages(self, subject: Subject, ctx: RuleContext) -> list[str]:
        """Run the check and normalise its outcome to a list of failure messages."""
        outcome = self.check(subject, ctx)
        if outcome is None:
            return []
        if isinstance(outcome, str):
            return [outcome]
        return [str(m) for m in outcome]

    def __call__(self, subject: Subject, ctx: RuleContext) -> list[str]:
        return self.messages(subject, ctx)


def rule(*, id: str, title: str, severity: str = "medium", enforcement: str | None = None,
         phase: str = RulePhase.BOTH.value, resource_types: Iterable[str] = (), remediation: str = "",
         reads: Iterable[str] = (), description: str = "") -> Callable[[Check], PythonRule]:
    """Decorator: turn a check function into a :class:`PythonRule` (it registers nothing)."""
    data: dict[str, Any] = {
        "id": id, "title": title, "severity": severity, "phase": phase,
        "resource_types": list(resource_types), "remediation": remediation,
        "reads": list(reads), "description": description,
    }
    if enforcement is not None:
        data["enforcement"] = enforcement
    meta = RuleMeta.from_dict(data)

    def wrap(fn: Check) -> PythonRule:
        return PythonRule(meta=meta, check=fn)

    return wrap
