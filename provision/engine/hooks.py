"""Who a run reports to while it goes: the UI's progress hooks and the policy gate.

:class:`Hooks` are the UI layer's callbacks (all optional, called from worker
threads); :class:`Gate` is the policy gate as the engine sees it (implemented by
``provision.policy`` through ``provision.cli.gate``), and :data:`LiveReader` reads a
stage's live records back from the cloud for the gate after a stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

from provision.engine.protocol import RunResult, Step
from provision.plan.model import Live, Plan, StagePlan
from provision.vocabulary import Operation, Phase, StageStatus

# (stage, its resource ids, its stack outputs) -> the live records of those resources.
LiveReader = Callable[[str, list[str], Mapping[str, Any]], Live]


class GateVerdict(Protocol):
    @property
    def blocking(self) -> bool: ...


class Gate(Protocol):
    """The policy gate as the engine sees it (implemented by provision.policy)."""

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> GateVerdict: ...

    def check_post(self, stage: str, live: Live) -> GateVerdict: ...


@dataclass
class Hooks:
    """Progress callbacks for the UI layer; all optional. They are called from the
    worker thread that runs the stage, so implementations must be thread-safe."""

    stage_start: Callable[[str, Operation], None] = lambda stage, op: None
    step: Callable[[str, Step], None] = lambda stage, step: None
    stage_done: Callable[[str, StageStatus, RunResult | None], None] = \
        lambda stage, status, res: None
    policy: Callable[[str, Phase, GateVerdict], None] = lambda stage, phase, verdict: None
    # A stage not run because a stage it depends on did not succeed (called once per
    # skipped stage, from the scheduling thread), with the reason.
    stage_skipped: Callable[[str, str], None] = lambda stage, reason: None
