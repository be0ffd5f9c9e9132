"""The approval gate of a rollout as a Temporal workflow: waiting for an approval is
waiting for an update, validated against the plan digest.

A rollout is a workflow now (rollout_workflow.py), whose environment waits for the
approval itself; this gate is what rollouts halted before that wait at, so it stays
registered (and replays). When such a rollout halted at a protected environment, the
client started one ``provision.approval`` workflow (id ``provision/rollout/<run id>/<env>``)
that waits, holding no worker and no activity, until an ``approve`` update names
exactly the plan it waits for. The update's validator rejects any other digest before
it enters the history; an accepted one completes the workflow with the approval.
Workflow code is deterministic: no I/O, no clock, only ``workflow.wait_condition``.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from provision.executor.records import ApprovalGate, ApprovalRecord

WORKFLOW_NAME = "provision.approval"
UPDATE_NAME = "approve"


def gate_id(run_id: str, env: str) -> str:
    return f"provision/rollout/{run_id}/{env}"


@workflow.defn(name=WORKFLOW_NAME)
class ApprovalWorkflow:
    """One environment's approval gate in one rollout."""

    @workflow.init
    def __init__(self, gate: ApprovalGate) -> None:
        self._gate = gate                # set before any update is validated
        self._approval: ApprovalRecord | None = None

    @workflow.query(name="waiting_for")
    def waiting_for(self) -> str:
        """The plan digest an approval must name ('' once approved)."""
        return "" if self._approval else self._gate.plan_digest

    @workflow.run
    async def run(self, gate: ApprovalGate) -> ApprovalRecord:
        await workflow.wait_condition(lambda: self._approval is not None)
        assert self._approval is not None
        return self._approval

    @workflow.update(name=UPDATE_NAME)
    def approve(self, approval: ApprovalRecord) -> ApprovalRecord:
        self._approval = self._approval or approval
        return self._approval

    @approve.validator
    def _validate(self, approval: ApprovalRecord) -> None:
        gate = self._gate
        if self._approval is not None:
            raise ValueError(f"{gate.env} in rollout {gate.run_id} is approved already "
                             f"(plan {self._approval.plan_digest})")
        if approval.plan_digest != gate.plan_digest:
            raise ValueError(f"the approval names plan {approval.plan_digest}, but {gate.env} "
                             f"in rollout {gate.run_id} waits for plan {gate.plan_digest}")
