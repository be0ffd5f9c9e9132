"""No process of a run outlives it, even one in its own session; interrupts are staged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from provision.engine.supervise import Interrupt, Supervisor, processes_with_token

_RUN = """
import os, sys, time
from provision.engine.supervise import Supervisor
s = Supervisor().start()
# A grandchild that escapes into a session of its own, as Pulumi's plugins do.
s.spawn(["sh", "-c", "setsid sleep 300 & sleep 300"], env=dict(os.environ))
print(s.token, s.watchdog_pid, flush=True)
time.sleep(300)
"""


def _wait(predicate: "object", timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_of_the_run_leaves_no_process_behind() -> None:
    run = subprocess.Popen([sys.executable, "-c", _RUN], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    token, watchdog = run.stdout.readline().split()
    assert _wait(lambda: len(processes_with_token(token)) >= 3, 20)
    escaped = processes_with_token(token)
    run.kill()
    run.wait()
    assert _wait(lambda: not processes_with_token(token), 20), processes_with_token(token)
    assert _wait(lambda: not _alive(int(watchdog)), 20)
    assert not any(_alive(pid) for pid in escaped)


def test_a_clean_stop_kills_leftovers_and_dismisses_the_watchdog() -> None:
    sup = Supervisor().start()
    sup.spawn(["sh", "-c", "setsid sleep 300 & sleep 300"], env=dict(os.environ))
    assert _wait(lambda: len(processes_with_token(sup.token)) >= 2, 20)
    watchdog = sup.watchdog_pid
    sup.stop()
    assert processes_with_token(sup.token) == []
    assert watchdog is not None and _wait(lambda: not _alive(watchdog), 10)


def test_first_signal_asks_once_second_kills() -> None:
    sup = Supervisor().start()
    try:
        child = sup.spawn([sys.executable, "-c",
                           "import signal, sys, time\n"
                           "signal.signal(signal.SIGINT, lambda *a: print('cancel', flush=True))\n"
                           "print('ready', flush=True)\n"
                           "time.sleep(60)"],
                          env=dict(os.environ), stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        firsts: list[str] = []
        seconds: list[bool] = []
        interrupt = Interrupt(sup, on_first=firsts.append, on_second=lambda: seconds.append(True))
        interrupt._handle(signal.SIGINT, None)
        assert interrupt.requested.is_set() and firsts == ["SIGINT"]
        assert child.stdout.readline().strip() == "cancel"      # Pulumi's own cancel: one SIGINT
        assert child.poll() is None
        interrupt._handle(signal.SIGTERM, None)
        assert seconds == [True]
        # The Automation API's thread then warns of its broken event stream: not shown
        # (the warning filters here make any shown warning an error).
        warnings.warn_explicit("Error in event stream: <_MultiThreadedRendezvous>", UserWarning,
                               "_stack.py", 1707, module="pulumi.automation._stack")
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        sup.stop()


def test_once_a_stop_was_requested_the_restored_handlers_end_the_process_quietly() -> None:
    """After a graceful stop the run has printed where it stopped and the process exits
    130: another Ctrl-C meanwhile must not add a second message or a traceback."""
    from provision.engine.supervise import exit_interrupted

    calm = Interrupt(Supervisor(), on_first=lambda name: None, on_second=lambda: None)
    before = signal.getsignal(signal.SIGINT)
    term = signal.getsignal(signal.SIGTERM)
    try:
        calm.install()
        calm.restore()                                   # no stop asked: as found
        assert signal.getsignal(signal.SIGINT) is before
        stopped = Interrupt(Supervisor(), on_first=lambda name: None, on_second=lambda: None)
        stopped.install()
        stopped._handle(signal.SIGINT, None)
        stopped.restore()
        assert signal.getsignal(signal.SIGINT) is exit_interrupted
        assert signal.getsignal(signal.SIGTERM) is exit_interrupted
    finally:
        signal.signal(signal.SIGINT, before)
        signal.signal(signal.SIGTERM, term)
