"""The ``provision`` console script: an interrupt at any moment ends it with exit 130
and one line, ``interrupted``, on stderr; never a traceback, never an "internal error".

Importing the command line (typer, rich, the commands) takes a noticeable part of a
second, more under load; a SIGINT then would raise KeyboardInterrupt inside some
library's import, which prints a traceback (or leaves a module half-initialised, so a
later import fails with an ImportError). So this module imports nothing heavy: it
first installs :class:`InterruptWatch` in its startup mode (an interrupt while the CLI
loads leaves at once: nothing has been started yet), then loads the CLI and hands it
the watch, which from then on raises KeyboardInterrupt as Python's default handler
does and remembers that it did (provision.cli.main.run maps any error after an
interrupt to ``interrupted``, exit 130). A run of the engine installs its own handler
while it runs (provision.engine.supervise.Interrupt: first graceful, second at once).
"""

from __future__ import annotations

import os
import signal
from types import FrameType

EXIT_INTERRUPTED = 130          # provision.vocabulary.ExitCode.INTERRUPTED (not imported: light)
INTERRUPTED_LINE = b"interrupted\n"


class InterruptWatch:
    """The SIGINT handler of the ``provision`` process (see the module doc)."""

    def __init__(self) -> None:
        self.seen = False       # a SIGINT arrived
        self.loading = True     # the CLI is still being imported (or already leaving)
        self.said = False       # the line was written

    def install(self) -> "InterruptWatch":
        signal.signal(signal.SIGINT, self)
        return self

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        if self.loading:
            leave_interrupted(say=not self.said)
        raise KeyboardInterrupt


def leave_interrupted(*, say: bool = True) -> None:
    """Write the one line (``say``) and exit 130 at once (no cleanup: use only where
    none is due)."""
    try:
        if say:
            os.write(2, INTERRUPTED_LINE)
    finally:
        os._exit(EXIT_INTERRUPTED)


def entry() -> None:
    """The console script: watch for interrupts, load the CLI, run it."""
    watch = InterruptWatch().install()
    from provision.cli import main

    watch.loading = False
    main.entry(watch)
