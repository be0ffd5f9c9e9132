"""``provision output SPEC --env ENV``: every stage's outputs as one document.

Shape (``--json``)::

    {"spec": "demo", "env": "prod",
     "stages": {"aws": {"logs": {"arn": "...", "bucket": "...", "id": "..."}}, ...}}

Outputs come from each stage's state (what the last apply recorded); a stage never
applied is absent. Every attribute the cloud returned is there, including those the
spec leaves out. Secret properties (those the adapter's schema marks, and those whose
value derives from a secret: ``provision.engine.secrets``) are shown as
``{"$sensitive": true}`` (``(sensitive)`` for people) unless ``--show-secrets``.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from provision.cli import session
from provision.engine.protocol import META_OUTPUT
from provision.engine.secrets import secret_properties
from provision.plan.render_json import SENSITIVE_JSON
from provision.vocabulary import ExitCode

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def collect(loaded: session.Loaded, *, show_secrets: bool) -> dict[str, Any]:
    """{stage: {resource: {attribute: value}}} from the stages' state."""
    orch = session.orchestrator(loaded)
    secrets = secret_properties(loaded.spec, loaded.registry)
    stages: dict[str, Any] = {}
    for stage in loaded.stages.stages:
        snap = orch.engine.snapshot(orch.stack_name(stage.name))
        if snap is None:
            continue
        resources: dict[str, Any] = {}
        for rid in stage.resources:
            exported = snap.outputs.get(rid)
            if not isinstance(exported, dict):
                continue
            resources[rid] = {
                k: (v if show_secrets or k not in secrets[rid] else dict(SENSITIVE_JSON))
                for k, v in sorted(exported.items()) if k != META_OUTPUT}
        stages[stage.name] = resources
    return stages


def output(spec: str, env: str, *, as_json: bool, show_secrets: bool) -> int:
    loaded = session.load(spec, env)
    stages = collect(loaded, show_secrets=show_secrets)
    if as_json:
        print(json.dumps({"spec": loaded.spec.name, "env": env, "stages": stages},
                         indent=2, default=str))
        return int(ExitCode.OK)
    if not stages:
        err.print(f"no outputs: nothing of {loaded.spec.name} is applied in '{env}' yet",
                  markup=False)
        return int(ExitCode.OK)
    for stage, resources in stages.items():
        out.print(f"stage {stage}", markup=False)
        for rid, attrs in resources.items():
            for key, value in attrs.items():
                shown = "(sensitive)" if value == SENSITIVE_JSON else json.dumps(value, default=str)
                out.print(f"  {rid}.{key} = {shown}", markup=False)
    return int(ExitCode.OK)
