"""An in-memory world for the rollout state machine: environments whose stages hold
plain inputs, plans computed by comparing desired inputs with them, and a UI that
keeps every event. No engine, no cloud."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provision.engine.hooks import Hooks
from provision.engine.report import ApplyReport, StageOutcome
from provision.errors import PassphraseError, PolicyViolation, StageFailedError, StalePlanError
from provision.plan.digest import plan_digest
from provision.plan.model import Action, Change, Plan, StagePlan
from provision.plan.saved import read_plan, write_plan
from provision.spec.model import HealthCheck
from provision.vocabulary import Operation, Phase, StageStatus

STAGES = {"aws": [], "azure": ["aws"], "gcp": ["azure"]}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest() if value else ""


@dataclass
class _Verdict:
    rule: str
    blocking: bool = True

    results: list[Any] = field(default_factory=list)

    def blocking_results(self) -> list[Any]:
        return [type("R", (), {"rule_id": self.rule})()]

    def counts(self) -> dict[str, int]:
        return {"fail": 1}


@dataclass
class World:
    """Desired inputs per stage (one spec for every env, ``overrides`` replace a stage's
    inputs in one env), live state per env."""

    desired: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        s: {"name": f"{s}-1"} for s in STAGES})
    overrides: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    spec_version: int = 1
    protected: set[str] = field(default_factory=lambda: {"prod"})
    health: dict[str, list[HealthCheck]] = field(default_factory=dict)
    fail_stage: dict[str, str] = field(default_factory=dict)      # env -> stage that fails
    violate: dict[str, str] = field(default_factory=dict)         # env -> stage blocked pre
    interrupt: dict[str, str] = field(default_factory=dict)       # env -> stage interrupted
    # env -> the error taking the environment raises (as a wrong state passphrase does)
    broken: dict[str, str] = field(default_factory=dict)
    applies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    rollbacks: list[tuple[str, str]] = field(default_factory=list)
    closed: list[tuple[str, str]] = field(default_factory=list)

    def driver(self, env: str, hooks: Hooks) -> "FakeDriver":
        if env in self.broken:
            raise PassphraseError(self.broken[env], hint="set PROVISION_PASSPHRASE")
        return FakeDriver(self, env, hooks)

    def resolved(self, env: str) -> dict[str, dict[str, Any]]:
        """The desired inputs of every stage in ``env`` (the spec resolved for it)."""
        return {s: dict(self.overrides.get(env, {}).get(s, self.desired[s])) for s in STAGES}


class FakeDriver:
    def __init__(self, world: World, env: str, hooks: Hooks) -> None:
        self.world, self.env, self.hooks = world, env, hooks

    name = property(lambda self: self.env)
    needs_approval = property(lambda self: self.env in self.world.protected)
    health_checks = property(lambda self: list(self.world.health.get(self.env, [])))
    stage_graph = property(lambda self: dict(STAGES))

    def _live(self) -> dict[str, dict[str, Any]]:
        return self.world.state.setdefault(self.env, {})

    def resolved_digest(self) -> str:
        return _digest(self.world.resolved(self.env))

    def resolved_digests(self, envs: list[str]) -> dict[str, str]:
        return {env: _digest(self.world.resolved(env)) for env in envs}

    def plan(self) -> Plan:
        self.world.planned.append(self.env)
        resolved = self.world.resolved(self.env)
        live = self._live()
        plan = Plan(spec="demo", env=self.env, spec_file="demo.yaml",
                    spec_digest=f"v{self.world.spec_version}")
        for stage in STAGES:
            want, have = resolved[stage], live.get(stage)
            action = (Action.NOOP if want == have else Action.CREATE if have is None
                      else Action.UPDATE)
            plan.stages.append(StagePlan(stage, f"demo.{self.env}.{stage}", STAGES[stage], [
                Change(f"{stage}_res", "fake:x:Y", action, stage, have, dict(want))]))
            plan.state_digests[stage] = _digest(have)
        return plan

    def plan_digest(self, plan: Plan) -> str:
        return plan_digest(plan)

    def save_plan(self, plan: Plan, path: Path) -> None:
        write_plan(plan, path)

    def load_plan(self, path: Path) -> Plan:
        return read_plan(path)

    def moved(self, plan: Plan) -> str:
        if plan.spec_digest != f"v{self.world.spec_version}":
            return "the spec demo.yaml changed since the plan was made"
        for stage in STAGES:
            if _digest(self._live().get(stage)) != plan.state_digests.get(stage, ""):
                return f"the state of stage '{stage}' changed since the plan was made"
        return ""

    def apply(self, plan: Plan, *, saved: bool) -> ApplyReport:
        report = ApplyReport()
        stop = False
        for sp in plan.stages:
            name = sp.name
            if stop:
                report.outcomes.append(StageOutcome(name, StageStatus.SKIPPED))
                continue
            if not sp.has_changes():
                report.outcomes.append(StageOutcome(name, StageStatus.UNCHANGED))
                continue
            self.hooks.stage_start(name, Operation.APPLY)
            if saved and _digest(self._live().get(name)) != plan.state_digests.get(name, ""):
                report.outcomes.append(StageOutcome(name, StageStatus.FAILED, error=StalePlanError(
                    f"the state of stage '{name}' changed since the plan was made")))
                stop = True
                continue
            if self.world.violate.get(self.env) == name:
                verdict = _Verdict("PRV-TEST-001")
                self.hooks.policy(name, Phase.PRE, verdict)
                self.hooks.stage_done(name, StageStatus.BLOCKED, None)
                report.outcomes.append(StageOutcome(name, StageStatus.BLOCKED, error=PolicyViolation(
                    name, Phase.PRE, verdict)))
                stop = True
                continue
            if self.world.interrupt.get(self.env) == name:
                self.hooks.stage_done(name, StageStatus.INTERRUPTED, None)
                report.outcomes.append(StageOutcome(name, StageStatus.INTERRUPTED))
                stop = True
                continue
            inputs = dict(sp.changes[0].after or {})
            self._live()[name] = inputs
            self.world.applies.append((self.env, name, inputs))
            if self.world.fail_stage.get(self.env) == name:
                self.hooks.stage_done(name, StageStatus.FAILED, None)
                report.outcomes.append(StageOutcome(name, StageStatus.FAILED, error=StageFailedError(
                    name, "the cloud said no", resource=f"{name}_res")))
                stop = True
                continue
            self.hooks.stage_done(name, StageStatus.APPLIED, None)
            report.outcomes.append(StageOutcome(name, StageStatus.APPLIED))
        return report

    def remember(self) -> dict[str, Any]:
        return {k: dict(v) for k, v in self._live().items()}

    def rollback(self, remembered: Any, stages: list[str]) -> dict[str, str]:
        for stage in stages:
            self.world.rollbacks.append((self.env, stage))
            if stage in remembered:
                self._live()[stage] = dict(remembered[stage])
            else:
                self._live().pop(stage, None)
        return {s: "" for s in stages}

    def probe(self) -> "FakeProbe":
        return FakeProbe(self._live())

    def close(self, status: str) -> None:
        self.world.closed.append((self.env, status))


class FakeProbe:
    def __init__(self, live: dict[str, dict[str, Any]]) -> None:
        self.live_state = live

    def live(self, resource_id: str) -> dict[str, Any] | None:
        return self.live_state.get(resource_id.removesuffix("_res"))

    def output(self, resource_id: str, attribute: str) -> Any:
        return self.live_state[resource_id.removesuffix("_res")][attribute]

    def secret(self, resource_id: str, attribute: str) -> bool:
        return False


class Events:
    """The RolloutUI: keeps events and lines."""

    def __init__(self, record: Any = None) -> None:
        self.record = record
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.env = ""

    def emit(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, **({"env": self.env} if self.env else {}), **fields})

    def say(self, text: str) -> None:
        self.lines.append(text)

    def hooks_for(self, env: str) -> Hooks:
        self.env = env

        def stage_done(stage: str, status: StageStatus, result: Any) -> None:
            self.emit("stage_done", stage=stage, status=status.value)
            if self.record is not None:
                self.record.stage(stage, StageStatus(status))

        return Hooks(stage_done=stage_done)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]
