"""Plans by id, for stage activities: a workflow carries a plan's id, never the plan.

The client writes the plan it showed (the saved-plan format: recorded inputs,
secrets masked, which apply takes from the spec again) and each stage activity
reads it back by id. Workers on other machines need the same directory: a shared
file system, or the same ``PROVISION_PLAN_DIR`` synced beside the state backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from provision.engine.clouds import home_dir
from provision.errors import PlanError
from provision.plan.model import Plan
from provision.plan.saved import plan_to_file_json, read_plan, write_plan
from provision.provider import AdapterRegistry

_ID = re.compile(r"^[0-9a-f]{16,64}$")


def plan_dir() -> Path:
    return Path(os.environ.get("PROVISION_PLAN_DIR") or home_dir() / "plans")


def checkpoint_dir() -> Path:
    """Where stages' sealed pre-update states wait for a rollback (checkpoints.py)."""
    return plan_dir() / "checkpoints"


@dataclass(frozen=True)
class PlanStore:
    root: Path

    def put(self, plan: Plan, registry: AdapterRegistry | None = None) -> str:
        """Store ``plan``; its id is the digest of its saved form."""
        text = json.dumps(plan_to_file_json(plan, registry), sort_keys=True)
        plan_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        path = self.root / f"{plan_id}.json"
        if not path.exists():
            write_plan(plan, path, registry)
        return plan_id

    def get(self, plan_id: str) -> Plan:
        if not _ID.match(plan_id):
            raise PlanError(f"'{plan_id}' is not a plan id")
        path = self.root / f"{plan_id}.json"
        if not path.exists():
            raise PlanError(f"plan {plan_id} is not in {self.root}",
                            hint="workers on other machines need the same plan directory "
                                 "(PROVISION_PLAN_DIR on a shared file system)")
        return read_plan(path)
