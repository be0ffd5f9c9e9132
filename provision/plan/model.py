"""The plan: per stage, the changes the engine will make, in execution order.

A plan is data. Views (human, JSON, Terraform-plan JSON) render it; ``apply``
executes a plan's change set. Values that cannot be known before an upstream
stage is applied are :data:`UNKNOWN`, never a made-up value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provision.vocabulary import Action

__all__ = ["FORMAT_VERSION", "UNKNOWN", "Action", "Change", "Plan", "PropertyDiff", "StagePlan"]

FORMAT_VERSION = "1.0"


class _Unknown:
    """Marker for a value known only after apply."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class PropertyDiff:
    path: str          # "tags.owner"
    before: Any
    after: Any         # UNKNOWN when known only after apply
    replaces: bool = False
    secret: bool = False


@dataclass
class Change:
    id: str
    type: str
    action: Action
    stage: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diffs: list[PropertyDiff] = field(default_factory=list)
    # Dotted property paths whose values are known only after apply.
    unknown: list[str] = field(default_factory=list)
    file: str = ""
    line: int = 0


@dataclass
class StagePlan:
    name: str
    stack: str
    depends_on: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)


@dataclass
class Plan:
    spec: str
    env: str
    spec_file: str
    stages: list[StagePlan] = field(default_factory=list)
    spec_digest: str = ""          # sha256 of the spec source(s) the plan was made from
    state_digests: dict[str, str] = field(default_factory=dict)  # stack -> digest of its state when planned
    # The --target / --exclude the plan was made with; applying it uses exactly these.
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    format_version: str = FORMAT_VERSION

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for stage in self.stages:
            for change in stage.changes:
                counts[change.action.value] += 1
        return counts

    def has_changes(self) -> bool:
        return any(s.has_changes() for s in self.stages)
