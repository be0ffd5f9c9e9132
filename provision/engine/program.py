"""Build the inline Pulumi program of one stage.

References to resources in the same stage become Pulumi Outputs of those
resources; references to other stages are substituted with the upstream stack's
outputs, or with an unknown Output when the upstream value is known only after
apply (never a made-up value). Each resource's readable attributes are exported
so downstream stages can read them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pulumi

from provision.engine.dynamic import AdapterProvider, ProvisionResource
from provision.errors import PlanError
from provision.provider import AdapterRegistry
from provision.spec.model import Reference, Resource, Spec, Template
from provision.spec.refs import format_scalar

META_OUTPUT = "__provision"
# Upstream values: resource id -> its exported attributes, or None when not known yet.
Upstream = Mapping[str, Mapping[str, Any] | None]


def dig(value: Any, path: list[str]) -> Any:
    """``value`` at a dotted path (map keys, list indexes); None where it is absent."""
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def unknown_output() -> pulumi.Output[Any]:
    async def value() -> None:
        return None

    async def known() -> bool:
        return False

    return pulumi.Output(set(), value(), known())


def stage_program(spec: Spec, resource_ids: list[str], registry: AdapterRegistry,
                  upstream: Upstream) -> Callable[[], None]:
    """Return the program that declares ``resource_ids`` (in dependency order)."""

    def program() -> None:
        created: dict[str, ProvisionResource] = {}

        def ref_value(ref: Reference) -> Any:
            head, *path = (ref.attribute or "id").split(".")
            if ref.target in created:
                res = created[ref.target]
                value = res.id if head == "id" else getattr(res, head)
                return value.apply(lambda v: dig(v, path)) if path else value
            if ref.target not in upstream:
                raise PlanError(f"reference {ref} points outside the stage and its inputs")
            values = upstream[ref.target]
            if values is None or head not in values:
                return unknown_output()       # known only after the upstream stage applies
            return dig(values[head], path)

        def materialize(value: Any) -> Any:
            if isinstance(value, Reference):
                return ref_value(value)
            if isinstance(value, Template):
                parts = [ref_value(p) if isinstance(p, Reference) else p for p in value.parts]
                return pulumi.Output.all(*parts).apply(
                    lambda vals: "".join(format_scalar(v) for v in vals))
            if isinstance(value, dict):
                return {k: materialize(v) for k, v in value.items()}
            if isinstance(value, list):
                return [materialize(v) for v in value]
            return value

        types: dict[str, str] = {}
        for rid in resource_ids:
            resource: Resource = spec.resources[rid]
            schema = registry.schema(resource.type)
            props: dict[str, Any] = {}
            for key, raw in resource.properties.items():
                val = materialize(raw)
                prop = schema.properties.get(key)
                props[key] = pulumi.Output.secret(val) if prop is not None and prop.secret else val
            for out in schema.outputs:
                props.setdefault(out, None)
            opts = pulumi.ResourceOptions(
                protect=resource.protect,
                depends_on=[created[d] for d in resource.depends_on if d in created],
                additional_secret_outputs=[k for k, p in schema.properties.items() if p.secret],
            )
            provider = AdapterProvider(resource.type, registry.ref(resource.type), rid)
            res = ProvisionResource(rid, provider, props, opts)
            created[rid] = res
            types[rid] = resource.type
            exported: dict[str, Any] = {"id": res.id}
            for attr in sorted(schema.readable() - {"id"}):
                exported[attr] = getattr(res, attr, None)
            pulumi.export(rid, exported)
        pulumi.export(META_OUTPUT, {"types": types})

    return program


def restore_program(snapshot_inputs: Mapping[str, Mapping[str, Any]], types: Mapping[str, str],
                    registry: AdapterRegistry) -> Callable[[], None]:
    """The program that declares exactly the resources a stage had, with the inputs
    they had: applying it returns the stage to that state (resources created since
    are deleted, updated ones are updated back)."""

    def program() -> None:
        exported_types: dict[str, str] = {}
        for rid, inputs in snapshot_inputs.items():
            type_name = types[rid]
            schema = registry.schema(type_name)
            props = {k: (pulumi.Output.secret(v) if k in schema.properties
                         and schema.properties[k].secret else v)
                     for k, v in inputs.items() if k in schema.properties}
            for out in schema.outputs:
                props.setdefault(out, None)
            res = ProvisionResource(rid, AdapterProvider(type_name, registry.ref(type_name), rid),
                                    props)
            exported: dict[str, Any] = {"id": res.id}
            for attr in sorted(schema.readable() - {"id"}):
                exported[attr] = getattr(res, attr, None)
            pulumi.export(rid, exported)
            exported_types[rid] = type_name
        pulumi.export(META_OUTPUT, {"types": exported_types})

    return program
