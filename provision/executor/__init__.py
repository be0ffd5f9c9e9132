"""Executors: who runs a plan's stages, and where.

One seam, three implementations of the same stage operations:

=================================  ==========================================================
``local`` (the default)            the in-process orchestrator, exactly as before
``temporal-local``                 one durable Temporal workflow per run, on a dev server this
                                   process starts (SQLite under ``.provision/temporal/``) with
                                   an in-process worker
``temporal://host:port[?namespace=NS]``
                                   the same workflow on an existing cluster; stages run on the
                                   workers of their task queues (``provision worker``)
=================================  ==========================================================

Chosen by ``--executor``, else ``PROVISION_EXECUTOR``, else the spec's ``executor:``,
else ``local``. The temporal ones are imported only when chosen: the default path
never imports ``temporalio``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Protocol

from provision.engine.orchestrator import Orchestrator
from provision.engine.report import ApplyReport
from provision.executor.records import DEFAULT_QUEUE, RunRef
from provision.plan.model import Plan

__all__ = ["DEFAULT_QUEUE", "ENV_EXECUTOR", "Choice", "Executor", "LocalExecutor", "RunRef",
           "choose", "executor_name"]

ENV_EXECUTOR = "PROVISION_EXECUTOR"
LOCAL = "local"


class Executor(Protocol):
    """Applies a plan, or destroys an environment, and reports each stage's outcome."""

    def apply(self, orch: Orchestrator, plan: Plan, run: RunRef, *,
              check_fresh: bool = False) -> ApplyReport: ...

    def destroy(self, orch: Orchestrator, run: RunRef) -> ApplyReport: ...


@dataclass
class LocalExecutor:
    """Today's in-process orchestrator: stages in threads of this process."""

    name: str = LOCAL

    def apply(self, orch: Orchestrator, plan: Plan, run: RunRef, *,
              check_fresh: bool = False) -> ApplyReport:
        return orch.apply(plan, check_fresh=check_fresh)

    def destroy(self, orch: Orchestrator, run: RunRef) -> ApplyReport:
        return orch.destroy()


def executor_name(flag: str | None, spec_setting: str | None) -> str:
    """The executor asked for: ``--executor``, else the environment, else the spec."""
    return flag or os.environ.get(ENV_EXECUTOR) or spec_setting or LOCAL


@dataclass
class Choice:
    """What a temporal executor needs besides its name (ignored by ``local``)."""

    passphrase: Callable[[], str] = lambda: ""
    queues: dict[str, str] = field(default_factory=dict)     # stage -> task queue
    notice: Callable[[str], None] = lambda text: None
    recover: Callable[[], object] = lambda: None               # repair before a retried stage
    # Called once the run's workflow started: {"id", "run_id", "address", "namespace"}.
    started: Callable[[dict[str, str]], None] = lambda workflow: None


def choose(name: str, choice: Choice | None = None) -> Executor:
    """The executor called ``name`` (see the module doc); raises ExecutorError if unknown."""
    if name == LOCAL:
        return LocalExecutor()
    from provision.executor.temporal import Target, TemporalExecutor   # lazy: temporalio

    choice = choice or Choice()
    return TemporalExecutor(Target.parse(name), choice.passphrase(), dict(choice.queues),
                            notice=choice.notice, recover=choice.recover, started=choice.started)
