"""Checking a spec's values against the clouds' documented constraints, located.

The schema of each resource type carries the constraints (``PropertySchema.constraints``,
``ResourceSchema.rules``; the kinds live in :mod:`provision.constraints`). Here they are
applied to what the spec says: every literal value of every resource, every
environment override, and the values a resolved spec gets from its variables. A
violation becomes a :class:`Diagnostic` at the file and line where the value was
written, with the documentation that states the limit in its hint, so it is a
``validate``/``plan`` error and never reaches a cloud API.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from provision.constraints import Constraint, Rule, Violation, check_resource
from provision.errors import Diagnostic
from provision.provider import AdapterRegistry, ResourceSchema
from provision.spec.build import locate
from provision.spec.model import Reference, Resource, SourceLocation, Spec
from provision.spec.resolve import merge


def check_constraints(spec: Spec, registry: AdapterRegistry, *,
                      overrides: bool = True) -> list[Diagnostic]:
    """Every constraint violation in ``spec``, in resource order.

    On a raw spec (``overrides=True``) each environment's overrides are checked too,
    located where the override was written; on a resolved spec (overrides already merged,
    variables substituted) pass ``overrides=False``. Resources of unknown types are
    skipped (validation reports those). Values that are references or templates are
    unknown until apply and never violate anything.
    """
    found: list[Diagnostic] = []
    # type name -> (schema, its property constraints, its rules) or None when unconstrained
    by_type: dict[str, _Checks | None] = {}
    for rid, res in spec.resources.items():
        if res.type not in by_type:
            by_type[res.type] = _checks(registry, res.type)
        checks = by_type[res.type]
        if checks is None:
            continue
        schema = checks[0]
        for violation in _violations(checks, res.properties, spec, resolved=not overrides):
            found.append(_diagnostic(res, schema, violation, locate(res, violation.path)))
        for env in spec.environments.values() if overrides else ():
            override = env.overrides.get(rid)
            if not override:
                continue
            merged = merge(res.properties, override)
            for violation in _violations(checks, merged, spec, resolved=False):
                name = violation.path.split(".", 1)[0]
                if name in override:
                    loc = env.override_locations.get(f"{rid}.{name}", env.location)
                    found.append(_diagnostic(res, schema, violation, loc,
                                             f"environment '{env.name}' overrides: "))
    return found


# A type's schema, its properties' constraints by name, and its rules.
_Checks = tuple[ResourceSchema, dict[str, Sequence[Constraint]], Sequence[Rule]]


def _checks(registry: AdapterRegistry, type_name: str) -> _Checks | None:
    """What to check resources of ``type_name`` against; None for an unknown type or
    one with no constraints (validation reports unknown types)."""
    if type_name not in registry:
        return None
    schema = registry.schema(type_name)
    if not _constrained(schema):
        return None
    return schema, {name: p.constraints for name, p in schema.properties.items()}, schema.rules


def _constrained(schema: ResourceSchema) -> bool:
    return bool(schema.rules) or any(p.constraints for p in schema.properties.values())


def _violations(checks: _Checks, props: Mapping[str, Any], spec: Spec, *,
                resolved: bool) -> list[Violation]:
    """Violations in ``props``; rules that need the overrides merged
    (``after_overrides``) only when ``resolved``."""
    _, constraints, all_rules = checks
    def related(name: str) -> Mapping[str, Any] | None:
        value = props.get(name)
        if isinstance(value, Reference) and value.kind == "resource":
            target = spec.resources.get(value.target)
            return target.properties if target is not None else None
        return None

    rules = [r for r in all_rules if resolved or not getattr(r, "after_overrides", False)]
    return check_resource(constraints, rules, props, related)


def _diagnostic(res: Resource, schema: ResourceSchema, violation: Violation,
                loc: SourceLocation | None, prefix: str = "") -> Diagnostic:
    name = violation.path.split(".", 1)[0]
    prop = schema.properties.get(name)
    message = violation.message
    if prop is not None and prop.secret:
        # A secret's value never appears in a message; its length or shape may.
        value = res.properties.get(name)
        if isinstance(value, str) and value:
            message = message.replace(value, "***").replace(repr(value)[:37], "'***")
    hint = f"documented at {violation.source}" if violation.source else ""
    text = f"{prefix}property '{violation.path}' {message}" if violation.path else \
        f"{prefix}{message}"
    if loc is None:
        return Diagnostic(text, resource=res.id, hint=hint)
    return Diagnostic(text, file=loc.file, line=loc.line, column=loc.column,
                      resource=res.id, hint=hint)
