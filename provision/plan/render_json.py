"""The plan as JSON for pipelines (``provision plan --json``), schema version 1.

Documented in docs/spec.md ("Plan JSON"). Shape::

    {"format_version": "1.0", "spec": ..., "env": ..., "spec_file": ...,
     "spec_digest": ..., "state_digests": {stage: digest},
     "summary": {"create": n, "update": n, "replace": n, "delete": n, "noop": n},
     "stages": [{"name", "stack", "depends_on", "changes": [
         {"id", "type", "action", "stage", "file", "line", "before", "after",
          "unknown": ["tags.arn", ...], "inputs": {...} | null, "secrets": [name, ...],
          "diffs": [{"path", "before", "after", "replaces", "secret", "after_unknown"}]}]}]}

A value known only after apply is ``{"$unknown": true}`` (and its path is in
``unknown``); a secret value is ``{"$sensitive": true}``: never its text.
``inputs`` (format 1.1) is what apply declares for the resource: resolved
values, a reference to another resource as ``{"$ref": "${a.arn}"}`` (a string
with references in it likewise), secrets masked. ``secrets`` lists the top-level
properties never shown: secret in the schema, or derived from another resource's
secret (``tags: {copy: "${db.password}"}`` makes ``tags`` secret).
"""

from __future__ import annotations

from typing import Any

from provision.plan.diff import is_unknown
from provision.plan.model import Change, Plan, PropertyDiff
from provision.provider import AdapterRegistry
from provision.spec.model import Reference, Template

UNKNOWN_JSON: dict[str, Any] = {"$unknown": True}
SENSITIVE_JSON: dict[str, Any] = {"$sensitive": True}


def encode_value(value: Any) -> Any:
    """A property value as JSON: unknowns marked, everything else as is."""
    if is_unknown(value):
        return dict(UNKNOWN_JSON)
    if isinstance(value, dict):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    return value


REF_KEY = "$ref"


def encode_inputs(value: Any) -> Any:
    """Recorded inputs as JSON: references as ``{"$ref": "<their source text>"}``."""
    if isinstance(value, Reference):
        return {REF_KEY: str(value)}
    if isinstance(value, Template):
        return {REF_KEY: "".join(str(p) for p in value.parts)}
    if isinstance(value, dict):
        return {str(k): encode_inputs(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_inputs(v) for v in value]
    return value


def _inputs(props: dict[str, Any] | None, secrets: set[str]) -> dict[str, Any] | None:
    if props is None:
        return None
    return {k: dict(SENSITIVE_JSON) if k in secrets and v is not None else encode_inputs(v)
            for k, v in props.items()}


def _props(props: dict[str, Any] | None, secrets: set[str]) -> dict[str, Any] | None:
    if props is None:
        return None
    return {k: dict(SENSITIVE_JSON) if k in secrets and v is not None and not is_unknown(v)
            else encode_value(v) for k, v in props.items()}


def _diff(diff: PropertyDiff) -> dict[str, Any]:
    def shown(value: Any) -> Any:
        if diff.secret and value is not None and not is_unknown(value):
            return dict(SENSITIVE_JSON)
        return encode_value(value)

    return {"path": diff.path, "before": shown(diff.before), "after": shown(diff.after),
            "replaces": diff.replaces, "secret": diff.secret,
            "after_unknown": is_unknown(diff.after)}


def secret_names(change: Change, registry: AdapterRegistry | None = None) -> set[str]:
    """Top-level property names of ``change`` that must never be shown."""
    names = {d.path.split(".", 1)[0] for d in change.diffs if d.secret} | set(change.secrets)
    if registry is not None and change.type in registry:
        names |= {k for k, p in registry.schema(change.type).properties.items() if p.secret}
    return names


def change_to_json(change: Change, registry: AdapterRegistry | None = None) -> dict[str, Any]:
    secrets = secret_names(change, registry)
    return {
        "id": change.id, "type": change.type, "action": change.action.value,
        "stage": change.stage, "file": change.file, "line": change.line,
        "before": _props(change.before, secrets), "after": _props(change.after, secrets),
        "unknown": list(change.unknown),
        "diffs": [_diff(d) for d in change.diffs],
        "inputs": _inputs(change.inputs, secrets),
        "secrets": sorted(secrets),
    }


def plan_to_json(plan: Plan, registry: AdapterRegistry | None = None) -> dict[str, Any]:
    """The documented, versioned JSON form of a plan (secrets masked)."""
    return {
        "format_version": plan.format_version,
        "spec": plan.spec, "env": plan.env, "spec_file": plan.spec_file,
        "spec_digest": plan.spec_digest,
        "state_digests": dict(plan.state_digests),
        "targets": list(plan.targets), "excludes": list(plan.excludes),
        "summary": plan.summary(),
        "has_changes": plan.has_changes(),
        "stages": [
            {"name": s.name, "stack": s.stack, "depends_on": list(s.depends_on),
             "changes": [change_to_json(c, registry) for c in s.changes]}
            for s in plan.stages
        ],
    }
