"""The plan of a stage whose stack records no resource, made without the engine.

With nothing recorded there is nothing to refresh and nothing to diff: each
resource the stage declares is a create of its declared inputs, as the adapter's
check types them. That is what an engine preview of such a stack reports, and
:func:`planned_creates` returns the same steps without starting the engine, its
language host and a provider process (about a second of CPU per stage; see
``docs/benchmarks.md``). ``tests/engine/test_first_plan.py`` compares the two on
the real Pulumi engine.

How the engine's preview shows a create's inputs (observed on Pulumi 3.260, and held
to by that test), and so how they are shown here:

* an input known only after an upstream stage applies is
  :data:`~provision.plan.model.UNKNOWN`;
* a reference to another resource of the stage is that resource's own declared
  (checked) input when it declares the attribute, else UNKNOWN (its ``id`` and
  the attributes the cloud fills in are known only after the create); a template
  is joined when all its parts are known, else UNKNOWN;
* a value is coerced to its property's schema type when it holds no unknown (the
  adapter's check does that, ``provision.coerce``);
* an input that is null is left out, and a secret input shows as Pulumi's secret
  envelope with its ciphertext masked (``[secret]``), never as its value, or as
  UNKNOWN when any part of it is unknown.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.coerce import coerce_property
from provision.engine.protocol import Declared, StackProgram, Step
from provision.engine.pulumi_state import SECRET_SIG, SECRET_SIG_VALUE
from provision.errors import PlanError
from provision.plan.model import UNKNOWN, dig, has_unknown, split_path
from provision.provider import AdapterRegistry
from provision.spec.model import Reference, Template
from provision.spec.refs import format_scalar
from provision.vocabulary import StepOp

# A secret input as the engine's events show it.
MASKED = {SECRET_SIG: SECRET_SIG_VALUE, "ciphertext": "[secret]"}


def planned_creates(program: StackProgram, registry: AdapterRegistry) -> list[Step]:
    """One ``create`` step per declared resource of ``program``, in its order, with the
    inputs an engine preview of an empty stack reports (see the module doc).

    Raises :class:`PlanError` for a reference to a resource of the stage declared
    after the one that references it (as the stack's program does), and
    :class:`KeyError` for a type ``registry`` does not serve (the planner validated
    every type before a plan is made)."""
    checked: dict[str, dict[str, Any]] = {}        # resource id -> its checked inputs
    steps = []
    for decl in program.resources:
        values = _checked(decl, registry, checked)
        checked[decl.id] = values
        shown = {k: _shown(v, k in decl.secret) for k, v in values.items() if v is not None}
        steps.append(Step(op=StepOp.CREATE, resource=decl.id, old_inputs=None,
                          new_inputs=shown))
    return steps


def _shown(value: Any, secret: bool) -> Any:
    """A secret as the engine's events show it: masked, or unknown while any part of
    it is (a secret with an unknown part is sent to the engine as unknown)."""
    if not secret:
        return value
    return UNKNOWN if has_unknown(value) else dict(MASKED)


def _checked(decl: Declared, registry: AdapterRegistry,
             earlier: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``decl``'s inputs with references resolved as a preview resolves them, each
    coerced to its schema type when known."""
    schema = registry.schema(decl.type)

    def ref(r: Reference) -> Any:
        if r.target not in earlier:
            raise PlanError(f"reference {r} points to a resource declared later in its stage")
        head, *path = split_path(r.attribute or "id")
        found = earlier[r.target].get(head) if head != "id" else None
        if found is None or has_unknown(found):
            return UNKNOWN
        return dig(found, path)

    def resolve(value: Any) -> Any:
        if isinstance(value, Reference):
            return ref(value)
        if isinstance(value, Template):
            parts = [ref(p) if isinstance(p, Reference) else p for p in value.parts]
            if any(p is UNKNOWN or p is None for p in parts):
                return UNKNOWN
            return "".join(format_scalar(p) for p in parts)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    inputs: dict[str, Any] = {}
    for key, raw in decl.inputs.items():
        value = resolve(raw)
        prop = schema.properties.get(key)
        if prop is not None and value is not None and not has_unknown(value):
            value = coerce_property(prop, value)
        inputs[key] = value
    return inputs
