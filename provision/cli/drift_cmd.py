"""``provision drift SPEC --env ENV [--json]``: what changed in the clouds behind our back.

Exit codes: 0 no drift, 2 drift found, 1 error. The JSON form is documented in
``docs/spec.md`` (Drift JSON).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from provision.cli import session
from provision.engine.drift import DriftReport, StageTarget, detect
from provision.engine.orchestrator import stack_name
from provision.vocabulary import DriftKind

EXIT_OK, EXIT_DRIFT = 0, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def drift(spec: str, env: str, *, as_json: bool) -> int:
    loaded = session.load(spec, env)
    engine = session.engine(loaded.spec, loaded.env)
    targets = []
    for stage in loaded.stages.stages:
        locations = {}
        for rid in stage.resources:
            where = loaded.spec.resources[rid].location
            locations[rid] = (where.file, where.line) if where is not None else ("", 0)
        targets.append(StageTarget(stage.name, stack_name(loaded.spec.name, env, stage.name),
                                   locations))

    def started(stage: str) -> None:
        if not as_json:
            err.print(f"refreshing stage {stage} ...")

    report = detect(engine, targets, loaded.registry, spec=spec, env=env, on_stage=started)
    if as_json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        render(report)
    return EXIT_DRIFT if report.drifted else EXIT_OK


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def render(report: DriftReport) -> None:
    """The human view: one block per drifted resource, then a summary line."""
    for r in report.resources:
        where = f" ({r.file}:{r.line})" if r.file else ""
        if r.kind is DriftKind.DELETED:
            out.print(f"- {r.stage}/{r.resource} ({r.type}) {r.cloud_id}: deleted outside "
                      f"provision{where}", markup=False)
            continue
        out.print(f"~ {r.stage}/{r.resource} ({r.type}) {r.cloud_id}: changed outside "
                  f"provision{where}", markup=False)
        for p in r.properties:
            out.print(f"    {p.name}: expected {_value(p.expected)}, actual {_value(p.actual)}",
                      markup=False)
    for stage in report.not_applied:
        out.print(f"  stage {stage}: not applied in environment {report.env}, nothing to compare",
                  markup=False)
    if report.drifted:
        out.print(f"\nDrift: {report.count(DriftKind.CHANGED)} changed, "
                  f"{report.count(DriftKind.DELETED)} deleted. "
                  f"`provision plan {report.spec} --env {report.env}` shows how apply brings "
                  "them back.", markup=False)
    else:
        out.print(f"No drift: {len(report.refreshed)} stage(s) match the clouds.", markup=False)
