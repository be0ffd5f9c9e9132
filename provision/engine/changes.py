"""Turn the engine's steps for one stage into the plan's typed changes."""

from __future__ import annotations

from typing import Any, Iterable

from provision.engine.protocol import StackProgram, Step
from provision.engine.secrets import secret_properties
from provision.plan.model import (UNKNOWN, Action, Change, PropertyDiff, has_unknown, split_path,
                                  unknown_paths)
from provision.provider import AdapterRegistry
from provision.spec.model import Spec
from provision.vocabulary import StepOp

# The engine's step ops that plan a change, and the action each one plans.
_OPS: dict[StepOp, Action] = {
    StepOp.SAME: Action.NOOP,
    StepOp.CREATE: Action.CREATE,
    StepOp.UPDATE: Action.UPDATE,
    StepOp.REPLACE: Action.REPLACE,
    StepOp.CREATE_REPLACEMENT: Action.REPLACE,
    StepOp.DELETE_REPLACED: Action.REPLACE,
    StepOp.DELETE: Action.DELETE,
}


def _inputs(props: dict[str, Any] | None, declared: set[str]) -> dict[str, Any] | None:
    if props is None:
        return None
    return {k: v for k, v in props.items() if k in declared and v is not None}


def stage_changes(spec: Spec, stage: str, resource_ids: Iterable[str], steps: list[Step],
                  registry: AdapterRegistry, prior_types: dict[str, str]) -> list[Change]:
    """One change per resource of the stage (noop when the engine had nothing to do),
    plus deletes of resources that left the spec."""
    by_resource: dict[str, Step] = {}
    for step in steps:
        action = _OPS.get(step.op)
        if action is None:
            continue
        seen = by_resource.get(step.resource)
        # A replacement shows as several steps; keep the one that names the replacement.
        if seen is None or _OPS[seen.op] is Action.NOOP or step.op is StepOp.REPLACE:
            by_resource[step.resource] = step

    changes: list[Change] = []
    derived = secret_properties(spec, registry, [r for r in resource_ids if r in spec.resources])
    ordered = list(resource_ids) + sorted(r for r in by_resource if r not in spec.resources)
    for rid in ordered:
        resource = spec.resources.get(rid)
        type_name = resource.type if resource else prior_types.get(rid, "unknown")
        schema = registry.schema(type_name) if type_name in registry else None
        declared = set(schema.properties) if schema else set()
        secret = set(derived.get(rid, frozenset()))
        if schema:
            secret |= {k for k, p in schema.properties.items() if p.secret}
        cur: Step | None = by_resource.get(rid)
        action = _OPS[cur.op] if cur else Action.NOOP
        if resource is None and action is Action.NOOP:
            continue
        before = _before(cur, action, declared) if cur else None
        after = (_inputs(cur.new_inputs, declared)
                 if cur and action is not Action.DELETE else None)
        if action is Action.CREATE:
            before = None
        unknown = sorted(p for p in unknown_paths(cur.new_inputs or {}) if p) if cur else []
        diffs = _diffs(action, before, after, set(cur.replace_keys) if cur else set(), secret)
        loc = resource.location if resource else None
        changes.append(Change(
            id=rid, type=type_name, action=action, stage=stage, before=before, after=after,
            diffs=diffs, unknown=[u for u in unknown if split_path(u)[0] in declared],
            file=loc.file if loc else "", line=loc.line if loc else 0,
            secrets=sorted(secret),
        ))
    return changes


# The path under which a change of a resource's ``protect`` shows among its diffs.
PROTECT_PATH = "protect"


def protect_changes(changes: list[Change], program: StackProgram,
                    protected: frozenset[str] | None) -> None:
    """Mark, in place, each change of a resource the stack records (``protected``: the
    ids it records as protected; None when the stack records nothing) whose declared
    ``protect`` differs from the recorded one: a diff ``protect: before -> after``, and
    a no-op becomes an update. Only an update records the new flag (the engine refuses
    to delete a resource recorded as protected, whatever the spec says now), so the
    stage must not be skipped as unchanged. Creates, replacements and deletes are left
    as they are: a create records its flag itself."""
    if protected is None:
        return
    for change in changes:
        decl = program.get(change.id)
        if decl is None or change.action not in (Action.NOOP, Action.UPDATE):
            continue
        before = change.id in protected
        if decl.protect == before:
            continue
        if change.action is Action.NOOP:
            change.action = Action.UPDATE
        change.diffs = [*change.diffs, PropertyDiff(PROTECT_PATH, before, decl.protect)]


# The path under which a resource's move to a new id (``moved_from``) shows among its diffs.
MOVED_PATH = "moved_from"


def moved_changes(changes: list[Change], program: StackProgram,
                  recorded: frozenset[str] | set[str]) -> None:
    """Mark, in place, each change of a resource the stack records under an id of its
    ``moved_from`` (``recorded``: the ids the stack records), not under its own: a diff
    ``moved_from: old -> new``, and a no-op becomes an update, so the stage's update runs
    and the engine records the resource under its new id (nothing changes in the cloud)."""
    for change in changes:
        decl = program.get(change.id)
        if decl is None or change.id in recorded or change.action not in (Action.NOOP,
                                                                          Action.UPDATE):
            continue
        old = next((a for a in decl.aliases if a in recorded), None)
        if old is None:
            continue
        if change.action is Action.NOOP:
            change.action = Action.UPDATE
        change.diffs = [*change.diffs, PropertyDiff(MOVED_PATH, old, change.id)]


def _before(step: Step, action: Action, declared: set[str]) -> dict[str, Any] | None:
    """What the resource is before the step: its recorded inputs, except that an update
    or replacement shows the refreshed live value of each property it changes. After
    drift the recorded inputs still equal the spec, so without this an update that
    brings a resource back would list no property at all."""
    before = _inputs(step.old_inputs, declared)
    live = step.old_outputs
    if before is None or live is None or action not in (Action.UPDATE, Action.REPLACE):
        return before
    new = step.new_inputs or {}
    keys = set(step.diff_keys) or {
        k for k, v in new.items() if k in live and not has_unknown(v) and live[k] != v}
    for key in keys & declared:
        if key in live and key in before:
            before[key] = live[key]
    return before


def _diffs(action: Action, before: dict[str, Any] | None, after: dict[str, Any] | None,
           replace_keys: set[str], secret: set[str]) -> list[PropertyDiff]:
    if action is Action.NOOP:
        return []
    old, new = before or {}, after or {}
    keys = sorted(set(old) | set(new))
    out: list[PropertyDiff] = []
    for key in keys:
        o, n = old.get(key), new.get(key)
        if action is not Action.DELETE and o == n and n is not UNKNOWN:
            continue
        out.append(PropertyDiff(path=key, before=o, after=n if action is not Action.DELETE else None,
                                replaces=key in replace_keys, secret=key in secret))
    return out
