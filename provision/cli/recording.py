"""Every command's run goes into the run history (provision.history) through here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from provision.errors import ProvisionError
from provision.history import History, RunRecorder
from provision.vocabulary import Operation, Outcome


def open_history() -> History:
    """The history at ``$PROVISION_HISTORY_DB`` or ``.provision/history.db``."""
    return History.open()


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
