"""``provision drift SPEC --env ENV [--json]``: what changed in the clouds behind our back.

Exit codes: 0 no drift, 2 drift found, 1 error. The JSON form is documented in
``docs/spec.md`` (Drift JSON).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from provision.cli import guard, session
from provision.cli.recording import recorded
from provision.engine.drift import DriftReport, StageTarget, detect
from provision.engine.orchestrator import spec_digest
from provision.engine.stack_values import stack_name
from provision.engine.protocol import Engine
from provision.vocabulary import DriftKind, Operation, Outcome

EXIT_OK, EXIT_DRIFT = 0, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def drift(spec: str, env: str, *, as_json: bool) -> int:
    """Detect drift; the run is recorded in the run history like a plan (outcome
    ``drifted`` or ``no-changes``, the counts, the exit code)."""
    loaded = session.load(spec, env)
    with recorded(Operation.DRIFT, spec=loaded.spec.name, env=env, spec_file=spec,
                  spec_digest=spec_digest([spec])) as record:
        with guard.engine_run(loaded, Operation.DRIFT, record.id,
                              notice=lambda text: None) as run:
            engine = session.engine(loaded.spec, loaded.env, supervisor=run.supervisor)
            report = _detect(loaded, engine, spec, env, as_json=as_json)
        code = EXIT_DRIFT if report.drifted else EXIT_OK
        record.finish(Outcome.DRIFTED if report.drifted else Outcome.NO_CHANGES, exit_code=code,
                      detail={"drift": {kind.value: report.count(kind) for kind in DriftKind},
                              "stages": report.refreshed, "not_applied": report.not_applied})
    if as_json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        render(report)
    return code


def _detect(loaded: session.Loaded, engine: Engine, spec: str, env: str, *,
            as_json: bool) -> DriftReport:
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

    return detect(engine, targets, loaded.registry, spec=spec, env=env, on_stage=started)


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
