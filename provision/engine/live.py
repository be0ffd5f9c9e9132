"""Read a stage's live state back from the clouds, through the adapters.

Used after a stage is applied, for the post-stage policy gate and for
``provision policy check --phase post``: what the cloud reports now, not what
the plan said.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import ProviderError
from provision.plan.model import Live, LiveResource
from provision.provider import AdapterRegistry, CloudConfig
from provision.spec.model import Spec

__all__ = ["Live", "LiveResource", "read_live"]


def read_live(spec: Spec, registry: AdapterRegistry, configs: Mapping[str, CloudConfig],
              resource_ids: list[str], outputs: Mapping[str, Any]) -> Live:
    """``{resource_id: LiveResource}`` for the resources of ``resource_ids`` that exist,
    each located at its declaration in ``spec``. ``outputs``: the stage's stack
    outputs (each resource's exported ``id`` and attributes).

    Raises :class:`ProviderError` naming the resource when a read fails."""
    live: Live = {}
    for rid in resource_ids:
        resource = spec.resources[rid]
        exported = outputs.get(rid)
        if not isinstance(exported, dict) or not exported.get("id"):
            continue
        adapter = registry.get(resource.type)
        config = configs.get(resource.cloud) or CloudConfig(cloud=resource.cloud)
        try:
            result = adapter.read(str(exported["id"]), exported, config)
        except ProviderError:
            raise
        except Exception as exc:  # an adapter bug must still name the resource
            raise ProviderError(f"reading live state failed: {exc}", resource=rid,
                                resource_type=resource.type) from None
        if result is not None:
            loc = resource.location
            live[rid] = LiveResource(resource.type, dict(result.properties),
                                     loc.file if loc else "", loc.line if loc else 0)
    return live
