"""The digest of a spec as resolved for one environment: what a rollout records for each
environment it finished, so it never promotes a configuration the earlier environments
did not run (provision.rollout.machine, the promotion gate).

    resolved_digest(resolve(spec, "dev"))             # 'sha256:<hex>'
    resolved_digests("stacks/demo.yaml", ["dev", "staging"])   # {env: digest}

The digest covers every resource (type, properties with the environment's variables,
settings and overrides applied, stage, depends_on, protect) in canonical JSON, without
source locations: moving or reformatting lines does not change it, a change of any value
an environment resolves to does. A change that only another environment's overrides see
leaves it as it was. Like the spec file digest a plan carries, it is a one-way hash of
values written in the spec file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

from provision.spec import load
from provision.spec.model import Reference, Spec, Template
from provision.spec.perf import gc_paused
from provision.spec.resolve import resolve


def _canonical(value: Any) -> Any:
    """A property value as plain JSON: references and templates as tagged objects."""
    if isinstance(value, Reference):
        return {"$ref": [value.kind, value.target, value.attribute]}
    if isinstance(value, Template):
        return {"$template": [_canonical(p) for p in value.parts]}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def resolved_digest(spec: Spec) -> str:
    """``sha256:<hex>`` of ``spec``'s resources (a spec already resolved for one
    environment, :func:`provision.spec.resolve.resolve`) in canonical JSON."""
    doc = {rid: {"type": r.type, "properties": _canonical(r.properties), "stage": r.stage,
                 "depends_on": list(r.depends_on), "protect": r.protect,
                 **({"moved_from": list(r.moved_from)} if r.moved_from else {})}
           for rid, r in spec.resources.items()}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolved_digests(spec_file: str | Path, envs: Iterable[str]) -> dict[str, str]:
    """{env: :func:`resolved_digest` of the spec file as it is now, resolved for env}.

    Reads the file once. Raises SpecError (or SpecNotFoundError) when it cannot be read
    or resolved, EnvironmentNotFoundError for an environment it does not declare."""
    with gc_paused():
        raw = load(spec_file)
        return {env: resolved_digest(resolve(raw, env)) for env in envs}
