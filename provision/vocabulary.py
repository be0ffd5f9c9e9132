"""The one vocabulary of a run: what a stage became, which phase a gate ran in,
what a change does, what the engine did to a resource, what a run was.

Every module, event and view uses these enums; their string values are the words
that appear in JSON events, run records and saved plans (see docs/events.md).
Nothing else in the code spells a status, phase, action or operation as a
string literal.

    Operation   what a run does          plan, apply, destroy, rollback, ...
    StageStatus how a stage ended        applied, unchanged, blocked, failed, ...
    Phase       when a policy gate runs  pre (planned changes), post (live state)
    Action      what a planned change does to a resource (create, update, ...)
    StepOp      what the engine did to a resource in one step (Pulumi's op types)
    DriftKind   how a resource drifted: changed, deleted
    HaltGate    where a rollout stopped  approval, policy, stage, health, promotion
    WorkflowState  a run's Temporal workflow as its server reports it (runs show)
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Operation(str, Enum):
    """What a run does (one word per run kind, as in run records and events)."""

    PLAN = "plan"
    APPLY = "apply"
    DESTROY = "destroy"
    ROLLBACK = "rollback"
    IMPORT = "import"
    REPAIR = "repair"
    REFRESH = "refresh"
    DRIFT = "drift"
    ROLLOUT = "rollout"
    APPROVE = "approve"
    POLICY_CHECK = "policy-check"

    @property
    def mutating(self) -> bool:
        """True for runs that change state or the cloud (they take the environment lock)."""
        return self in _MUTATING


_MUTATING = frozenset({Operation.APPLY, Operation.DESTROY, Operation.ROLLBACK,
                       Operation.IMPORT, Operation.REPAIR})


class StageStatus(str, Enum):
    """How one stage of a run ended."""

    PENDING = "pending"            # not started yet (a run in progress, or one that stopped)
    APPLIED = "applied"            # up succeeded and the post-stage gate passed
    UNCHANGED = "unchanged"        # nothing to change
    BLOCKED = "blocked"            # a mandatory rule failed on the planned changes; nothing applied
    FAILED = "failed"              # the engine or a post-stage rule failed
    ROLLED_BACK = "rolled-back"    # failed after applying, then returned to its previous inputs
    UNVERIFIED = "unverified"      # applied, but its live state could not be read back for the
                                   # post-stage gate (retried first); dependents do not start
    SKIPPED = "skipped"            # not run: a stage it depends on did not succeed, or not selected
    DESTROYED = "destroyed"        # every resource of the stage deleted
    INTERRUPTED = "interrupted"    # the run was asked to stop while this stage ran

    @property
    def ok(self) -> bool:
        """True when dependents of the stage may go on."""
        return self in (StageStatus.APPLIED, StageStatus.UNCHANGED, StageStatus.DESTROYED)

    @property
    def stops_run(self) -> bool:
        """True for outcomes that make the run as a whole unsuccessful."""
        return self in (StageStatus.BLOCKED, StageStatus.FAILED, StageStatus.ROLLED_BACK,
                        StageStatus.INTERRUPTED, StageStatus.UNVERIFIED)


class Phase(str, Enum):
    """When a policy gate runs: on a stage's planned changes, or on its live state after it."""

    PRE = "pre"
    POST = "post"


class Action(str, Enum):
    """What a planned change does to one resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "noop"


class StepOp(str, Enum):
    """What the engine did (or plans to do) to one resource in one step.

    The values are Pulumi's engine-event op types
    (``pulumi.automation.events.OpType``), kept typed from the event to the view.
    """

    SAME = "same"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    CREATE_REPLACEMENT = "create-replacement"
    DELETE_REPLACED = "delete-replaced"
    READ = "read"
    READ_REPLACEMENT = "read-replacement"
    REFRESH = "refresh"
    DISCARD = "discard"
    DISCARD_REPLACED = "discard-replaced"
    REMOVE_PENDING_REPLACE = "remove-pending-replace"
    IMPORT = "import"
    IMPORT_REPLACEMENT = "import-replacement"

    @property
    def changes(self) -> bool:
        """False for steps that leave the resource as it is (same, read, refresh)."""
        return self not in (StepOp.SAME, StepOp.READ, StepOp.REFRESH)


class Outcome(str, Enum):
    """How a run as a whole ended (run history, the ``summary``/``run_finished`` events)."""

    RUNNING = "running"                    # started, not finished (or the process died)
    PLANNED = "planned"                    # a plan was made
    NO_CHANGES = "no-changes"              # nothing to change (``drift``: no drift)
    APPLIED = "applied"                    # every change applied, every gate passed
    DESTROYED = "destroyed"                # every resource deleted
    DRIFTED = "drifted"                    # ``drift`` found live resources unlike the state
    PASSED = "passed"                      # a check found nothing mandatory failing
    APPROVED = "approved"                  # an approval was recorded
    HALTED = "halted"                      # a rollout stopped at an approval or a failed gate
    POLICY_VIOLATION = "policy-violation"  # a mandatory rule failed
    FAILED = "failed"                      # an error stopped the run
    INTERRUPTED = "interrupted"            # stopped by SIGINT/SIGTERM (exit 130)
    ABANDONED = "abandoned"                # its process died unseen (killed, crashed): a
                                           # later run found it dead (no exit code)


class StepKind(str, Enum):
    """What one recorded step of a run was (run history; rollouts record one per gate)."""

    PLAN = "plan"            # an environment was planned
    STAGE = "stage"          # one stage applied / destroyed / ...
    HEALTH = "health"        # an environment's health checks
    APPROVAL = "approval"    # an approval gate of a protected environment
    ROLLBACK = "rollback"    # a failed environment returned to its previous inputs
    PROMOTION = "promotion"  # earlier environments' resolved spec checked before the next
    ERROR = "error"          # an error stopped an environment's step (one attempt of it)


class GateStatus(str, Enum):
    """How a gate step (health checks, approval) ended."""

    PASSED = "passed"
    FAILED = "failed"
    WAITING = "waiting"      # an approval is needed; the rollout halted
    APPROVED = "approved"
    VOIDED = "voided"        # the approved plan no longer matches spec or state


class HaltGate(str, Enum):
    """Where a rollout stopped (``halt.gate`` in ``run_finished`` and the run record)."""

    APPROVAL = "approval"    # a protected environment's plan needs an approval
    POLICY = "policy"        # a mandatory rule failed (exit 3)
    STAGE = "stage"          # a stage failed or was interrupted
    HEALTH = "health"        # an environment's health checks failed
    PROMOTION = "promotion"  # the spec of an environment finished earlier in the rollout
                             # changed since: promoting would skip it


class ExitCode(IntEnum):
    """The exit codes of every command (README, docs/events.md)."""

    OK = 0              # success (no changes, for plan --detailed-exitcode)
    ERROR = 1           # an error: bad input, a failed stage, ...
    CHANGES = 2         # plan --detailed-exitcode: changes present
    POLICY = 3          # a mandatory policy rule failed
    HALTED = 4          # a rollout halted: an approval is needed or a gate failed
    INTERRUPTED = 130   # stopped by SIGINT/SIGTERM (128 + SIGINT)


class DriftKind(str, Enum):
    """How a resource drifted from what the last apply recorded (``provision drift``)."""

    CHANGED = "changed"     # a property the spec sets has another value in the cloud
    DELETED = "deleted"     # the resource no longer exists in the cloud


class WorkflowState(str, Enum):
    """A run's Temporal workflow as ``runs show`` found it on its server."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued-as-new"
    TIMED_OUT = "timed-out"
    NOT_FOUND = "not-found"          # the server answered but knows no such workflow
    UNREACHABLE = "unreachable"      # the server did not answer: status unknown
