"""A rollout on a temporal executor, seen from the CLI (``provision.executor.rollouts``).

On ``local`` the rollout runs in the ``provision rollout`` process and an approval lives
in the run history only. On ``temporal-local`` and ``temporal://...`` the rollout is a
workflow (``provision.executor.rollout_workflow``, its ids in the run record as
``workflow``, as an apply's), each environment a child workflow; one that halts for an
approval waits for it as an ``approve`` update, its ids in the run record as
``approval_gate``. ``provision approve`` sends the approval there (after the same checks
as on ``local``) and records it in the history as before; ``rollout --resume`` joins the
rollout's workflow. The run records have the same shape on every executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provision.cli import session
from provision.errors import ProvisionError
from provision.rollout.state import RolloutState

if TYPE_CHECKING:   # temporalio only once a temporal executor is chosen
    from provision.executor.gates import Gates
    from provision.executor.rollouts import WorkflowRollout
    from provision.history import RunRecorder

GATE = "approval_gate"
WORKFLOW = "workflow"         # as for an apply: what runs show describes
# The environment whose state passphrase seals the rollout workflow's payloads.
SEALED_BY = "sealed_by"


def workflow_rollout(state: RolloutState, record: "RunRecorder",
                     executor: str | None) -> "WorkflowRollout | None":
    """The rollout's workflow on a temporal executor (None on ``local``); its ids go into
    the run record (``workflow``), and those of an environment waiting for an
    approval as its gate (``approval_gate``, what ``approve`` sends the approval to).
    Payloads are sealed with the state passphrase of the chain's last environment."""
    from provision.executor import executor_name

    try:
        loaded = session.load(state.spec_file, state.target)
    except ProvisionError:      # the rollout's first step reports it, as on local
        return None
    name = executor_name(executor, loaded.spec.executor)
    if name == "local":
        return None
    from provision.executor.rollouts import WorkflowRollout
    from provision.executor.temporal import Target

    def started(ids: dict[str, str]) -> None:
        record.update(detail={WORKFLOW: {**ids, "executor": name}})

    def waiting(ids: dict[str, str]) -> None:
        record.update(detail={GATE: {**ids, "executor": name, SEALED_BY: state.target}})

    return WorkflowRollout(Target.parse(name),
                           session.state_passphrase(loaded.spec, loaded.env),
                           started=started, waiting=waiting)


def _gates(spec_file: str, env: str, executor: str | None) -> "tuple[Gates | None, str]":
    """The gates of the rollout's executor (None on ``local``) and its name."""
    from provision.executor import executor_name

    loaded = session.load(spec_file, env)
    name = executor_name(executor, loaded.spec.executor)
    if name == "local":
        return None, name
    from provision.executor.gates import Gates
    from provision.executor.temporal import Target

    return Gates(Target.parse(name), session.state_passphrase(loaded.spec, loaded.env)), name


def send_approval(run: dict[str, Any], env: str, digest: str, comment: str, who: str) -> None:
    """``approve``: the approval to the rollout's gate, when its run record names one."""
    gate = run["detail"].get(GATE)
    if not isinstance(gate, dict) or gate.get("env") != env:
        return
    from provision.executor.records import ApprovalGate, ApprovalRecord

    state = RolloutState.from_dict(run["detail"].get("rollout"), run["id"])
    gates, _ = _gates(state.spec_file, str(gate.get(SEALED_BY) or env),
                      gate.get("executor") or None)
    if gates is not None:
        gates.approve(ApprovalGate(run["id"], env, str(gate.get("plan_digest", ""))),
                      ApprovalRecord(digest, who, comment))
