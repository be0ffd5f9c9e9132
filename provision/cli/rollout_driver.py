"""The rollout's view of one environment on the real engine (see provision.rollout.ports)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

from provision.cli import guard, session
from provision.cli.gate import build_gate
from provision.engine.clouds import cloud_configs
from provision.engine.declare import restore_declaration
from provision.engine.freshness import NO_STATE, state_unchanged
from provision.engine.live import read_live
from provision.engine.orchestrator import ApplyReport, Hooks, Orchestrator, spec_digest
from provision.engine.protocol import META_OUTPUT, StackSnapshot, Step, UpRequest
from provision.errors import ProvisionError
from provision.plan.digest import plan_digest
from provision.plan.model import Plan
from provision.plan.saved import read_plan, write_plan
from provision.rollout.health import Probe
from provision.spec.digest import resolved_digest, resolved_digests
from provision.spec.model import HealthCheck
from provision.vocabulary import Operation


class EngineDriver:
    """One environment: plans and applies through the orchestrator, with the policy
    gates of ``policies`` (None: no gates), reads live state through the adapters.

    From creation to :meth:`close` it holds the environment's lock and journal (the
    same safety net as ``apply``, see provision.cli.guard), and repairs what a killed
    run left behind first."""

    def __init__(self, spec_file: str, env: str, hooks: Hooks, *, policies: Path | None,
                 run_id: str, notice: Callable[[str], None], parallel: int = 4,
                 executor: str | None = None) -> None:
        self.spec_file = spec_file
        self.policies = policies
        self.loaded = session.load(spec_file, env)
        gate, reader = build_gate(self.loaded, policies) if policies is not None else (None, None)
        self._exit = ExitStack()
        self.run = self._exit.enter_context(
            guard.engine_run(self.loaded, Operation.APPLY, run_id, notice=notice))
        try:
            self.orch: Orchestrator = session.orchestrator(
                self.loaded, hooks=self.run.hooks(hooks), parallel=parallel, gate=gate,
                live_reader=reader, supervisor=self.run.supervisor, stop=self.run.stop)
            self.run.recover(self.orch)
            # Who applies the environment's plan: in process, or a Temporal workflow.
            self.runner = session.executor(self.loaded, executor, notice=notice,
                                           recover=lambda: self.run.recover(self.orch))
        except BaseException:
            self._exit.close()
            raise

    def close(self, status: str) -> None:
        """Release the environment (journal closed with ``status``, lock released)."""
        try:
            self.run.finish(status)
        finally:
            self._exit.close()

    @property
    def name(self) -> str:
        return self.loaded.env.name

    @property
    def needs_approval(self) -> bool:
        return self.loaded.env.needs_approval

    @property
    def health_checks(self) -> list[HealthCheck]:
        return list(self.loaded.env.health_checks)

    @property
    def stage_graph(self) -> dict[str, list[str]]:
        return {s.name: list(s.depends_on) for s in self.loaded.stages.stages}

    def resolved_digest(self) -> str:
        return resolved_digest(self.loaded.spec)

    def resolved_digests(self, envs: list[str]) -> dict[str, str]:
        return resolved_digests(self.spec_file, envs) if envs else {}

    def plan(self) -> Plan:
        plan = self.orch.plan()
        plan.spec_digest = spec_digest([self.spec_file])
        return plan

    def plan_digest(self, plan: Plan) -> str:
        return plan_digest(plan, self.loaded.registry)

    def save_plan(self, plan: Plan, path: Path) -> None:
        write_plan(plan, path, self.loaded.registry)

    def load_plan(self, path: Path) -> Plan:
        return read_plan(path)

    def _snapshot(self, stage: str) -> StackSnapshot | None:
        return self.orch.engine.snapshot(self.orch.stack_name(stage))

    def moved(self, plan: Plan) -> str:
        if plan.spec_digest != spec_digest([self.spec_file]):
            return f"the spec {self.spec_file} changed since the plan was made"
        for stage in plan.stages:
            snap = self._snapshot(stage.name)
            if not state_unchanged(plan.state_digests.get(stage.name, NO_STATE), snap):
                return f"the state of stage '{stage.name}' changed since the plan was made"
        return ""

    def apply(self, plan: Plan, *, saved: bool) -> ApplyReport:
        ref = session.run_ref(self.loaded, self.spec_file, self.run.run_id,
                              policies=str(self.policies) if self.policies else None,
                              no_policy=self.policies is None)
        return self.runner.apply(self.orch, plan, ref, check_fresh=saved)

    def remember(self) -> dict[str, StackSnapshot | None]:
        return {stage: self._snapshot(stage) for stage in self.stage_graph}

    def rollback(self, remembered: Any, stages: list[str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for stage in stages:
            before: StackSnapshot | None = remembered.get(stage)
            inputs = before.inputs if before else {}
            meta = (before.outputs.get(META_OUTPUT) or {}) if before else {}
            types = dict(meta.get("types", {})) if isinstance(meta, dict) else {}
            try:
                self.orch.hooks.stage_start(stage, Operation.ROLLBACK)
                self.orch.engine.up(UpRequest(
                    self.orch.stack_name(stage),
                    restore_declaration(inputs, types, self.loaded.registry),
                    on_step=self._on_step(stage)))
                errors[stage] = ""
            except ProvisionError as exc:
                errors[stage] = exc.message
        return errors

    def _on_step(self, stage: str) -> Callable[[Step], None]:
        def step(s: Step) -> None:
            self.orch.hooks.step(stage, s)
        return step

    def probe(self) -> Probe:
        return _LiveProbe(self)


class _LiveProbe:
    def __init__(self, driver: EngineDriver) -> None:
        self.driver = driver
        loaded = driver.loaded
        self.configs = cloud_configs(loaded.env, session.sandbox_settings(loaded.env))
        self._outputs: dict[str, dict[str, Any]] = {}

    def _outputs_of(self, resource_id: str) -> dict[str, Any]:
        stage = self.driver.loaded.stages.stage_of(resource_id).name
        if stage not in self._outputs:
            snap = self.driver._snapshot(stage)
            self._outputs[stage] = snap.outputs if snap else {}
        return self._outputs[stage]

    def live(self, resource_id: str) -> dict[str, Any] | None:
        loaded = self.driver.loaded
        found = read_live(loaded.spec, loaded.registry, self.configs, [resource_id],
                          self._outputs_of(resource_id))
        return found[resource_id][1] if resource_id in found else None

    def output(self, resource_id: str, attribute: str) -> Any:
        exported = self._outputs_of(resource_id).get(resource_id)
        if not isinstance(exported, dict) or attribute not in exported:
            raise KeyError(f"{resource_id}.{attribute}")
        return exported[attribute]

    def secret(self, resource_id: str, attribute: str) -> bool:
        resource = self.driver.loaded.spec.resources.get(resource_id)
        if resource is None:
            return False
        prop = self.driver.loaded.registry.schema(resource.type).properties.get(attribute)
        return bool(prop is not None and prop.secret)
