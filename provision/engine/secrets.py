"""Which properties of which resources are secret, including those derived from a secret.

A property is secret when its schema says so (``PropertySchema.secret``), or when
its value references a secret attribute of another resource, directly or through
a string template, at any depth and across stages: ``tags: {copy: "${db.password}"}``
makes the whole ``tags`` property of that resource secret, as a value derived
from a sensitive one is sensitive in Terraform. Secret properties are declared
as Pulumi secret outputs (encrypted in state), and every plan view, saved plan
and run record shows them as ``[secret]``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from provision.plan.model import split_path
from provision.provider import AdapterRegistry
from provision.spec.model import Spec
from provision.spec.refs import iter_references


def secret_properties(spec: Spec, registry: AdapterRegistry,
                      resource_ids: Iterable[str] | None = None) -> Mapping[str, frozenset[str]]:
    """Resource id (each of ``resource_ids``, default every resource of ``spec``) ->
    the top-level property names of that resource that are secret.

    Resources whose type the registry does not know count their references only.
    """
    memo: dict[tuple[str, str], bool] = {}

    def attribute_secret(rid: str, attribute: str, seen: frozenset[tuple[str, str]]) -> bool:
        key = (rid, attribute)
        if key in memo:
            return memo[key]
        if key in seen:                     # a cycle: validation reports it elsewhere
            return False
        resource = spec.resources.get(rid)
        if resource is None:
            return False
        result = False
        if resource.type in registry:
            prop = registry.schema(resource.type).properties.get(attribute)
            result = bool(prop is not None and prop.secret)
        value = resource.properties.get(attribute)
        if not result and value is not None:
            result = any(ref.kind == "resource"
                         and attribute_secret(ref.target, split_path(ref.attribute or "id")[0],
                                              seen | {key})
                         for ref in iter_references(value))
        memo[key] = result
        return result

    found: dict[str, frozenset[str]] = {}
    for rid in spec.resources if resource_ids is None else resource_ids:
        resource = spec.resources[rid]
        names = set(resource.properties)
        if resource.type in registry:
            names |= set(registry.schema(resource.type).properties)
        found[rid] = frozenset(n for n in names if attribute_secret(rid, n, frozenset()))
    return found
