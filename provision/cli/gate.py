"""Wire the policy engine into apply: the gate and the live-state reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from provision.cli import session
from provision.cli.session import Loaded, sandbox_settings
from provision.engine.clouds import cloud_configs
from provision.engine.live import Live, read_live
from provision.plan.model import Plan, StagePlan
from provision.policy import PolicyEngine, PolicyReport

LiveReader = Callable[[str, list[str], Mapping[str, Any]], Live]


class PolicyGate:
    """The engine's view of the policy engine (see provision.engine.orchestrator.Gate)."""

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine
        self.plan: Plan | None = None

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> PolicyReport:
        self.plan = plan
        return self.engine.check_pre(stage_plan, plan)

    def check_post(self, stage: str, live: dict[str, tuple[str, dict[str, Any]]]) -> PolicyReport:
        return self.engine.check_post(stage, live, plan=self.plan)


def build_gate(loaded: Loaded, directory: Path) -> tuple[PolicyGate, LiveReader]:
    engine = PolicyEngine.load(directory, env=loaded.env.name, registry=loaded.registry)
    configs = cloud_configs(loaded.env, sandbox_settings(loaded.env))

    def reader(stage: str, resource_ids: list[str], outputs: Mapping[str, Any]) -> Live:
        return read_live(loaded.spec, loaded.registry, configs, resource_ids, outputs)

    return PolicyGate(engine), reader


def live_state(loaded: Loaded) -> Live:
    """The live state of every resource of the loaded spec that the state records:
    ids from each stage's stack, properties read from the cloud through the adapters
    (``provision policy check --phase post``)."""
    orch = session.orchestrator(loaded)
    configs = orch.runner.options.cloud_configs
    live: Live = {}
    for stage in loaded.stages.stages:
        snap = orch.runner.snapshot(orch.stack_name(stage.name))
        if snap is not None:
            live.update(read_live(loaded.spec, loaded.registry, configs, stage.resources,
                                  snap.outputs))
    return live
