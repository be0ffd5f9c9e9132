"""Run history and the tamper-evident audit log, in one embedded SQLite database.

Every plan, apply, destroy, rollout, approval, repair and policy check is a run:
who started it and when, spec and plan digests, environment, each step (stage
outcomes with timings, plans, health checks, approvals), every policy result,
the outcome, exit code and duration. ``provision runs list|show|verify`` reads it.

Recording a run from any command (the one interface other modules use)::

    history = History.open()                     # .provision/history.db by default
    run = history.start(Operation.REPAIR, spec="demo", env="prod")
    run.stage_started("aws"); run.stage("aws", StageStatus.APPLIED, changes={...})
    run.step(StepKind.HEALTH, "health", GateStatus.PASSED, detail={...})
    run.policy("aws", Phase.PRE, [result.to_dict() for result in report.results])
    run.finish(Outcome.APPLIED, exit_code=0)

Nothing secret is recorded: callers pass counts, statuses, digests and policy
results, never plan or state values.
"""

from provision.history.audit import ChainProblem, ChainReport
from provision.history.identity import who
from provision.history.recorder import RunRecorder
from provision.history.store import Approval, History, RunView, new_run_id

__all__ = ["Approval", "ChainProblem", "ChainReport", "History", "RunRecorder", "RunView",
           "new_run_id", "who"]
