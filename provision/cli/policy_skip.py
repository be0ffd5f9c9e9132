"""``--no-policy``: never silent, and on a protected environment never without a second flag.

Skipping the policy gates is what a break-glass change needs, and what an audit must
see. So ``apply`` and ``rollout`` with ``--no-policy``:

* refuse to start when an environment they would change is protected, unless
  ``--unsafe-bypass-policy`` is given too (Terraform Cloud lets only a named
  override pass a failed soft-mandatory policy; Pulumi Deployments enforce an
  organisation's mandatory packs with no skip at all). The refusal comes before
  anything is loaded from the state or changed. It never stands in for an approval:
  a rollout still halts for a protected environment's approval, and ``apply`` still
  asks (or needs ``--yes``);
* say so on stderr (also with ``--json``), emit a ``policy_skipped`` event with
  ``--json``, keep ``{"policy": {"skipped": true, "bypass": ...}}`` in the run's
  detail (``runs show`` prints it) and append a ``policy.skipped`` row to the audit
  log.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rich.console import Console

from provision.errors import PolicyBypassRefusedError
from provision.history import RunRecorder
from provision.spec.model import Environment

BYPASS_FLAG = "--unsafe-bypass-policy"
AUDIT_ACTION = "policy.skipped"


def refuse_unless_bypassed(envs: Iterable[Environment], *, no_policy: bool, bypass: bool,
                           command: str) -> None:
    """Raise :class:`PolicyBypassRefusedError` when ``no_policy`` would skip the policies of a
    protected environment among ``envs`` and ``bypass`` was not given."""
    if not no_policy or bypass:
        return
    protected = [e.name for e in envs if e.protected]
    if protected:
        raise PolicyBypassRefusedError(protected, command, BYPASS_FLAG)


def announce_skipped(record: RunRecorder, envs: Iterable[Environment], *, bypass: bool,
                     emit: Callable[..., None], err: Console) -> dict[str, Any]:
    """Say that the policies of ``envs`` are skipped (stderr, the ``policy_skipped`` event
    through ``emit``), and record it in the run's detail and the audit log. Returns the
    detail recorded: ``{"skipped": True, "bypass": bool, "protected": [env, ...]}``."""
    chosen = list(envs)
    protected = [e.name for e in chosen if e.protected]
    names = ", ".join(e.name for e in chosen)
    detail: dict[str, Any] = {"skipped": True, "bypass": bypass, "protected": protected}
    err.print(f"warning: --no-policy: no policy is checked before or after any stage "
              f"({names})" + (f"; protected environment(s) {', '.join(protected)} changed "
                              f"under {BYPASS_FLAG}" if protected else "")
              + f"; recorded in run {record.id}", markup=False)
    emit("policy_skipped", envs=[e.name for e in chosen], **detail)
    record.update(detail={"policy": detail})
    record.audit(AUDIT_ACTION, {"envs": [e.name for e in chosen], **detail})
    return detail
