"""``provision repair`` and ``provision unlock``: recovering from a run that died."""

from __future__ import annotations

import sys

from rich.console import Console

from provision.cli import guard, session
from provision.cli.recording import recorded
from provision.engine.lock import current_holder, force_unlock
from provision.errors import EngineError, PlanError
from provision.vocabulary import Operation, Outcome

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def repair(spec: str, env: str, *, dry_run: bool) -> int:
    """Find what dead runs left behind (stale stack locks, pending operations, runs whose
    journal never ended) and repair it; with ``dry_run`` only report what would be done."""
    loaded = session.load(spec, env)
    with recorded(Operation.REPAIR, spec=loaded.spec.name, env=env, spec_file=spec) as record:
        code = _repair(loaded, record.id, dry_run=dry_run)
        record.finish(Outcome.PASSED if dry_run else Outcome.APPLIED, exit_code=code)
    return code


def _repair(loaded: session.Loaded, run_id: str, *, dry_run: bool) -> int:
    env = loaded.env.name
    notice = lambda text: err.print(text, markup=False)  # noqa: E731
    operation = Operation.PLAN if dry_run else Operation.REPAIR   # a dry run takes no lock
    with guard.engine_run(loaded, operation, run_id, notice=notice) as run:
        if dry_run:
            held = current_holder(session.state_store(loaded), loaded.spec.name, env)
            if held is not None:
                reason = held[0].gone()
                out.print(f"environment lock: held by {held[0].describe()}; "
                          + (f"a run would take it over ({reason})" if reason
                             else "its holder may still be running"), markup=False)
        orch = session.orchestrator(loaded, supervisor=run.supervisor)
        reports = run.recover(orch, dry_run=dry_run, every_stage=True)
        crashed = run.crashed() if dry_run else []
        run.finish("repaired")
    for journal in crashed:
        stages = ", ".join(journal.in_flight()) or "none in flight"
        out.print(f"run {journal.run_id} ({journal.operation}) never finished; stages in "
                  f"flight: {stages}", markup=False)
    needed = [r for r in reports if r.needed]
    verb = "would" if dry_run else "did"
    if not needed:
        out.print(f"{loaded.spec.name}/{env}: nothing to repair "
                  f"({len(reports)} stage(s) checked)", markup=False)
        return 0
    for report in needed:
        out.print(f"stage {report.stage} ({report.stack}): {verb}", markup=False)
        for line in report.lines():
            out.print(f"  {line}", markup=False)
    if dry_run:
        out.print("nothing changed (dry run); run without --dry-run to repair", markup=False)
    return 0


def unlock(spec: str, env: str, *, yes: bool) -> int:
    """Remove the environment lock after the user confirmed who holds it."""
    loaded = session.load(spec, env)
    store = session.state_store(loaded)
    held = current_holder(store, loaded.spec.name, env)
    if held is None:
        out.print(f"{loaded.spec.name}/{env} is not locked", markup=False)
        return 0
    holder, version = held
    err.print(f"{loaded.spec.name}/{env} is locked by {holder.describe()}", markup=False)
    reason = holder.gone()
    if not reason:
        err.print("its holder may still be running: removing the lock lets a second run "
                  "change the same stacks at once", markup=False)
    if not yes:
        if not sys.stdin.isatty():
            raise PlanError("unlock needs --yes when it cannot ask (not a terminal)")
        if input("remove this lock? (yes/no) ").strip() != "yes":
            err.print("unlock cancelled")
            return 1
    if not force_unlock(store, loaded.spec.name, env, version):
        raise EngineError("the lock changed while you were asked (another run took or "
                          "released it); nothing removed", hint="run unlock again")
    out.print(f"removed the lock of {loaded.spec.name}/{env} held by {holder.describe()}",
              markup=False)
    return 0
