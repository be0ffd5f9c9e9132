"""Fixtures for the policy tests: the baseline packs loaded per environment."""

from __future__ import annotations

from typing import Callable

import pytest

import providers
from policy_helpers import POLICIES, TODAY
from provision.policy import PolicyEngine


@pytest.fixture(scope="session")
def baseline() -> Callable[..., PolicyEngine]:
    """Load the repo's baseline packs for an environment (cached per environment)."""
    cache: dict[str, PolicyEngine] = {}

    def load(env: str = "prod") -> PolicyEngine:
        if env not in cache:
            cache[env] = PolicyEngine.load(POLICIES, env=env, registry=providers.registry(),
                                           waivers=[], today=TODAY)
        return cache[env]

    return load


@pytest.fixture(params=["opa", "regopy"])
def rego_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per Rego engine (provision.policy.opa; OPA must be built)."""
    monkeypatch.setenv("PROVISION_REGO_ENGINE", request.param)
    return str(request.param)
