"""Saved plans: ``provision plan --out plan.json`` writes one, ``apply plan.json`` reads it.

The file is the plan's JSON form (:mod:`provision.plan.render_json`) with a
``kind`` marker; it carries the ``spec_digest`` and per-stage ``state_digests``
that apply compares before changing anything, and each change's recorded
``inputs``, from which apply builds the stage's program. Secret values are
stored masked: apply takes them from the spec, whose digest must still match.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from provision.errors import PlanError
from provision.plan.model import FORMAT_VERSION, UNKNOWN, Action, Change, Plan, PropertyDiff, StagePlan
from provision.plan.render_json import REF_KEY, UNKNOWN_JSON, plan_to_json
from provision.provider import AdapterRegistry
from provision.spec.refs import parse_string

KIND = "provision-plan"


def plan_to_file_json(plan: Plan, registry: AdapterRegistry | None = None) -> dict[str, Any]:
    return {"kind": KIND, **plan_to_json(plan, registry)}


def write_plan(plan: Plan, path: str | Path, registry: AdapterRegistry | None = None) -> None:
    """Write atomically, so a crash never leaves half a plan behind."""
    target = Path(path)
    text = json.dumps(plan_to_file_json(plan, registry), indent=2, sort_keys=False) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value == UNKNOWN_JSON:
            return UNKNOWN
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _decode_inputs(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {REF_KEY} and isinstance(value[REF_KEY], str):
            return parse_string(value[REF_KEY])
        return {k: _decode_inputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_inputs(v) for v in value]
    return value


def _change(data: dict[str, Any]) -> Change:
    return Change(
        id=data["id"], type=data["type"], action=Action(data["action"]), stage=data["stage"],
        before=_decode(data.get("before")), after=_decode(data.get("after")),
        diffs=[PropertyDiff(path=d["path"], before=_decode(d.get("before")),
                            after=UNKNOWN if d.get("after_unknown") else _decode(d.get("after")),
                            replaces=bool(d.get("replaces")), secret=bool(d.get("secret")))
               for d in data.get("diffs", [])],
        unknown=list(data.get("unknown", [])), file=data.get("file", ""),
        line=int(data.get("line", 0)),
        inputs=_decode_inputs(data.get("inputs")),
        secrets=[str(k) for k in data.get("secrets") or []],
    )


def plan_from_json(data: Any, source: str = "<plan>") -> Plan:
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise PlanError(f"{source} is not a saved provision plan",
                        hint="make one with: provision plan SPEC --env ENV --out plan.json")
    version = str(data.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanError(f"{source} has plan format {version or '?'}; this provision reads "
                        f"{FORMAT_VERSION}", hint="make a new plan with this version")
    try:
        return Plan(
            spec=data["spec"], env=data["env"], spec_file=data["spec_file"],
            spec_digest=data.get("spec_digest", ""),
            state_digests=dict(data.get("state_digests", {})),
            targets=[str(t) for t in data.get("targets", [])],
            excludes=[str(e) for e in data.get("excludes", [])],
            format_version=version,
            stages=[StagePlan(name=s["name"], stack=s["stack"],
                              depends_on=list(s.get("depends_on", [])),
                              changes=[_change(c) for c in s.get("changes", [])])
                    for s in data.get("stages", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{source} is damaged: {exc!r}",
                        hint="make a new plan; do not edit saved plans") from None


def read_plan(path: str | Path) -> Plan:
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"saved plan not found: {source}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"cannot read saved plan {source}: {exc}") from None
    return plan_from_json(data, source)
