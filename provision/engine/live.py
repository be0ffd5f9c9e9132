"""Read a stage's live state back from the clouds, through the adapters.

Used after a stage is applied, for the post-stage policy gate and for
``provision policy check --phase post``: what the cloud reports now, not what
the plan said.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from provision.errors import ProviderError
from provision.plan.model import Live, LiveResource
from provision.provider import AdapterRegistry, CloudConfig
from provision.spec.model import Spec

__all__ = ["Live", "LiveResource", "read_live"]


# Adapter reads at once: each is a few round trips to one cloud API, through one cached
# SDK client per service (clients are thread-safe, see providers/clients.py).
READ_THREADS = 8


def read_live(spec: Spec, registry: AdapterRegistry, configs: Mapping[str, CloudConfig],
              resource_ids: list[str], outputs: Mapping[str, Any]) -> Live:
    """``{resource_id: LiveResource}`` for the resources of ``resource_ids`` that exist,
    each located at its declaration in ``spec``. ``outputs``: the stage's stack
    outputs (each resource's exported ``id`` and attributes). Up to
    :data:`READ_THREADS` resources are read at once.

    Raises :class:`ProviderError` naming the resource when a read fails (the first
    such resource in ``resource_ids`` order)."""
    exported = {rid: outputs.get(rid) for rid in resource_ids}
    wanted = [rid for rid, out in exported.items() if isinstance(out, dict) and out.get("id")]

    def read(rid: str) -> LiveResource | None:
        resource = spec.resources[rid]
        record = exported[rid]
        assert isinstance(record, dict)
        adapter = registry.get(resource.type)
        config = configs.get(resource.cloud) or CloudConfig(cloud=resource.cloud)
        try:
            result = adapter.read(str(record["id"]), record, config)
        except ProviderError:
            raise
        except Exception as exc:  # an adapter bug must still name the resource
            raise ProviderError(f"reading live state failed: {exc}", resource=rid,
                                resource_type=resource.type) from None
        if result is None:
            return None
        loc = resource.location
        return LiveResource(resource.type, dict(result.properties),
                            loc.file if loc else "", loc.line if loc else 0)

    with ThreadPoolExecutor(max_workers=max(1, min(READ_THREADS, len(wanted))),
                            thread_name_prefix="live") as pool:
        futures = [(rid, pool.submit(read, rid)) for rid in wanted]
        live: Live = {}
        for rid, future in futures:
            found = future.result()
            if found is not None:
                live[rid] = found
    return live
