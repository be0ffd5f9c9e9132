"""``<policies>/config.yaml``: per-environment enforcement overrides across packs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policy_helpers import POLICIES
from provision.errors import PolicyError
from provision.policy import Enforcement, PolicyEngine


def _policies(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "policies"
    for pack in ("azure", "governance"):
        shutil.copytree(POLICIES / pack, root / pack)
    (root / "config.yaml").write_text(config)
    return root


def test_config_overrides_rules_and_pack_defaults_per_environment(tmp_path: Path) -> None:
    root = _policies(tmp_path, """
environments:
  prod:
    rules: {PRV-AZ-003: mandatory, PRV-GOV-003: advisory}
  dev:
    packs: {governance: mandatory}
""")
    prod = PolicyEngine.load(root, env="prod", waivers=[])
    dev = PolicyEngine.load(root, env="dev", waivers=[])
    staging = PolicyEngine.load(root, env="staging", waivers=[])
    # a rule's own `enforcement: advisory` loses to the config rule override
    assert prod.rules["PRV-AZ-003"].enforcement is Enforcement.MANDATORY
    # the manifest makes governance mandatory in prod; the config relaxes one rule
    assert prod.rules["PRV-GOV-003"].enforcement is Enforcement.ADVISORY
    assert prod.rules["PRV-GOV-001"].enforcement is Enforcement.MANDATORY
    assert dev.rules["PRV-GOV-001"].enforcement is Enforcement.MANDATORY
    assert staging.rules["PRV-GOV-001"].enforcement is Enforcement.ADVISORY
    assert staging.rules["PRV-AZ-003"].enforcement is Enforcement.ADVISORY


@pytest.mark.parametrize("config, message", [
    ("environments:\n  prod:\n    rules: {PRV-NOPE-1: mandatory}\n", "unknown rule 'PRV-NOPE-1'"),
    ("environments:\n  prod:\n    packs: {nope: mandatory}\n", "unknown pack 'nope'"),
    ("environments:\n  prod:\n    rules: {PRV-AZ-003: always}\n", "invalid enforcement 'always'"),
    ("rules: {}\n", "expected only 'environments:'"),
])
def test_bad_config_is_a_policy_error(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicyEngine.load(_policies(tmp_path, config), env="prod", waivers=[])
