"""What a rollout needs from one environment: the seam between the rollout state
machine (:mod:`provision.rollout.machine`) and the engine.

The product's implementation is :class:`provision.cli.rollout_driver.EngineDriver`
(the real orchestrator and Pulumi engine); tests drive the machine with fakes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from provision.engine.orchestrator import ApplyReport, Hooks
from provision.plan.model import Plan
from provision.rollout.health import Probe
from provision.spec.model import HealthCheck


class EnvDriver(Protocol):
    """One environment of the spec, ready to plan and apply."""

    @property
    def name(self) -> str: ...

    @property
    def needs_approval(self) -> bool: ...

    @property
    def health_checks(self) -> list[HealthCheck]: ...

    @property
    def stage_graph(self) -> dict[str, list[str]]:
        """{stage: [stages it depends on]}, in execution order."""

    def resolved_digest(self) -> str:
        """The digest of the spec as resolved for this environment, as the driver plans
        and applies it (:func:`provision.spec.digest.resolved_digest`)."""

    def resolved_digests(self, envs: list[str]) -> dict[str, str]:
        """{env: the digest of the spec as it is now, resolved for ``env``} for other
        environments of the spec (:func:`provision.spec.digest.resolved_digests`)."""

    def plan(self) -> Plan:
        """A fresh plan of the environment (spec digest and state digests set)."""

    def plan_digest(self, plan: Plan) -> str:
        """The digest an approval binds to (:func:`provision.plan.digest.plan_digest`)."""

    def save_plan(self, plan: Plan, path: Path) -> None: ...

    def load_plan(self, path: Path) -> Plan: ...

    def moved(self, plan: Plan) -> str:
        """Why ``plan`` no longer matches the spec or the environment's state ('' if
        it still does)."""

    def apply(self, plan: Plan, *, saved: bool) -> ApplyReport:
        """Apply ``plan``; ``saved``: exactly this plan (refuse a stage whose state or
        changes moved) instead of re-planning stages whose values were unknown."""

    def remember(self) -> Any:
        """Each stage's recorded inputs now (what a rollback returns to)."""

    def rollback(self, remembered: Any, stages: list[str]) -> dict[str, str]:
        """Return ``stages`` (in the order given) to their remembered inputs;
        {stage: '' on success, else the error}."""

    def probe(self) -> Probe:
        """Read access to the live environment for its health checks."""

    def close(self, status: str) -> None:
        """Done with the environment (``status``: how it ended); releases what it holds."""


class DriverFactory(Protocol):
    def __call__(self, env: str, hooks: Hooks) -> EnvDriver: ...
