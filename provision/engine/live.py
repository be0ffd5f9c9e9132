"""Read a stage's live state back from the clouds, through the adapters.

Used after a stage is applied, for the post-stage policy gate and for
``provision policy check --phase post``: what the cloud reports now, not what
the plan said.

After an update the gate need not read everything again: a resource that this
update created, updated or replaced ended its step with a read through its
adapter (``ResourceSchema.read_back``), which the engine reports with the step
(``RunResult.written``), so :func:`read_back_records` takes those as live records;
the others (unchanged, outside a ``--target``, of an adapter without a read-back,
holding a secret) are read live.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from provision.engine.protocol import MASKED_SECRET, RunResult
from provision.errors import ProviderError
from provision.plan.model import Live, LiveResource
from provision.provider import AdapterRegistry, CloudConfig
from provision.spec.model import Spec
from provision.vocabulary import StepOp

__all__ = ["Live", "LiveResource", "READ_BACK_STEPS", "read_back_records", "read_live"]

# Steps that end with the adapter's read of the resource (``ResourceSchema.read_back``):
# its create or update; a replacement's create (Pulumi: ``replace`` with
# ``create-replacement`` and ``delete-replaced``; the fake engine: ``replace``); an
# import reads the resource it adopts.
READ_BACK_STEPS = frozenset({StepOp.CREATE, StepOp.UPDATE, StepOp.REPLACE,
                             StepOp.CREATE_REPLACEMENT, StepOp.IMPORT})
# Steps beside those that leave the resource's record as the read-back made it.
_ALONGSIDE = frozenset({StepOp.DELETE_REPLACED})


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

    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(READ_THREADS, len(wanted))),
                            thread_name_prefix="live") as pool:
        futures = [(rid, pool.submit(read, rid)) for rid in wanted]
        live: Live = {}
        for rid, future in futures:
            found = future.result()
            if found is not None:
                live[rid] = found
    return live


def read_back_records(spec: Spec, registry: AdapterRegistry, resource_ids: list[str],
                      result: RunResult, outputs: Mapping[str, Any]) -> Live:
    """``{resource_id: LiveResource}`` for the resources of ``resource_ids`` that the
    update ``result`` left with a record fresh from the cloud: every step on the
    resource is in :data:`READ_BACK_STEPS` (a replacement's delete beside it), its
    type's adapter declares ``read_back``, the engine reported what the step wrote
    (``result.written``) with no secret masked in it, and the stack ``outputs`` export
    its ``id`` (:func:`read_live` reads only those). Properties are what the step
    wrote (the adapter's result; a schema property or output the engine left out as
    null is None), each record located at its declaration in ``spec``, as
    :func:`read_live` makes them.

    Not here, to be read live: a resource whose step was ``same`` (it may have drifted
    since the update's refresh), that had no step (outside a ``--target``), whose
    steps are unknown (an update on another worker: no steps), or that holds a secret
    (the engine's events mask it; the gate sees what the adapter reads)."""
    ops: dict[str, set[StepOp]] = defaultdict(set)
    for step in result.steps:
        ops[step.resource].add(step.op)
    taken: Live = {}
    for rid in resource_ids:
        done, written, exported = ops.get(rid, set()), result.written.get(rid), outputs.get(rid)
        if not done & READ_BACK_STEPS or done - READ_BACK_STEPS - _ALONGSIDE:
            continue
        if written is None or _masks_a_secret(written):
            continue
        if not isinstance(exported, dict) or not exported.get("id"):
            continue
        resource = spec.resources[rid]
        if resource.type not in registry:
            continue
        schema = registry.schema(resource.type)
        if not schema.read_back:
            continue
        properties = copy.deepcopy(written)
        for key in (*schema.properties, *schema.outputs):
            properties.setdefault(key, None)        # the engine drops null attributes
        loc = resource.location
        taken[rid] = LiveResource(resource.type, properties,
                                  loc.file if loc else "", loc.line if loc else 0)
    return taken


def _masks_a_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_masks_a_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_masks_a_secret(v) for v in value)
    return bool(value == MASKED_SECRET)
