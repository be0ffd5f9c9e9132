"""Is a stage still as a saved plan found it: its state, and what it would change?"""

from __future__ import annotations

from typing import Any, Mapping

from provision.engine.protocol import StackSnapshot
from provision.errors import StalePlanError
from provision.plan.model import UNKNOWN, Change, Plan
from provision.plan.render_json import SENSITIVE_JSON

# The state digest a plan records for a stage that had no stack when it was planned.
NO_STATE = ""


def state_unchanged(planned: str, now: StackSnapshot | None) -> bool:
    """True when a stage's state is the one a plan recorded (``planned``, its digest):
    the same digest, or, for a stage that had no stack then (:data:`NO_STATE`), no stack
    or one that still records nothing (a plan's preview creates the stack, empty)."""
    if now is None:
        return planned == NO_STATE
    if planned == NO_STATE:
        return not (now.inputs or now.recorded or now.outputs or now.pending)
    return now.digest == planned


def ensure_state_unchanged(plan: Plan, snapshots: Mapping[str, StackSnapshot]) -> None:
    """Refuse a saved ``plan`` before anything is applied when the state of any of its
    stages moved since it was made (``snapshots``: stage -> its stack now, absent when
    there is none). Raises :class:`StalePlanError` naming every such stage. Each stage
    is checked again as it starts (another run may move it meanwhile)."""
    moved = [s.name for s in plan.stages if s.name in plan.state_digests
             and not state_unchanged(plan.state_digests[s.name], snapshots.get(s.name))]
    if moved:
        which = ", ".join(f"'{name}'" for name in moved)
        raise StalePlanError(
            f"the state of stage{'s' if len(moved) > 1 else ''} {which} changed since the "
            "plan was made; nothing was applied",
            hint="make a new plan with `provision plan ... --out`")


def same_as_shown(saved: Change, fresh: Change) -> bool:
    """True when ``fresh`` (planned now) does what the saved plan showed: the same action,
    the same property values after, and the same values before (a resource changed in
    the cloud since the plan was made would be changed from something the plan did not
    show), where a value the plan showed as known only after apply may be anything now
    and a value it masked as secret is not compared."""
    if saved.action is not fresh.action or not set(fresh.unknown) <= set(saved.unknown):
        return False
    return _matches(saved.after, fresh.after) and _matches(saved.before, fresh.before)


def _matches(shown: Any, now: Any) -> bool:
    if shown is UNKNOWN or shown == SENSITIVE_JSON:
        return True
    if isinstance(shown, dict) and isinstance(now, dict):
        return shown.keys() == now.keys() and all(_matches(v, now[k]) for k, v in shown.items())
    if isinstance(shown, list) and isinstance(now, list):
        return len(shown) == len(now) and all(_matches(a, b) for a, b in zip(shown, now))
    return bool(shown == now)
