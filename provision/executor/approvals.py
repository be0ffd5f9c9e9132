"""The names an approval goes by on a temporal executor.

A rollout is a workflow (rollout_workflow.py) with one child workflow per environment;
a protected environment's child waits, holding no worker, for an ``approve`` update
that names exactly the plan it waits for (its validator refuses any other digest
before it enters the history). The child's id is ``gate_id(run_id, env)``, which the
run record keeps as ``approval_gate`` and ``provision approve`` sends the update to.
"""

from __future__ import annotations

UPDATE_NAME = "approve"


def gate_id(run_id: str, env: str) -> str:
    """The workflow id of environment ``env``'s child in rollout ``run_id``."""
    return f"provision/rollout/{run_id}/{env}"
