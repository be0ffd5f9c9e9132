"""The digest of a plan: what an approval is bound to, what the run history records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from provision.errors import PlanError
from provision.plan.model import Plan
from provision.plan.saved import plan_to_file_json
from provision.provider import AdapterRegistry


def plan_digest(plan: Plan, registry: AdapterRegistry | None = None) -> str:
    """``sha256:<hex>`` of the plan's saved-file JSON form in canonical order (sorted
    keys, no whitespace): the same for the same changes, spec digest and state digests;
    different when any of them moves. Secret values are masked before hashing."""
    doc = plan_to_file_json(plan, registry)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    """The :func:`plan_digest` of a saved-plan file, from its JSON as written.

    Raises PlanError when the file cannot be read."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"cannot read saved plan {path}: {exc}") from None
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
