"""Declare a stack's desired state as data (:class:`StackProgram`), for any engine.

References to resources in the same stage stay :class:`Reference` /
:class:`Template` values (the engine resolves them once those resources exist);
references to other stages are substituted with the upstream stack's outputs,
or with :data:`UNKNOWN` when the upstream value is known only after apply
(never a made-up value).
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.engine.protocol import Declared, StackProgram
from provision.engine.secrets import secret_properties
from provision.errors import PlanError, UnresolvedReferenceError
from provision.plan.model import UNKNOWN, dig, split_path
from provision.provider import AdapterRegistry, ResourceSchema
from provision.spec.model import Reference, Resource, Spec, Template
from provision.spec.refs import format_scalar

# Upstream values: resource id -> its exported attributes, or None when not known yet.
Upstream = Mapping[str, Mapping[str, Any] | None]


def _declared(resource_id: str, type_name: str, schema: ResourceSchema, adapter: str,
              inputs: Mapping[str, Any], resource: Resource | None,
              derived: frozenset[str] = frozenset()) -> Declared:
    loc = resource.location if resource else None
    return Declared(
        id=resource_id, type=type_name, adapter=adapter, inputs=dict(inputs),
        secret=frozenset(k for k, p in schema.properties.items() if p.secret) | derived,
        outputs=tuple(schema.outputs),
        readable=tuple(sorted(schema.readable() - {"id"})),
        depends_on=tuple(resource.depends_on) if resource else (),
        protect=resource.protect if resource else False,
        aliases=resource.moved_from if resource else (),
        file=loc.file if loc else "", line=loc.line if loc else 0,
    )


def stage_declaration(spec: Spec, resource_ids: list[str], registry: AdapterRegistry,
                      upstream: Upstream,
                      inputs: Mapping[str, Mapping[str, Any]] | None = None, *,
                      known: bool = False) -> StackProgram:
    """The program of one stage: ``resource_ids`` (in dependency order) with upstream
    references substituted from ``upstream``. Each resource declares ``inputs[id]``
    when given (a plan's recorded inputs), else its properties in ``spec``.

    ``known=True`` is for an apply, when every upstream stage has applied: a
    reference whose value is still missing raises :class:`UnresolvedReferenceError`
    naming the resource, its file:line and the reference, so an unknown value
    never reaches a create or update as "absent".

    Raises :class:`PlanError` for a reference to a resource that is neither in the
    stage nor in ``upstream``.
    """
    inside = set(resource_ids)
    current: list[str] = []                     # the resource being declared

    def ref_value(ref: Reference) -> Any:
        if ref.target in inside:
            return ref
        if ref.target not in upstream:
            raise PlanError(f"reference {ref} points outside the stage and its inputs")
        head, *path = split_path(ref.attribute or "id")
        values = upstream[ref.target]
        if values is None or head not in values:
            if known:
                loc = spec.resources[current[-1]].location
                raise UnresolvedReferenceError(current[-1], str(ref),
                                               where=str(loc) if loc else "")
            return UNKNOWN                      # known only after the upstream stage applies
        return dig(values[head], path)

    def resolve(value: Any) -> Any:
        if isinstance(value, Reference):
            return ref_value(value) if value.kind == "resource" else value
        if isinstance(value, Template):
            parts = [ref_value(p) if isinstance(p, Reference) else p for p in value.parts]
            if any(p is UNKNOWN for p in parts):
                return UNKNOWN
            if not any(isinstance(p, Reference) for p in parts):
                return "".join(format_scalar(p) for p in parts)
            return Template(tuple(p if isinstance(p, (str, Reference)) else format_scalar(p)
                                  for p in parts))
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    secrets = secret_properties(spec, registry, resource_ids)
    declared = []
    for rid in resource_ids:
        current.append(rid)
        resource = spec.resources[rid]
        schema = registry.schema(resource.type)
        source = inputs[rid] if inputs is not None and rid in inputs else resource.properties
        resolved = {key: resolve(raw) for key, raw in source.items()}
        declared.append(_declared(rid, resource.type, schema, registry.ref(resource.type),
                                  resolved, resource, secrets[rid]))
    return StackProgram(tuple(declared))


def restore_declaration(snapshot_inputs: Mapping[str, Mapping[str, Any]],
                        types: Mapping[str, str], registry: AdapterRegistry,
                        secrets: Mapping[str, frozenset[str]] | None = None) -> StackProgram:
    """The program that declares exactly the resources a stage had, with the inputs
    they had: applying it returns the stage to that state (resources created since
    are deleted, updated ones are updated back). ``secrets``: resource id -> property
    names that are secret beyond the schema's (derived from a secret)."""
    declared = []
    for rid, inputs in snapshot_inputs.items():
        type_name = types[rid]
        schema = registry.schema(type_name)
        kept = {k: v for k, v in inputs.items() if k in schema.properties}
        declared.append(_declared(rid, type_name, schema, registry.ref(type_name), kept, None,
                                  (secrets or {}).get(rid, frozenset())))
    return StackProgram(tuple(declared))
