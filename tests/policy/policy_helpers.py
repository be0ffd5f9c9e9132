"""Helpers for the policy tests: the baseline packs' path, tiny plans, throwaway packs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from provision.plan.model import Action, Change, Plan, StagePlan

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
TODAY = dt.date(2026, 6, 1)


def change(rid: str, type_name: str, after: dict[str, Any], *, stage: str = "s1",
           unknown: list[str] | None = None, line: int = 7) -> Change:
    return Change(id=rid, type=type_name, action=Action.CREATE, stage=stage, after=after,
                  unknown=list(unknown or []), file="stacks/app.yaml", line=line)


def plan_of(*changes: Change, env: str = "prod") -> tuple[StagePlan, Plan]:
    stage = StagePlan(name=changes[0].stage if changes else "s1", stack="app.prod.s1",
                      changes=list(changes))
    return stage, Plan(spec="app", env=env, spec_file="stacks/app.yaml", stages=[stage])


def write_pack(root: Path, name: str, files: dict[str, str], manifest: str = "") -> Path:
    pack = root / name
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text(manifest or f"name: {name}\nversion: 0.1.0\n"
                                    "enforcement: mandatory\n")
    for fname, text in files.items():
        (pack / fname).write_text(text)
    return pack
