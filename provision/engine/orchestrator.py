"""Plan, apply and destroy a resolved spec, stage by stage.

A stage is one Pulumi stack named ``<spec>.<env>.<stage>``. Stages run in
dependency order, independent ones in parallel (bounded); each downstream stage
receives its upstream stages' outputs. Before a stage changes anything its
planned changes go through the policy gate; after it, its live state (read back
from the cloud through the adapters) goes through the gate again.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from provision.engine.changes import stage_changes
from provision.engine.program import META_OUTPUT, restore_program, stage_program
from provision.engine.runner import RunResult, StackRunner, StackSnapshot, Step
from provision.errors import PlanError, ProvisionError, StageFailedError, StalePlanError
from provision.graph.stages import Stage, StageGraph
from provision.plan.model import UNKNOWN, Action, Change, Plan, StagePlan
from provision.provider import AdapterRegistry
from provision.spec.model import Environment, Spec
from provision.spec.refs import iter_references


class GateVerdict(Protocol):
    @property
    def blocking(self) -> bool: ...


class Gate(Protocol):
    """The policy gate as the engine sees it (implemented by provision.policy)."""

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> GateVerdict: ...

    def check_post(self, stage: str, live: dict[str, tuple[str, dict[str, Any]]]) -> GateVerdict: ...


@dataclass
class Hooks:
    """Progress callbacks for the UI layer; all optional."""

    stage_start: Callable[[str, str], None] = lambda stage, op: None
    step: Callable[[str, Step], None] = lambda stage, step: None
    stage_done: Callable[[str, str, RunResult | None], None] = lambda stage, status, res: None
    policy: Callable[[str, str, GateVerdict], None] = lambda stage, phase, verdict: None


@dataclass
class StageOutcome:
    stage: str
    status: str   # applied | unchanged | blocked | failed | rolled-back | skipped | destroyed
    result: RunResult | None = None
    error: ProvisionError | None = None


@dataclass
class ApplyReport:
    outcomes: list[StageOutcome] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(o.status == "blocked" for o in self.outcomes)

    @property
    def failed(self) -> ProvisionError | None:
        return next((o.error for o in self.outcomes
                     if o.status in ("failed", "rolled-back") and o.error), None)


class PolicyViolation(ProvisionError):
    """A mandatory policy failed; the run stopped (exit code 3)."""

    def __init__(self, stage: str, phase: str, verdict: GateVerdict) -> None:
        self.stage, self.phase, self.verdict = stage, phase, verdict
        super().__init__(f"mandatory policy violation {phase} stage '{stage}'")


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def spec_digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).read_bytes())
    return h.hexdigest()


class Orchestrator:
    def __init__(self, spec: Spec, env: Environment, stages: StageGraph,
                 registry: AdapterRegistry, runner: StackRunner, *,
                 hooks: Hooks | None = None, gate: Gate | None = None,
                 live_reader: Callable[[str, list[str], Mapping[str, Any]],
                                       dict[str, tuple[str, dict[str, Any]]]] | None = None,
                 parallel: int = 4, rollback_on_violation: bool = False,
                 selection: set[str] | None = None) -> None:
        self.spec, self.env, self.stages = spec, env, stages
        self.registry, self.runner = registry, runner
        self.hooks = hooks or Hooks()
        self.gate = gate
        self.live_reader = live_reader
        self.parallel = max(1, parallel)
        self.rollback_on_violation = rollback_on_violation
        # --target/--exclude: only these resources may change (None: all). Every
        # resource stays declared in its stage's program; Pulumi's targeting does the rest.
        self.selection = selection
        self._snapshots: dict[str, StackSnapshot | None] = {}

    # -- names and values ------------------------------------------------------------
    def stack_name(self, stage: str) -> str:
        return f"{self.spec.name}.{self.env.name}.{stage}"

    def _snapshot(self, stage: str, *, fresh: bool = False) -> StackSnapshot | None:
        if fresh or stage not in self._snapshots:
            self._snapshots[stage] = self.runner.snapshot(self.stack_name(stage))
        return self._snapshots[stage]

    def _stack_outputs(self, stage: str) -> dict[str, Any] | None:
        snap = self._snapshot(stage)
        return snap.outputs if snap else None

    def _upstream(self, stage: Stage, planned: Mapping[str, Change]
                  ) -> dict[str, dict[str, Any] | None]:
        """Values of the upstream resources this stage references.

        ``planned`` holds this plan's changes of upstream stages not applied yet: a
        resource to be created or replaced exposes only its known planned inputs;
        everything else about it is known only after apply (absent from the map).
        """
        values: dict[str, dict[str, Any] | None] = {}
        inside = set(stage.resources)
        for rid in stage.resources:
            for ref in iter_references(self.spec.resources[rid].properties):
                if ref.kind != "resource":
                    continue
                if ref.target in inside or ref.target in values:
                    continue
                change = planned.get(ref.target)
                if change is not None and change.action in (Action.CREATE, Action.REPLACE):
                    values[ref.target] = {k: v for k, v in (change.after or {}).items()
                                          if not _has_unknown(v)}
                    continue
                outputs = self._stack_outputs(self.stages.stage_of(ref.target).name)
                found = outputs.get(ref.target) if outputs else None
                current = dict(found) if isinstance(found, dict) else None
                if current is not None and change is not None and change.action is Action.UPDATE:
                    # An update's new inputs are what downstream will see.
                    for key, value in (change.after or {}).items():
                        if _has_unknown(value):
                            current.pop(key, None)
                        else:
                            current[key] = value
                values[ref.target] = current
        return values

    def _prior_types(self, stage: str) -> dict[str, str]:
        outputs = self._stack_outputs(stage) or {}
        meta = outputs.get(META_OUTPUT) or {}
        return dict(meta.get("types", {})) if isinstance(meta, dict) else {}

    def _chosen(self, stage: Stage) -> list[str] | None:
        if self.selection is None:
            return None
        return [r for r in stage.resources if r in self.selection]

    def _active(self, stage: Stage) -> bool:
        chosen = self._chosen(stage)
        return chosen is None or bool(chosen)

    # -- plan ------------------------------------------------------------------------
    def plan_stage(self, stage: Stage, planned: dict[str, Change]) -> StagePlan:
        program = stage_program(self.spec, stage.resources, self.registry,
                                self._upstream(stage, planned))
        chosen = self._chosen(stage)
        # The state first: it also tells the runner whether the stack exists (no extra CLI call).
        prior_types = self._prior_types(stage.name)
        steps = self.runner.preview(self.stack_name(stage.name), program, targets=chosen)
        changes = stage_changes(self.spec, stage.name, chosen or stage.resources, steps,
                                self.registry, prior_types)
        if chosen is not None:
            changes = [c for c in changes if c.id in self.selection]  # type: ignore[operator]
        for change in changes:
            planned[change.id] = change
        return StagePlan(name=stage.name, stack=self.stack_name(stage.name),
                         depends_on=list(stage.depends_on), changes=changes)

    def plan(self) -> Plan:
        planned: dict[str, Change] = {}
        plan = Plan(spec=self.spec.name, env=self.env.name, spec_file=self.spec.path)
        for stage in self.stages.stages:
            if not self._active(stage):
                continue
            self.hooks.stage_start(stage.name, "plan")
            plan.stages.append(self.plan_stage(stage, planned))
            # A new stack was read (absent) before its preview created it: read it again,
            # so the digest is the one a saved plan's freshness check will see.
            snap = self._snapshot(stage.name) or self._snapshot(stage.name, fresh=True)
            plan.state_digests[stage.name] = snap.digest if snap else ""
        return plan

    # -- apply -----------------------------------------------------------------------
    def apply(self, plan: Plan, *, check_fresh: bool = False) -> ApplyReport:
        """Apply ``plan`` level by level. With ``check_fresh`` (a saved plan), refuse if
        a stage's state or planned changes moved since the plan was made."""
        report = ApplyReport()
        by_name = {s.name: s for s in plan.stages}
        stop = False
        for level in self.stages.levels:
            level = [n for n in level if n in by_name]
            if not level:
                continue
            if stop:
                report.outcomes += [StageOutcome(n, "skipped") for n in level]
                continue
            stages = [self.stages.stage(n) for n in level]
            with ThreadPoolExecutor(max_workers=min(self.parallel, len(stages))) as pool:
                outcomes = list(pool.map(
                    lambda st: self._apply_stage(st, by_name[st.name], plan, check_fresh),
                    stages))
            report.outcomes += outcomes
            stop = any(o.status in ("blocked", "failed", "rolled-back") for o in outcomes)
        return report

    def _apply_stage(self, stage: Stage, saved: StagePlan, plan: Plan,
                     check_fresh: bool) -> StageOutcome:
        name = stage.name
        try:
            if check_fresh:
                self._check_fresh(stage, saved, plan)
            # With a gate, re-plan a stage whose saved changes had values unknown until the
            # upstream stages applied: the gate must judge the real values.
            needs_replan = (self.gate is not None and not check_fresh
                            and any(c.unknown for c in saved.changes))
            if not saved.has_changes() and not needs_replan:
                # Nothing to do (the plan refreshed it moments ago); downstream stages
                # read its outputs from state.
                self.hooks.stage_done(name, "unchanged", None)
                return StageOutcome(name, "unchanged")
            # Upstream stages are applied by now: their real outputs are used.
            current = self.plan_stage(stage, {}) if needs_replan else saved
            self.hooks.stage_start(name, "apply")
            if self.gate is not None:
                verdict = self.gate.check_pre(current, plan)
                self.hooks.policy(name, "pre", verdict)
                if verdict.blocking:
                    self.hooks.stage_done(name, "blocked", None)
                    return StageOutcome(name, "blocked", error=PolicyViolation(name, "before", verdict))
            program = stage_program(self.spec, stage.resources, self.registry,
                                    self._upstream(stage, {}))
            before = (self._snapshot(name, fresh=True) if self.rollback_on_violation
                      else None)
            result = self.runner.up(self.stack_name(name), program,
                                    on_step=self._step_hook(name), targets=self._chosen(stage))
            self._snapshots[name] = StackSnapshot(outputs=result.outputs, digest="")
            if self.gate is not None and self.live_reader is not None:
                live = self.live_reader(name, stage.resources, result.outputs)
                verdict = self.gate.check_post(name, live)
                self.hooks.policy(name, "post", verdict)
                if verdict.blocking:
                    status = "failed"
                    if self.rollback_on_violation:
                        self._rollback(name, before)
                        status = "rolled-back"
                    self.hooks.stage_done(name, status, result)
                    return StageOutcome(name, status, result, PolicyViolation(name, "after", verdict))
            self.hooks.stage_done(name, "applied", result)
            return StageOutcome(name, "applied", result)
        except StageFailedError as exc:    # the runner names the stack; users know the stage
            self.hooks.stage_done(name, "failed", None)
            resource = self.spec.resources.get(exc.resource)
            where = f"{resource.location}: " if resource and resource.location else ""
            return StageOutcome(name, "failed", error=StageFailedError(
                name, where + exc.reason, hint=exc.hint, resource=exc.resource))
        except ProvisionError as exc:
            self.hooks.stage_done(name, "failed", None)
            return StageOutcome(name, "failed", error=exc)

    def _rollback(self, stage: str, before: StackSnapshot | None) -> None:
        """Return a stage to its state before this apply, through the engine."""
        self.hooks.stage_start(stage, "rollback")
        inputs = before.inputs if before else {}
        types = dict((before.outputs.get(META_OUTPUT) or {}).get("types", {})) if before else {}
        program = restore_program(inputs, types, self.registry)
        result = self.runner.up(self.stack_name(stage), program, on_step=self._step_hook(stage))
        self._snapshots[stage] = StackSnapshot(outputs=result.outputs, digest="")

    def _check_fresh(self, stage: Stage, saved: StagePlan, plan: Plan) -> None:
        snap = self._snapshot(stage.name, fresh=True)
        digest = snap.digest if snap else ""
        if digest != plan.state_digests.get(stage.name, digest):
            raise StalePlanError(
                f"the state of stage '{stage.name}' changed since the plan was made",
                hint="make a new plan")
        fresh = self.plan_stage(stage, {})
        want = {(c.id, c.action) for c in saved.changes}
        got = {(c.id, c.action) for c in fresh.changes}
        if want != got:
            moved = sorted({rid for rid, _ in want ^ got})
            raise StalePlanError(
                f"stage '{stage.name}' would now change differently than the saved plan "
                f"({', '.join(moved)})", hint="make a new plan")

    def _step_hook(self, stage: str) -> Callable[[Step], None]:
        return lambda step: self.hooks.step(stage, step)

    # -- destroy ---------------------------------------------------------------------
    def destroy(self) -> ApplyReport:
        report = ApplyReport()
        for stage in self.stages.reversed():
            stack = self.stack_name(stage.name)
            if not self._active(stage) or self._snapshot(stage.name, fresh=True) is None:
                report.outcomes.append(StageOutcome(stage.name, "skipped"))
                continue
            self.hooks.stage_start(stage.name, "destroy")
            try:
                result = self.runner.destroy(stack, on_step=self._step_hook(stage.name),
                                             targets=self._chosen(stage))
            except ProvisionError as exc:
                self.hooks.stage_done(stage.name, "failed", None)
                report.outcomes.append(StageOutcome(stage.name, "failed", error=exc))
                break
            self.hooks.stage_done(stage.name, "destroyed", result)
            report.outcomes.append(StageOutcome(stage.name, "destroyed", result))
        return report


def ensure_plan_matches(plan: Plan, spec: Spec, env: Environment, digest: str) -> None:
    if plan.spec != spec.name or plan.env != env.name:
        raise StalePlanError(f"the plan is for {plan.spec}/{plan.env}, not {spec.name}/{env.name}")
    if plan.spec_digest and plan.spec_digest != digest:
        raise StalePlanError(f"the spec {spec.path} changed since the plan was made",
                             hint="make a new plan with `provision plan ... --out`")
    if not plan.stages:
        raise PlanError("the saved plan has no stages")
