"""Every command's run goes into the run history (provision.history) through here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from provision.errors import ProvisionError
from provision.history import History, RunRecorder
from provision.vocabulary import Operation, Outcome


def open_history() -> History:
    """The history at ``$PROVISION_HISTORY_DB`` or ``.provision/history.db``."""
    return History.open()


def abandoned(run_id: str, *, found_by: str, reason: str) -> None:
    """Record that run ``run_id`` died unseen (``History.abandon``): a run taking over
    its lock, or repairing after it, found it dead (``reason``)."""
    hist = open_history()
    try:
        hist.abandon(run_id, found_by=found_by, reason=reason)
    finally:
        hist.close()


@contextmanager
def recorded(operation: Operation, *, spec: str, env: str, spec_file: str = "",
             spec_digest: str = "", history: History | None = None
             ) -> Iterator[RunRecorder]:
    """Start a run; if the body raises before finishing it, finish it as failed
    (exit 1, or 130 when interrupted) and let the exception go on."""
    hist = history or open_history()
    record = hist.start(operation, spec=spec, env=env, spec_file=spec_file,
                        spec_digest=spec_digest)
    try:
        yield record
    except ProvisionError as exc:
        if record.finished is None:
            record.finish(Outcome.FAILED, exit_code=1, error=exc.message)
        raise
    except KeyboardInterrupt:
        if record.finished is None:
            record.finish(Outcome.FAILED, exit_code=130, error=Outcome.INTERRUPTED.value)
        raise
    finally:
        if history is None:
            hist.close()


@contextmanager
def recorded_policy_check(*, spec: str, spec_file: str, env: str,
                          phase: str) -> Iterator[Callable[[list[dict[str, Any]], int], None]]:
    """Record one ``provision policy check`` as a run that lasts as long as the check
    (planning, live reads, evaluation). The body calls the yielded ``done(results,
    exit_code)`` with every result; an error raised before that finishes it as failed."""
    from provision.engine.orchestrator import spec_digest

    digest = spec_digest([spec_file]) if Path(spec_file).is_file() else ""
    with recorded(Operation.POLICY_CHECK, spec=spec, env=env, spec_file=spec_file,
                  spec_digest=digest) as record:

        def done(results: list[dict[str, Any]], exit_code: int) -> None:
            record.policy("", phase, results)
            outcome = {0: Outcome.PASSED, 3: Outcome.POLICY_VIOLATION}.get(exit_code,
                                                                           Outcome.FAILED)
            record.finish(outcome, exit_code=exit_code, detail={"phase": phase})

        yield done
