"""Turn a :class:`StackProgram` (data) into the inline Pulumi program of one stack.

References to resources of the same stack become Pulumi Outputs of those
resources; :data:`UNKNOWN` inputs (known only after an upstream stage applies)
become unknown Outputs, never a made-up value. Each resource's readable
attributes are exported as the cloud returned them (including those the spec
leaves out: a default, an id) so downstream stages and ``provision output`` can
read them, and the types of the stack's resources are exported under ``META_OUTPUT``.
"""

from __future__ import annotations

from typing import Any, Callable

import pulumi

from provision.engine.dynamic import IMPORT_KEY, AdapterProvider, ProvisionResource
from provision.engine.protocol import META_OUTPUT, StackProgram
from provision.errors import PlanError
from provision.plan.model import UNKNOWN, dig, split_path
from provision.spec.model import Reference, Template
from provision.spec.refs import format_scalar


def unknown_output() -> pulumi.Output[Any]:
    async def value() -> None:
        return None

    async def known() -> bool:
        return False

    return pulumi.Output(set(), value(), known())


def _wire_number(value: Any) -> Any:
    """A number as the spec wrote it: Pulumi's wire carries every number as a float, so
    an attribute that is 3 arrives as 3.0 and would be interpolated as "3.0"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def pulumi_program(stack: StackProgram) -> Callable[[], None]:
    """The inline Pulumi program that declares ``stack``'s resources in order."""

    def program() -> None:
        created: dict[str, ProvisionResource] = {}

        def ref_value(ref: Reference) -> Any:
            head, *path = split_path(ref.attribute or "id")
            res = created.get(ref.target)
            if res is None:
                raise PlanError(f"reference {ref} points to a resource declared later in its stage")
            value = res.id if head == "id" else getattr(res, head)
            return value.apply(lambda v: dig(v, path)) if path else value

        def materialize(value: Any) -> Any:
            if value is UNKNOWN:
                return unknown_output()
            if isinstance(value, Reference):
                return ref_value(value)
            if isinstance(value, Template):
                parts = [ref_value(p) if isinstance(p, Reference) else p for p in value.parts]
                return pulumi.Output.all(*parts).apply(
                    lambda vals: "".join(format_scalar(_wire_number(v)) for v in vals))
            if isinstance(value, dict):
                return {k: materialize(v) for k, v in value.items()}
            if isinstance(value, list):
                return [materialize(v) for v in value]
            return value

        for decl in stack.resources:
            props: dict[str, Any] = {}
            for key, raw in decl.inputs.items():
                val = materialize(raw)
                props[key] = pulumi.Output.secret(val) if key in decl.secret else val
            # Every readable attribute is declared, absent ones as None (Pulumi sends no
            # None input): Pulumi fills in only the attributes a resource declares, so one
            # the spec leaves out (a cloud default, an id) would otherwise read as absent.
            for attr in (*decl.outputs, *decl.readable):
                props.setdefault(attr, None)
            if decl.import_id is not None:
                # Adopted by the provider's create (see dynamic.IMPORT_KEY), not through
                # ResourceOptions.import_, which dynamic providers cannot serve.
                props[IMPORT_KEY] = decl.import_id
            opts = pulumi.ResourceOptions(
                protect=decl.protect,
                aliases=[pulumi.Alias(name=old) for old in decl.aliases],
                depends_on=[created[d] for d in decl.depends_on if d in created],
                additional_secret_outputs=sorted(decl.secret),
            )
            provider = AdapterProvider(decl.type, decl.adapter, decl.id)
            res = ProvisionResource(decl.id, provider, props, opts)
            created[decl.id] = res
            exported: dict[str, Any] = {"id": res.id}
            for attr in decl.readable:
                exported[attr] = getattr(res, attr)
            pulumi.export(decl.id, exported)
        pulumi.export(META_OUTPUT, {"types": stack.types()})

    return program
