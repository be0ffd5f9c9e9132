"""The digest of a plan: what an approval is bound to, what the run history records."""

from __future__ import annotations

import hashlib
import json

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
