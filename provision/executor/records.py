"""What the temporal executors pass through Temporal: references and outcomes, never values.

A workflow gets the run's references (spec file, environment, plan id, stage names
and their order) and each activity rebuilds what it needs from them on its worker.
A stage activity returns a :class:`StageRecord` (status, reason, timing, the error's
class and message, the change counts): no stack outputs. Plain dataclasses of
JSON-able fields, importable by workflow code (no I/O, no temporalio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provision.vocabulary import Operation

# The task queue of stages no (cloud, environment) mapping names.
DEFAULT_QUEUE = "provision"


@dataclass(frozen=True)
class RunRef:
    """The run a workflow belongs to, as a worker finds it again."""

    spec_file: str
    env: str
    run_id: str = ""
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    policies: str | None = None          # a policy pack directory; None: the default
    no_policy: bool = False
    rollback_on_violation: bool = False


@dataclass(frozen=True)
class StageTask:
    """One stage activity's input."""

    run: RunRef
    operation: str                       # Operation.APPLY / Operation.DESTROY value
    stage: str
    plan_id: str = ""                    # the plan in the plan store (apply)
    check_fresh: bool = False            # a saved plan: refuse it if the stage moved


@dataclass(frozen=True)
class EnvironmentJob:
    """The input of one environment's workflow (``workflows.EnvironmentWorkflow``)."""

    run: RunRef
    operation: str
    order: list[str]                     # the stages, in the order they start when ready
    waits_for: dict[str, list[str]]      # stage -> stages that must succeed first
    depends_on: dict[str, list[str]]     # stage -> stages it depends on (skip reasons)
    queues: dict[str, str] = field(default_factory=dict)   # stage -> task queue
    plan_id: str = ""
    check_fresh: bool = False
    parallel: int = 4
    heartbeat_seconds: float = 30.0
    max_attempts: int = 5


@dataclass(frozen=True)
class ErrorRecord:
    kind: str                            # the ProvisionError class name
    message: str
    hint: str = ""
    resource: str = ""
    phase: str = ""                      # a PolicyViolation's gate phase
    results: list[dict[str, Any]] = field(default_factory=list)   # its blocking results


@dataclass(frozen=True)
class StageRecord:
    """A stage's outcome as it travels back to the client."""

    stage: str
    status: str                          # a StageStatus value
    reason: str = ""
    cause: str = ""
    seconds: float = 0.0
    error: ErrorRecord | None = None
    summary: dict[str, int] | None = None
    version: int | None = None
    attempt: int = 1                     # the activity attempt that produced it
    worker: str = ""                     # the worker identity that ran it


@dataclass(frozen=True)
class PhaseTask:
    """The input of a phase activity of an applied stage after its plan phase: the
    stage's task and the references the phases before it returned (never values)."""

    task: StageTask
    planned: str = ""                    # the plan id of the stage plan the gate judges
    checkpoint: str = ""                 # the sealed state before the update ("": none)
    summary: dict[str, int] | None = None    # the update's change counts
    version: int | None = None               # the update's stack version


@dataclass(frozen=True)
class PhaseRecord:
    """What one phase activity of an applied stage returns: the stage's record so far
    (its outcome when ``final``) and references for the phases after it."""

    record: StageRecord
    final: bool = True
    planned: str = ""                    # plan phase: the stage plan's id in the plan store
    digest: str = ""                     # plan phase: its digest (``sha256:<hex>``)
    changes: dict[str, int] = field(default_factory=dict)   # plan phase: action -> count
    checkpoint: str = ""                 # gate before: the sealed pre-update state's id
    roll_back: bool = False              # gate after: a violation, the stage is rolled back


def is_apply(operation: str) -> bool:
    return operation == Operation.APPLY.value


@dataclass(frozen=True)
class ApprovalGate:
    """The plan of ``env`` in rollout ``run_id`` that waits for an approval (its
    environment's workflow in the rollout, ``approvals.gate_id``)."""

    run_id: str
    env: str
    plan_digest: str                     # the only plan an approval may name


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval as it reaches the gate: who approved which plan, and why."""

    plan_digest: str
    who: str
    comment: str = ""
