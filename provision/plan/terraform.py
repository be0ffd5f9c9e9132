"""Export a plan in the shape of ``terraform show -json`` for Terraform-plan policy tools.

OPA/conftest policies and ``checkov -f plan.json`` read ``resource_changes[]``
(``address``, ``type``, ``name``, ``change.actions``, ``change.before``,
``change.after``, ``change.after_unknown``) and ``planned_values``. Our resource
types map to Terraform type names through each adapter's
``schema.terraform_type`` (``aws:s3:Bucket`` -> ``aws_s3_bucket``).

Deviations from Terraform, on purpose: values known only after apply are
absent from ``after`` and ``true`` in ``after_unknown`` (as Terraform does);
secret properties are never written: they are ``null`` with ``true`` in
``before_sensitive``/``after_sensitive``.
"""

from __future__ import annotations

import re
from typing import Any

from provision.plan.model import UNKNOWN, Action, Change, Plan, is_unknown, split_path
from provision.provider import AdapterRegistry

TERRAFORM_FORMAT_VERSION = "1.2"
# The Terraform CLI version whose JSON plan shape this export follows.
TERRAFORM_VERSION = "1.9.8"

_ACTIONS: dict[Action, list[str]] = {
    Action.CREATE: ["create"],
    Action.UPDATE: ["update"],
    Action.REPLACE: ["delete", "create"],
    Action.DELETE: ["delete"],
    Action.NOOP: ["no-op"],
}
_PROVIDERS = {"aws": "aws", "azure": "azurerm", "gcp": "google"}
_PROVIDER_SOURCES = {"aws": "hashicorp/aws", "azure": "hashicorp/azurerm",
                     "gcp": "hashicorp/google"}


def terraform_type(type_name: str, registry: AdapterRegistry) -> str:
    """The Terraform type for one of our types: the adapter's, else derived from the name."""
    if type_name in registry:
        return registry.schema(type_name).terraform_type
    cloud, _, rest = type_name.partition(":")
    words = [re.sub(r"(?<!^)(?=[A-Z])", "_", part).lower() for part in rest.split(":")]
    return "_".join([_PROVIDERS.get(cloud, cloud), *words])


def _split(value: Any, secret: bool) -> tuple[Any, Any, Any]:
    """(known value, unknown marks, sensitive marks) for one value, recursively."""
    if is_unknown(value):
        return None, True, secret
    if secret:
        return None, False, True
    if isinstance(value, dict):
        known: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        for key, item in value.items():
            k, u, _ = _split(item, False)
            if u is not True:
                known[key] = k
            if u:
                unknown[key] = u
        return known, unknown or False, False
    if isinstance(value, list):
        parts = [_split(item, False) for item in value]
        marks = [u if u else False for _, u, _ in parts]
        return [k for k, _, _ in parts], (marks if any(marks) else False), False
    return value, False, False


def _values(props: dict[str, Any] | None, secrets: set[str],
            unknown_paths: list[str]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    if props is None:
        return None, {}, {}
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    sensitive: dict[str, Any] = {}
    for key, value in props.items():
        known, u, s = _split(value, key in secrets)
        if u is not True:
            values[key] = known
        if u:
            unknown[key] = u
        if s:
            sensitive[key] = True
    for path in unknown_paths:
        _mark(unknown, split_path(path))
        _drop(values, split_path(path))
    return values, unknown, sensitive


def _mark(tree: dict[str, Any], parts: list[str]) -> None:
    for part in parts[:-1]:
        node = tree.get(part)
        if not isinstance(node, dict):
            node = tree[part] = {}
        tree = node
    tree[parts[-1]] = True


def _drop(tree: dict[str, Any], parts: list[str]) -> None:
    for part in parts[:-1]:
        node = tree.get(part)
        if not isinstance(node, dict):
            return
        tree = node
    tree.pop(parts[-1], None)


def _secrets(change: Change, registry: AdapterRegistry) -> set[str]:
    names = {split_path(d.path)[0] for d in change.diffs if d.secret}
    if change.type in registry:
        names |= {k for k, p in registry.schema(change.type).properties.items() if p.secret}
    return names


def _resource_change(change: Change, registry: AdapterRegistry) -> dict[str, Any]:
    tf_type = terraform_type(change.type, registry)
    secrets = _secrets(change, registry)
    before, _, before_sensitive = _values(change.before, secrets, [])
    after, after_unknown, after_sensitive = _values(
        None if change.action is Action.DELETE else change.after, secrets, change.unknown)
    cloud = change.type.split(":", 1)[0]
    return {
        "address": f"{tf_type}.{change.id}",
        "mode": "managed",
        "type": tf_type,
        "name": change.id,
        "provider_name": f"registry.terraform.io/{_PROVIDER_SOURCES.get(cloud, cloud)}",
        "change": {
            "actions": list(_ACTIONS[change.action]),
            "before": before,
            "after": after,
            "after_unknown": after_unknown,
            "before_sensitive": before_sensitive if change.before is not None else False,
            "after_sensitive": after_sensitive if after is not None else False,
        },
        # Not in Terraform's format: where provision planned it, for policy messages.
        "provision": {"stage": change.stage, "file": change.file, "line": change.line,
                      "type": change.type},
    }


def to_terraform_plan(plan: Plan, registry: AdapterRegistry) -> dict[str, Any]:
    """The plan as a ``terraform show -json`` document."""
    changes: list[dict[str, Any]] = []
    planned: list[dict[str, Any]] = []
    for stage in plan.stages:
        for change in stage.changes:
            rc = _resource_change(change, registry)
            changes.append(rc)
            if change.action is not Action.DELETE:
                planned.append({
                    "address": rc["address"], "mode": "managed", "type": rc["type"],
                    "name": rc["name"], "provider_name": rc["provider_name"],
                    "schema_version": 0, "values": rc["change"]["after"] or {},
                    "sensitive_values": rc["change"]["after_sensitive"] or {},
                })
    return {
        "format_version": TERRAFORM_FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": [
            {"address": p["address"], "mode": "managed", "type": p["type"], "name": p["name"],
             "provider_config_key": p["provider_name"].rsplit("/", 1)[-1],
             "expressions": {}, "schema_version": 0}
            for p in planned]}},
        "provision": {"spec": plan.spec, "env": plan.env, "spec_file": plan.spec_file,
                      "format_version": plan.format_version},
    }
