"""The safety net around every engine run: supervision, lock, journal, interrupt, recovery.

``engine_run`` is used by every command that runs the Pulumi engine. All of them
get a :class:`~provision.engine.supervise.Supervisor` (no process outlives the
run). Mutating runs (``Operation.mutating``) also:

1. take the environment lock on the state backend (or fail at once naming the
   holder; a provably dead holder's lock is taken over, that is logged, and the run
   history records the dead run ``abandoned``);
2. write the run journal next to the state;
3. turn the first SIGINT/SIGTERM into a graceful stop and the second into an
   immediate one (exit 130 either way);
4. in :meth:`EngineRun.recover`, before anything changes: verify the passphrase
   against every stack, then repair the stages a dead run left behind.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from provision.cli import recording, session
from provision.engine.journal import Journal, RunJournal, close_journal, unfinished
from provision.engine.lock import EnvironmentLock
from provision.engine.hooks import Hooks
from provision.engine.orchestrator import Orchestrator
from provision.engine.clouds import cloud_configs
from provision.engine.protocol import RunResult
from provision.engine.recovery import Recovery, RecoveryEngine, StageRepair, adapter_finder
from provision.errors import EngineError, EnvironmentLockedError, StackLockedError
from provision.engine.statestore import StateStore
from provision.engine.supervise import Interrupt, Supervisor
from provision.vocabulary import Operation, Outcome, StageStatus

EXIT_INTERRUPTED = 130


@dataclass
class EngineRun:
    """One run's supervisor, and for mutating runs its lock, journal and interrupt flag."""

    loaded: session.Loaded
    operation: Operation
    run_id: str
    supervisor: Supervisor
    notice: Callable[[str], None]
    store: StateStore | None = None
    lock: EnvironmentLock | None = None
    journal: Journal | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    planned: dict[str, dict[str, int]] = field(default_factory=dict)
    stopped_at: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return self.stop.is_set()

    def hooks(self, inner: Hooks) -> Hooks:
        """``inner`` plus journal entries before and after each stage."""
        journal = self.journal
        if journal is None:
            return inner

        def stage_start(stage: str, op: Operation) -> None:
            if op is not Operation.PLAN:
                journal.stage_start(stage, op.value, self.planned.get(stage))
            inner.stage_start(stage, op)

        def stage_done(stage: str, status: StageStatus, result: RunResult | None) -> None:
            journal.stage_end(stage, status, update_version=result.version if result else None,
                              changes=result.summary if result else None)
            if status is StageStatus.INTERRUPTED:
                self.stopped_at.append(stage)
            inner.stage_done(stage, status, result)

        return replace(inner, stage_start=stage_start, stage_done=stage_done)

    def crashed(self) -> list[RunJournal]:
        """Journals of earlier runs that never finished (killed or crashed)."""
        store = self.store or session.state_store(self.loaded)
        return unfinished(store, self.loaded.spec.name, self.loaded.env.name,
                          current=self.run_id)

    def recover(self, orch: Orchestrator, *, dry_run: bool = False,
                every_stage: bool = False) -> list[StageRepair]:
        """Verify the passphrase, then repair (or with ``dry_run`` only inspect) each
        stage a dead run left behind: in flight in a crashed run's journal, locked, or
        with pending operations. ``every_stage`` inspects all stages (``repair``)."""
        snaps = session.verify_state(self.loaded, orch)
        store = self.store or session.state_store(self.loaded)
        engine = orch.engine
        if not isinstance(engine, RecoveryEngine):
            raise EngineError("this engine cannot inspect or repair stacks")
        crashed = self.crashed()
        in_flight = {stage for j in crashed for stage in j.in_flight()}
        configs = cloud_configs(self.loaded.env, session.sandbox_settings(self.loaded.env))
        recovery = Recovery(store, engine, self.loaded.registry,
                            adapter_finder(self.loaded.registry, configs),
                            {rid: r.type for rid, r in self.loaded.spec.resources.items()})
        reports = []
        for stage in self.loaded.stages.stages:
            stack = orch.stack_name(stage.name)
            snap = snaps.get(stage.name)
            locked = bool(store.list(engine.lock_prefix(stack)))
            suspect = (stage.name in in_flight or (snap is not None and bool(snap.pending))
                       or locked)
            # A stack with no state can still hold a lock: its first update died creating it.
            if (snap is None and not locked) or not (suspect or every_stage):
                continue
            crashed_here = stage.name in in_flight
            report = (recovery.inspect(stage.name, stack, crashed_in_flight=crashed_here)
                      if dry_run else
                      recovery.repair(stage.name, stack, crashed_in_flight=crashed_here))
            reports.append(report)
            if report.needed and not dry_run:
                orch.forget(stage.name)
                for line in report.lines():
                    self.notice(f"repaired stage {stage.name}: {line}")
                if self.journal is not None:
                    self.journal.note(f"repaired stage {stage.name}: " + "; ".join(report.lines()))
        if not dry_run:
            for j in crashed:
                close_journal(store, self.loaded.spec.name, self.loaded.env.name, j.run_id,
                              f"crashed; recovered by run {self.run_id}")
                recording.abandoned(j.run_id, found_by=self.run_id,
                                    reason="its journal was never finished (killed or crashed)")
        return reports

    def finish(self, status: str) -> None:
        if self.journal is not None:
            self.journal.finish(status)


@contextmanager
def engine_run(loaded: session.Loaded, operation: Operation, run_id: str, *,
               notice: Callable[[str], None],
               on_abort: Callable[[list[str]], None] = lambda stages: None) -> Iterator[EngineRun]:
    """The run's safety net (see module doc). ``on_abort(stopped_at)`` runs on the second
    interrupt, just before the process exits 130 (record where the run stopped)."""
    supervisor = Supervisor().start()
    run = EngineRun(loaded, operation, run_id, supervisor, notice)
    interrupt: Interrupt | None = None
    try:
        if operation.mutating:
            run.store = session.state_store(loaded)
            run.lock = EnvironmentLock(run.store, loaded.spec.name, loaded.env.name, run_id,
                                       operation, log=notice)
            run.lock.acquire()
            run.journal = Journal(run.store, loaded.spec.name, loaded.env.name, run_id, operation)
            run.journal.begin()
            if run.lock.took_over is not None:
                run.journal.note(f"took over the environment lock from "
                                 f"{run.lock.took_over.describe()}")
                recording.abandoned(run.lock.took_over.run_id, found_by=run_id,
                                    reason=run.lock.took_over_because)

            def first(signal_name: str) -> None:
                run.stop.set()
                notice(f"{signal_name} received: stopping after the running stage (Pulumi "
                       "cancels it cleanly); send it again to stop at once")

            def second() -> None:
                notice("second interrupt: stopping at once; the next run repairs the state")
                stages = run.stopped_at or _running_stages(run)
                on_abort(stages)
                if run.journal is not None:
                    run.journal.note("stopped at once by a second interrupt")
                if run.lock is not None:
                    run.lock.release()
                supervisor.stop()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_INTERRUPTED)

            interrupt = Interrupt(supervisor, on_first=first, on_second=second).install()
        yield run
    except (EnvironmentLockedError, StackLockedError) as exc:
        # The hint's command names the spec file and environment of this run.
        exc.name_command(loaded.spec_file or "SPEC", loaded.env.name)
        run.finish(f"{Outcome.FAILED.value}: {type(exc).__name__}")
        raise
    except BaseException as exc:
        run.finish(Outcome.INTERRUPTED.value if run.interrupted
                   else f"{Outcome.FAILED.value}: {type(exc).__name__}")
        raise
    finally:
        run.finish("ended")
        if interrupt is not None:
            interrupt.restore()
        supervisor.stop()
        if run.lock is not None:
            run.lock.release()


def _running_stages(run: EngineRun) -> list[str]:
    if run.journal is None:
        return []
    journal = RunJournal(run.run_id, run.operation.value, list(run.journal.data["entries"]))
    return journal.in_flight()
