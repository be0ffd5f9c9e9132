"""Schema coercion: the one place that decides how a value meets its property's type.

Applied at the two boundaries a value crosses: after a spec is resolved for an
environment (``provision.cli.session``, before planning) and where the engine
hands inputs to an adapter (``provision.engine.dynamic``, after Pulumi's wire
format has turned every number into a float). The rules, per schema type:

    string               a string; a number or boolean inside a map or list of strings
                         (``items="string"``: tags, labels) becomes its text:
                         3 -> "3", 2.5 -> "2.5", true -> "true" (never "3.0")
    integer, number      a float with an integral value becomes an int (3.0 -> 3)
    map, list            each element by ``items`` when the schema declares it

A value that cannot be coerced (a map where a string is needed) is left as it
is here; ``provision.spec.validate`` reports it at file:line with
:func:`element_problem`. References and templates are left for the engine.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Mapping

from provision.provider import AdapterRegistry, PropertySchema, PropertyType, ResourceSchema

if TYPE_CHECKING:  # the spec package imports this module
    from provision.spec.model import Spec


def scalar_text(value: Any) -> str:
    """The text of a scalar: ``true``/``false``, ``3`` (never ``3.0``), ``2.5``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def coerce_to(type_name: PropertyType | None, value: Any, *, element: bool = False,
              items: PropertyType | None = None) -> Any:
    """``value`` converted to ``type_name`` where the rules above allow it, else unchanged."""
    if type_name == "string":
        if element and isinstance(value, (bool, int, float)):
            return scalar_text(value)
        return value
    if type_name in ("integer", "number"):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if items is not None:
        if type_name in ("map", "object") and isinstance(value, dict):
            return {k: coerce_to(items, v, element=True) for k, v in value.items()}
        if type_name == "list" and isinstance(value, list):
            return [coerce_to(items, v, element=True) for v in value]
    return value


def coerce_property(prop: PropertySchema, value: Any) -> Any:
    return coerce_to(prop.type, value, items=prop.items)


def coerce_properties(schema: ResourceSchema, props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` with every property the schema declares coerced; other keys unchanged."""
    result = dict(props)
    for key, value in props.items():
        prop = schema.properties.get(key)
        if prop is not None and value is not None:
            result[key] = coerce_property(prop, value)
    return result


def coerce_spec(spec: "Spec", registry: AdapterRegistry) -> "Spec":
    """A resolved spec with every resource's literal properties coerced to their schema."""
    resources = {}
    for rid, res in spec.resources.items():
        if res.type in registry:
            res = dataclasses.replace(
                res, properties=coerce_properties(registry.schema(res.type), res.properties))
        resources[rid] = res
    return dataclasses.replace(spec, resources=resources)


def element_problem(items: PropertyType, value: Any) -> str | None:
    """Why a literal element cannot be a ``items`` (None when it can, or cannot be known)."""
    if value is None or not isinstance(value, (bool, int, float, str, dict, list)):
        return None  # null, or a reference/template: known later
    if items == "string":
        if isinstance(value, (dict, list)):
            return f"a {'map' if isinstance(value, dict) else 'list'} is not a string"
        return None
    if items == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        if not (isinstance(value, float) and value.is_integer()):
            return f"{value!r} is not an integer"
    if items == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{value!r} is not a number"
    if items == "boolean" and not isinstance(value, bool):
        return f"{value!r} is not a boolean"
    if items in ("map", "object") and not isinstance(value, dict):
        return "expected a map"
    if items == "list" and not isinstance(value, list):
        return "expected a list"
    return None
