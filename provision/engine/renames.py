"""Refuse a plan that renames a resource's id: a create and a delete of one cloud resource.

provision knows a resource by its id in the spec. Renaming the id (``q`` to ``queue``,
same queue name) plans ``+ queue`` and ``- q``: the create meets the existing
resource (and an API that creates-or-returns, like SQS CreateQueue, hands it over),
then the delete removes it. A resource type's identity is its ``force_new``
properties (what a change of replaces the resource: a name, a location, a parent);
a planned create and a planned delete of one type whose identities are equal and
known name the same cloud resource, and the plan is refused naming both ids. A name
made from a ``name_prefix`` is derived from every property, so there all of them count.

Types without a unique name (``create_token``: a VPC) are left out: two of them
with equal properties are two resources.
"""

from __future__ import annotations

from typing import Any

from provision.errors import RenamedResourceError
from provision.plan.model import Change, Plan, has_unknown
from provision.provider import AdapterRegistry
from provision.vocabulary import Action


def identity(change: Change, registry: AdapterRegistry) -> tuple[tuple[str, Any], ...] | None:
    """The cloud identity of the resource a create makes or a delete removes: its
    ``force_new`` properties (defaults filled in), as ``((name, value), ...)``, sorted; None
    when the type is unknown, has no unique name, or a value is known only after apply."""
    if change.type not in registry:
        return None
    schema = registry.schema(change.type)
    if schema.create_token:
        return None
    values = change.after if change.action is Action.CREATE else change.before
    if not values:
        return None
    keys = sorted(k for k, p in schema.properties.items() if p.force_new)
    if values.get("name_prefix") is not None:
        # The name is the prefix and a suffix derived from every other property
        # (providers/aws/common.physical_name): the same name needs all of them equal.
        keys = sorted(schema.properties)
    if all(values.get(k) is None for k in keys):
        return None                     # identified by defaults alone: not a name
    found = tuple((k, v) for k in keys
                  if (v := values[k] if values.get(k) is not None
                      else schema.properties[k].default) is not None)
    if any(has_unknown(v) for _, v in found):
        return None
    return found


def refuse_renames(plan: Plan, registry: AdapterRegistry) -> None:
    """Raise :class:`RenamedResourceError` for the first create in ``plan`` whose
    resource is the one a delete in ``plan`` removes (same type and identity)."""
    changes = [c for s in plan.stages for c in s.changes]
    deleted: dict[tuple[str, tuple[tuple[str, Any], ...]], Change] = {}
    for change in changes:
        if change.action is Action.DELETE:
            key = identity(change, registry)
            if key is not None:
                deleted[(change.type, _hashable(key))] = change
    for change in changes:
        if change.action is not Action.CREATE:
            continue
        key = identity(change, registry)
        old = deleted.get((change.type, _hashable(key))) if key is not None else None
        if old is not None and key is not None:
            given = [(k, v) for k, v in key if (change.after or {}).get(k) is not None]
            name = ", ".join(f"{k} '{v}'" if isinstance(v, str) else f"{k} {v!r}"
                             for k, v in given)
            where = f"{change.file}:{change.line}" if change.file else ""
            raise RenamedResourceError(old.id, change.id, change.type, f"with {name}", where)


def _hashable(key: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    return tuple((k, repr(v) if isinstance(v, (dict, list)) else v) for k, v in key)
