"""Project-level enforcement overrides: ``<policies>/config.yaml``, beside the packs.

Lets a project tighten or relax packs it does not own (vendored or shared
packs) per environment, without editing their manifests::

    environments:
      prod:
        packs: {governance: mandatory}       # the pack's default in prod
        rules: {PRV-AZ-003: mandatory}       # one rule in prod: the strongest setting

Precedence, strongest first: config rule > manifest ``environments.<env>.rules``
> the rule's own ``enforcement`` > config pack > manifest
``environments.<env>.enforcement`` > manifest ``enforcement``. A rule id or
pack name that matches nothing is an error (a typo must not silently enforce
nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from provision.errors import PolicyError
from provision.policy.files import read_policy_yaml
from provision.policy.model import Enforcement
from provision.policy.pack import Pack

CONFIG_FILE = "config.yaml"


def _enforcement(value: Any, where: str) -> Enforcement:
    try:
        return Enforcement(str(value).lower())
    except ValueError:
        raise PolicyError(f"{where}: invalid enforcement '{value}'",
                          hint="use advisory, mandatory or disabled") from None


def read_config(path: Path) -> dict[str, Any]:
    if not path.exists() and not path.is_symlink():
        return {}
    data = read_policy_yaml(path, "policy config").data or {}
    if not isinstance(data, dict) or set(data) - {"environments"}:
        raise PolicyError(f"{path}: expected only 'environments:'",
                          hint="environments: {<env>: {packs: {...}, rules: {...}}}")
    return data


def apply_config(packs: list[Pack], config: dict[str, Any], env: str, where: str) -> None:
    """Apply the overrides for ``env`` to the loaded packs (in place)."""
    env_conf = (config.get("environments") or {}).get(env) or {}
    if not isinstance(env_conf, dict) or set(env_conf) - {"packs", "rules"}:
        raise PolicyError(f"{where}: environment '{env}' takes only 'packs' and 'rules'")
    by_name = {p.name: p for p in packs}
    for name, value in (env_conf.get("packs") or {}).items():
        if name not in by_name:
            raise PolicyError(f"{where}: unknown pack '{name}' for environment '{env}'",
                              hint=f"packs: {', '.join(sorted(by_name))}")
        by_name[name].env_enforcement = _enforcement(value, where)
    owner = {meta.id: p for p in packs for meta, _, _ in p.metas()}
    for rule_id, value in (env_conf.get("rules") or {}).items():
        if rule_id not in owner:
            raise PolicyError(f"{where}: unknown rule '{rule_id}' for environment '{env}'",
                              hint="rule ids are listed by: provision policy check --format json")
        owner[rule_id].rule_overrides[rule_id] = _enforcement(value, where)
