"""Resolve a spec for one environment: variables, environment settings, overrides.

After :func:`resolve`, the only references left in resource properties are
``Reference(kind="resource")`` values (and Templates containing them); the
engine substitutes those stage by stage once upstream outputs are known.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable

from provision.errors import Diagnostic, EnvironmentNotFoundError, SpecError
from provision.spec.build import locate, value_matches
from provision.spec.hints import did_you_mean, one_of
from provision.spec.model import Environment, GraphMemo, Reference, Resource, SourceLocation, Spec
from provision.spec.perf import gc_paused
from provision.spec.refs import iter_references, located_references, substitute

Report = Callable[[Reference, str, str], None]  # (reference, message, hint)


def _at(loc: SourceLocation | None, message: str, resource: str = "",
        hint: str = "") -> Diagnostic:
    if loc is None:
        return Diagnostic(message, resource=resource, hint=hint)
    return Diagnostic(message, file=loc.file, line=loc.line, column=loc.column,
                      resource=resource, hint=hint)


def variable_values(spec: Spec, env: Environment, diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """The value of every variable in ``env``: the environment's value, else the default."""
    values: dict[str, Any] = {}
    for name, value in env.variables.items():
        if name not in spec.variables:
            diagnostics.append(_at(env.location,
                                   f"environment '{env.name}' sets unknown variable '{name}'",
                                   hint=did_you_mean(name, spec.variables,
                                                     fallback=one_of(spec.variables))))
            continue
        var = spec.variables[name]
        if not value_matches(var.type, value):
            diagnostics.append(_at(env.location,
                                   f"environment '{env.name}' sets variable '{name}' "
                                   f"to a value that is not a {var.type}"))
        values[name] = value
    for name, var in spec.variables.items():
        if name in values:
            continue
        if var.required:
            diagnostics.append(_at(
                env.location,
                f"missing required variable '{name}' in environment '{env.name}'",
                hint=f"set environments.{env.name}.variables.{name} "
                     "or give the variable a default"))
        else:
            values[name] = var.default
    return values


def make_lookup(spec: Spec, env: Environment, values: dict[str, Any],
                report: Report) -> Callable[[Reference], tuple[bool, Any]]:
    """A substitution callback for ``var`` and ``env`` references; resource refs stay."""

    def lookup(ref: Reference) -> tuple[bool, Any]:
        if ref.kind == "var":
            if ref.target in values:
                return True, values[ref.target]
            if ref.target not in spec.variables:
                report(ref, f"unknown variable '{ref.target}' in {ref}",
                       did_you_mean(ref.target, spec.variables,
                                    fallback=one_of(spec.variables)))
            return False, None
        if ref.kind == "env":
            if ref.target == "name" and not ref.attribute:
                return True, env.name
            settings = env.clouds.get(ref.target)
            if settings is None or ref.attribute not in settings:
                known = [f"{c}.{k}" for c, s in env.clouds.items() for k in s] + ["name"]
                report(ref, f"{ref} is not set in environment '{env.name}'",
                       did_you_mean(f"{ref.target}.{ref.attribute}", known,
                                    fallback=f"set it under environments.{env.name}."
                                             f"{ref.target}"))
                return False, None
            return True, settings[ref.attribute]
        return False, None

    return lookup


def merge(base: Any, override: Any) -> Any:
    """Deep-merge maps; any other override value replaces the base value."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def resolve(spec: Spec, env: str) -> Spec:
    """A new Spec for environment ``env`` with variables, env settings and overrides applied."""
    with gc_paused():
        return _resolve(spec, env)


def _resolve(spec: Spec, env: str) -> Spec:
    if env not in spec.environments:
        raise EnvironmentNotFoundError(env, spec.path, list(spec.environments))
    environment = spec.environments[env]
    diagnostics: list[Diagnostic] = []
    values = variable_values(spec, environment, diagnostics)
    resources: dict[str, Resource] = {}
    for rid in environment.overrides:
        if rid not in spec.resources:
            diagnostics.append(_at(environment.location,
                                   f"environment '{env}' overrides unknown resource '{rid}'",
                                   hint=did_you_mean(rid, spec.resources,
                                                     fallback=one_of(spec.resources))))
    # One lookup for every value; ``at`` says whose value is being resolved, for reports.
    at: list[Any] = [None, "", None, None]      # resource, property key, value, location

    def report(ref: Reference, message: str, hint: str) -> None:
        res, key, value, loc = at
        where = next((p for p, r in located_references(value, key) if r == ref), "")
        if where and key in res.properties:
            loc = locate(res, where)
        diagnostics.append(_at(loc, message, resource=res.id, hint=hint))

    lookup = make_lookup(spec, environment, values, report)
    for rid, res in spec.resources.items():
        override = environment.overrides.get(rid, {})
        props: dict[str, Any] = merge(res.properties, override) if override else res.properties
        # Shared with ``res`` (neither is changed once built), copied only to add the
        # location of a property that only an override writes.
        locations = res.property_locations
        resolved: dict[str, Any] = {}
        for key, value in props.items():
            loc = locations.get(key) or environment.location or res.location
            if loc is not None and key not in locations:
                if locations is res.property_locations:
                    locations = dict(locations)
                locations[key] = loc
            at[0], at[1], at[2], at[3] = res, key, value, loc
            resolved[key] = substitute(value, lookup)
        resources[rid] = _with_properties(res, resolved, locations)
    if diagnostics:
        raise SpecError(list(dict.fromkeys(diagnostics)))
    result = dataclasses.replace(spec, resources=resources)
    memo = spec.graph_memo
    if memo is not None and memo.fits(spec) and _same_resource_references(spec, environment):
        # Resolving replaces no resource reference, so the graph is that of ``result``.
        spec.graph_memo = None
        result.graph_memo = GraphMemo.of(result, memo.graph)
    return result


def _same_resource_references(spec: Spec, env: Environment) -> bool:
    """Do ``env``'s overrides leave every resource reference (the dependency graph) as is?

    Conservative: no overridden property may hold a resource reference, before or after.
    """
    for rid, props in env.overrides.items():
        res = spec.resources.get(rid)
        for key, value in props.items():
            if _has_resource_reference(value) or (
                    res is not None and _has_resource_reference(res.properties.get(key))):
                return False
    return True


def _has_resource_reference(value: Any) -> bool:
    return any(ref.kind == "resource" for ref in iter_references(value))


def _with_properties(res: Resource, properties: dict[str, Any],
                     property_locations: dict[str, SourceLocation]) -> Resource:
    """``dataclasses.replace(res, properties=..., property_locations=...)``, without its
    per-call field introspection (10k resources: a tenth of resolve's time)."""
    return Resource(id=res.id, type=res.type, properties=properties, stage=res.stage,
                    depends_on=res.depends_on, protect=res.protect, location=res.location,
                    property_locations=property_locations, moved_from=res.moved_from,
                    type_at=res.type_at, depends_on_at=res.depends_on_at)
