"""Wire the policy engine into apply: the gate and the live-state reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from provision.cli import session
from provision.cli.session import Loaded, sandbox_settings
from provision.engine.clouds import cloud_configs
from provision.engine.live import read_live
from provision.engine.hooks import LiveReader
from provision.engine.stack_values import stack_name
from provision.graph.stages import build_stages
from provision.plan.model import Live, Plan, StagePlan
from provision.policy import PolicyEngine, PolicyReport
from provision.spec.model import Spec


class PolicyGate:
    """The engine's view of the policy engine (see provision.engine.hooks.Gate).
    Stateless: every result is located by the change or live record it judges."""

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> PolicyReport:
        return self.engine.check_pre(stage_plan, plan)

    def check_post(self, stage: str, live: Live) -> PolicyReport:
        return self.engine.check_post(stage, live)


def build_gate(loaded: Loaded, directory: Path) -> tuple[PolicyGate, LiveReader]:
    configs = cloud_configs(loaded.env, sandbox_settings(loaded.env))
    engine = PolicyEngine.load(directory, env=loaded.env.name, registry=loaded.registry,
                               settings={n: dict(c.settings) for n, c in configs.items()})

    def reader(stage: str, resource_ids: list[str], outputs: Mapping[str, Any]) -> Live:
        return read_live(loaded.spec, loaded.registry, configs, resource_ids, outputs)

    return PolicyGate(engine), reader


def live_state(spec: Spec, env: str) -> Live:
    """The live state of every resource of the resolved ``spec`` in ``env`` that the state
    records: ids from each stage's stack, properties read from the cloud through the
    adapters, each located in the spec (``provision policy check --phase post``).
    Reads the spec it is given; nothing is loaded again."""
    import providers

    environment = spec.environments[env]
    registry = providers.registry()
    configs = cloud_configs(environment, sandbox_settings(environment))
    engine = session.engine(spec, environment)
    live: Live = {}
    for stage in build_stages(spec).stages:
        snap = engine.snapshot(stack_name(spec.name, env, stage.name))
        if snap is not None:
            live.update(read_live(spec, registry, configs, stage.resources, snap.outputs))
    return live
