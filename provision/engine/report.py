"""What a run reports: each stage's outcome, and why a stage was skipped.

Pure data and pure functions: the in-process orchestrator builds these, and the
durable executor's workflow code calls the skip reasons too (no I/O here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection

from provision.engine.protocol import RunResult
from provision.errors import ProvisionError
from provision.vocabulary import StageStatus


@dataclass
class StageOutcome:
    stage: str
    status: StageStatus
    result: RunResult | None = None
    error: ProvisionError | None = None
    reason: str = ""          # why a stage was skipped
    cause: str = ""           # the stage whose outcome skipped this one ("" if none)
    seconds: float = 0.0      # wall time of the stage (0 when it did not run)


@dataclass
class ApplyReport:
    outcomes: list[StageOutcome] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(o.status is StageStatus.BLOCKED for o in self.outcomes)

    @property
    def failed(self) -> ProvisionError | None:
        return next((o.error for o in self.outcomes
                     if o.status in (StageStatus.FAILED, StageStatus.ROLLED_BACK,
                                     StageStatus.UNVERIFIED) and o.error),
                    None)

    def outcome(self, stage: str) -> StageOutcome:
        return next(o for o in self.outcomes if o.stage == stage)


_WHY = {StageStatus.FAILED: StageStatus.FAILED.value, StageStatus.BLOCKED: "was blocked by a policy",
        StageStatus.ROLLED_BACK: "was rolled back", StageStatus.INTERRUPTED: "was interrupted",
        StageStatus.UNVERIFIED: "applied but its live state could not be checked"}


def apply_skip_reason(depends_on: Collection[str], cause: str, status: StageStatus) -> str:
    """Why a stage depending on ``depends_on`` is not applied: ``cause`` (a stage it depends
    on, directly or through others) ended with ``status``. Pure: workflow code calls it."""
    why = _WHY.get(status, status.value)
    how = "" if cause in depends_on else " (through other stages)"
    return f"it depends{how} on stage '{cause}', which {why}"


def destroy_skip_reason(cause: str) -> str:
    """Why a stage is kept by a destroy: ``cause`` depends on it and was not destroyed."""
    return f"stage '{cause}' depends on it and was not destroyed"


def destroy_succeeded(outcome: StageOutcome) -> bool:
    """Whether the stages a destroyed stage depends on may be destroyed after it."""
    return outcome.status.ok or outcome.status is StageStatus.SKIPPED and not outcome.cause
