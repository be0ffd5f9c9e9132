"""Semantic validation of a spec against the adapters' schemas, all errors at once.

Checks: unknown resource types, unknown / mistyped / missing required
properties, references to unknown resources, outputs, variables or environment
settings, unknown ``depends_on`` targets and override targets, required
variables each environment leaves unset, and resource or stage cycles. Works on
a spec before or after :func:`provision.spec.resolve`.
"""

from __future__ import annotations

from typing import Any

from provision.errors import CycleError, Diagnostic, SpecError
from provision.coerce import element_problem
from provision.provider import AdapterRegistry, PropertySchema, ResourceSchema
from provision.spec.hints import did_you_mean, one_of
from provision.spec.build import locate
from provision.spec.constraints import check_constraints
from provision.spec.model import (Environment, GraphMemo, Reference, Resource, SourceLocation,
                                  Spec, Template)
from provision.spec.perf import gc_paused
from provision.spec.refs import located_references
from provision.spec.resolve import make_lookup, variable_values

# Which value kinds a schema property type accepts.
_ACCEPTS: dict[str, tuple[str, ...]] = {
    "string": ("string",),
    "integer": ("integer",),
    "number": ("integer", "number"),
    "boolean": ("boolean",),
    "map": ("map",),
    "object": ("map",),
    "list": ("list",),
}
_VAR_KINDS = {"string": "string", "number": "number", "bool": "boolean", "list": "list",
              "map": "map"}


def _diag(loc: SourceLocation | None, message: str, resource: str = "",
          hint: str = "") -> Diagnostic:
    if loc is None:
        return Diagnostic(message, resource=resource, hint=hint)
    return Diagnostic(message, file=loc.file, line=loc.line, column=loc.column,
                      resource=resource, hint=hint)


def _literal_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (str, Template)):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return None  # null or a reference: checked elsewhere


class _Validator:
    def __init__(self, spec: Spec, registry: AdapterRegistry) -> None:
        self.spec = spec
        self.registry = registry
        self.diagnostics: list[Diagnostic] = []
        self.schemas: dict[str, ResourceSchema] = {}
        # What resource() found in each resource's properties, for environments():
        # rid -> [(property key, located references in its value)].
        self.located: dict[str, list[tuple[str, list[tuple[str, Reference]]]]] = {}
        self._readable: dict[str, set[str]] = {}    # type name -> schema.readable()
        self._required: dict[str, list[str]] = {}   # type name -> required()

    def add(self, loc: SourceLocation | None, message: str, resource: str = "",
            hint: str = "") -> None:
        self.diagnostics.append(_diag(loc, message, resource, hint))

    def run(self) -> list[Diagnostic]:
        known = self.registry.types()
        for rid, res in self.spec.resources.items():
            if not res.type:
                continue
            if res.type in self.registry:
                self.schemas[rid] = self.registry.schema(res.type)
            else:
                self.add(res.type_location,
                         f"unknown resource type '{res.type}'", rid,
                         did_you_mean(res.type, known, fallback=one_of(known)))
        for rid, res in self.spec.resources.items():
            self.resource(rid, res)
        self.environments()
        self.cycles()
        return self.diagnostics

    def ref_kind(self, ref: Reference) -> str | None:
        """The value kind a reference yields, when it can be known statically."""
        if ref.kind == "var" and ref.target in self.spec.variables:
            return _VAR_KINDS.get(self.spec.variables[ref.target].type)
        if ref.kind == "resource" and ref.target in self.schemas and "." not in ref.attribute:
            schema = self.schemas[ref.target]
            if ref.attribute in schema.outputs:
                return _ACCEPTS.get(schema.outputs[ref.attribute], (None,))[0]
            if ref.attribute in schema.properties:
                return _ACCEPTS.get(schema.properties[ref.attribute].type, (None,))[0]
            if ref.attribute == "id":
                return "string"
        return None

    def readable(self, schema: ResourceSchema) -> set[str]:
        """``schema.readable()``, made once per type."""
        found = self._readable.get(schema.type_name)
        if found is None:
            found = self._readable[schema.type_name] = schema.readable()
        return found

    def required(self, schema: ResourceSchema) -> list[str]:
        """The required properties of ``schema`` that have no default, found once per type."""
        found = self._required.get(schema.type_name)
        if found is None:
            found = self._required[schema.type_name] = [
                key for key, prop in schema.properties.items()
                if prop.required and prop.default is None]
        return found

    def resource(self, rid: str, res: Resource) -> None:
        schema = self.schemas.get(rid)
        located = self.located[rid] = []
        templated: list[Reference] = []     # the references written inside strings
        for key, value in res.properties.items():
            loc = res.property_locations.get(key, res.location)
            refs: list[tuple[str, Reference]] = []
            if not isinstance(value, str):
                _located_references(value, key, refs, templated)
            located.append((key, refs))
            self.references(rid, refs, res)
            if schema is None:
                continue
            if key not in schema.properties:
                self.add(loc, f"unknown property '{key}' for type '{res.type}'", rid,
                         did_you_mean(key, schema.properties,
                                      fallback=one_of(schema.properties)))
                continue
            self.check_type(rid, key, value, schema.properties[key].type, loc)
            self.check_items(rid, key, value, schema.properties[key], res)
        if any(self.interpolated_kind(ref) in ("map", "list") for ref in templated):
            for key, value in res.properties.items():
                self.interpolations(rid, key, value, res)
        if schema is not None:
            for key in self.required(schema):
                if key not in res.properties and not self.overridden(rid, key):
                    self.add(res.location, f"missing required property '{key}' "
                             f"for type '{res.type}'", rid,
                             f"add it under resources.{rid}.properties")
        for old in res.moved_from:
            if old in self.spec.resources:
                self.add(res.location, f"moved_from names '{old}', which is still a resource "
                         "of the spec", rid, f"rename or remove '{old}', or drop moved_from")
            claims = [r for r, other in self.spec.resources.items() if old in other.moved_from]
            if len(claims) > 1 and claims[0] == rid:
                self.add(res.location, f"'{old}' is in moved_from of {', '.join(claims)}", rid,
                         "a resource can move to one new id only")
        for dep in res.depends_on:
            if dep not in self.spec.resources:
                self.add(res.depends_on_location,
                         f"depends_on names unknown resource '{dep}'", rid,
                         did_you_mean(dep, self.spec.resources,
                                      fallback=one_of(self.spec.resources)))

    def overridden(self, rid: str, key: str) -> bool:
        """Does every environment supply ``key``, by override or by its cloud settings?

        Adapters default some required properties from the environment's cloud
        settings (an Azure resource group's ``location`` from ``azure.location``).
        """
        envs = self.spec.environments.values()
        cloud = self.spec.resources[rid].cloud
        return bool(envs) and all(key in e.overrides.get(rid, {})
                                  or key in e.clouds.get(cloud, {}) for e in envs)

    def check_type(self, rid: str, key: str, value: Any, ptype: str,
                   loc: SourceLocation | None) -> None:
        kind = self.ref_kind(value) if isinstance(value, Reference) else _literal_kind(value)
        accepted = _ACCEPTS.get(ptype)
        if kind is None or accepted is None or kind in accepted:
            return
        shown = f"{value}" if isinstance(value, Reference) else repr(value)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        self.add(loc, f"property '{key}' must be {ptype}, got {kind} {shown}", rid,
                 f"write {'an' if ptype[:1] in 'aeiou' else 'a'} {ptype} value")

    def check_items(self, rid: str, key: str, value: Any, prop: PropertySchema,
                    where: Resource | SourceLocation | None) -> None:
        """Each element of a typed map or list (``items``) must fit, or coerce to, its type."""
        if prop.items is None or not isinstance(value, (dict, list)):
            return
        elements = value.items() if isinstance(value, dict) else enumerate(value)
        for name, element in elements:
            if isinstance(element, Reference):
                kind = self.ref_kind(element)
                problem = (f"{element} is a {kind}" if kind in ("map", "list")
                           and prop.items not in ("map", "object", "list") else None)
            elif isinstance(element, (str, Template)) and prop.items == "string":
                continue  # the common case, decided without a call
            else:
                problem = element_problem(prop.items, element)
            if problem:
                dotted = f"{key}.{name}"
                loc = locate(where, dotted) if isinstance(where, Resource) else where
                self.add(loc, f"'{dotted}' must be a {prop.items} ({problem})", rid,
                         f"'{key}' is a {prop.type} of {prop.items} values"
                         + ("; numbers and booleans are written as text"
                            if prop.items == "string" else ""))

    def interpolations(self, rid: str, key: str, value: Any,
                       where: Resource | SourceLocation | None) -> None:
        """A map or a list cannot be interpolated into a string (``"x=${var.labels}"``)."""
        if not isinstance(value, (Template, dict, list)):
            return
        if not any(self.interpolated_kind(ref) in ("map", "list")
                   for ref in _template_references(value)):
            return  # the common case, decided without naming where each template is
        for dotted, template in _templates(value, key):
            for ref in template.references():
                kind = self.interpolated_kind(ref)
                if kind not in ("map", "list"):
                    continue
                loc = locate(where, dotted) if isinstance(where, Resource) else where
                self.add(loc, f"{ref} is a {kind} and cannot be interpolated into a string "
                         f"(in '{dotted}')", rid,
                         f"use {ref} as the whole value, or interpolate single entries")

    def interpolated_kind(self, ref: Reference) -> str | None:
        return self.ref_kind(ref) if ref.kind != "env" else self.env_kind(ref)

    def env_kind(self, ref: Reference) -> str | None:
        """``map``/``list`` when some environment sets ``${env.<cloud>.<key>}`` to one."""
        for env in self.spec.environments.values():
            kind = _literal_kind(env.clouds.get(ref.target, {}).get(ref.attribute))
            if kind in ("map", "list"):
                return kind
        return None

    def references(self, rid: str, refs: list[tuple[str, Reference]],
                   where: Resource | SourceLocation | None) -> None:
        for path, ref in refs:
            if ref.kind == "var" and ref.target in self.spec.variables:
                continue
            if ref.kind == "resource" and ref.target in self.spec.resources:
                schema = self.schemas.get(ref.target)
                if schema is None or ref.attribute.split(".", 1)[0] in self.readable(schema):
                    continue  # the common case: known, located only when reported
            loc = locate(where, path) if isinstance(where, Resource) else where
            if ref.kind == "var" and ref.target not in self.spec.variables:
                self.add(loc, f"unknown variable '{ref.target}' in {ref}", rid,
                         did_you_mean(ref.target, self.spec.variables,
                                      fallback=one_of(self.spec.variables)))
            if ref.kind != "resource":
                continue
            if ref.target not in self.spec.resources:
                self.add(loc, f"reference {ref} names unknown resource '{ref.target}'", rid,
                         did_you_mean(ref.target, self.spec.resources,
                                      fallback=one_of(self.spec.resources)))
                continue
            schema = self.schemas.get(ref.target)
            attribute = ref.attribute.split(".", 1)[0]
            if schema is not None and attribute not in schema.readable():
                self.add(loc, f"reference {ref}: type '{schema.type_name}' has no output "
                         f"'{attribute}'", rid,
                         did_you_mean(attribute, schema.readable(),
                                      fallback=one_of(schema.readable())))

    def environments(self) -> None:
        for env in self.spec.environments.values():
            values = variable_values(self.spec, env, self.diagnostics)
            for rid, props in env.overrides.items():
                res = self.spec.resources.get(rid)
                if res is None:
                    self.add(env.override_locations.get(rid, env.location),
                             f"environment '{env.name}' overrides unknown resource '{rid}'", "",
                             did_you_mean(rid, self.spec.resources,
                                          fallback=one_of(self.spec.resources)))
                    continue
                schema = self.schemas.get(rid)
                for key, value in props.items():
                    oloc = env.override_locations.get(f"{rid}.{key}", env.location)
                    self.references(rid, located_references(value, key), oloc)
                    self.interpolations(rid, key, value, oloc)
                    if schema is not None and key in schema.properties:
                        self.check_items(rid, key, value, schema.properties[key], oloc)
                    if schema is not None and key not in schema.properties:
                        self.add(oloc,
                                 f"environment '{env.name}' overrides unknown property "
                                 f"'{key}' of '{rid}'", rid,
                                 did_you_mean(key, schema.properties,
                                              fallback=one_of(schema.properties)))
            # One lookup for the environment; ``at`` says whose reference it looks up.
            at: list[Any] = [None, ""]      # resource, dotted path of the reference

            def report(_: Reference, message: str, hint: str) -> None:
                res, path = at
                self.add(locate(res, path), message, res.id, hint)

            lookup = make_lookup(self.spec, env, values, report)
            for rid, res in self.spec.resources.items():
                for _, refs in self.located.get(rid) or [
                        (key, located_references(value, key))
                        for key, value in res.properties.items()]:
                    for path, ref in refs:
                        if ref.kind == "env":
                            at[0], at[1] = res, path
                            lookup(ref)

    def cycles(self) -> None:
        from provision.graph.stages import build_stages

        try:
            graph = build_stages(self.spec)
        except CycleError as exc:
            first = self.spec.resources.get(exc.path[0]) if exc.path else None
            if first is None and exc.path:
                first = next((r for r in self.spec.resources.values()
                              if (r.stage or r.cloud) == exc.path[0]), None)
            message, _, detail = exc.message.partition("\n")
            hint = "; ".join(line.strip() for line in detail.splitlines())
            self.add(first.location if first else None, message,
                     exc.path[0] if first and exc.path[0] in self.spec.resources else "",
                     hint or exc.hint)
        else:
            # Kept for the one build_stages of this spec (or its resolution) that follows.
            self.spec.graph_memo = GraphMemo.of(self.spec, graph)


def _located_references(value: Any, path: str, found: list[tuple[str, Reference]],
                        templated: list[Reference]) -> None:
    """``found += located_references(value, path)``; the references written inside
    templates are also added to ``templated``."""
    if isinstance(value, Reference):
        found.append((path, value))
    elif isinstance(value, Template):
        for part in value.parts:
            if isinstance(part, Reference):
                found.append((path, part))
                templated.append(part)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, str):
                _located_references(item, f"{path}.{key}", found, templated)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                _located_references(item, f"{path}.{index}", found, templated)


def _template_references(value: Any) -> list[Reference]:
    """The references inside every template under ``value`` (those written in strings)."""
    if isinstance(value, Template):
        return value.references()
    if isinstance(value, dict):
        return [r for v in value.values() if not isinstance(v, str)
                for r in _template_references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _template_references(v)]
    return []


def _templates(value: Any, dotted: str) -> list[tuple[str, Template]]:
    """Every template under ``value``, with its dotted property path."""
    if isinstance(value, Template):
        return [(dotted, value)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _templates(v, f"{dotted}.{k}")]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in _templates(v, f"{dotted}.{i}")]
    return []


def validate(spec: Spec, registry: AdapterRegistry) -> None:
    """Raise :class:`SpecError` listing every problem found; return None if there are none."""
    with gc_paused():
        diagnostics = _Validator(spec, registry).run()
        diagnostics += check_constraints(spec, registry)
    if diagnostics:
        raise SpecError(_dedupe(diagnostics))


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for d in diagnostics:
        if d not in seen:
            seen.add(d)
            result.append(d)
    return result
