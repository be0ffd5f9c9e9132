"""The watchdog of one run (started by provision.engine.supervise.Supervisor).

Usage: python -I _watchdog.py TOKEN PARENT_PID, with a pipe from the run on stdin.
It waits until the pipe closes. If the run said "done" first, it exits. Otherwise
the run died without cleaning up: it SIGKILLs every process whose environment
carries PROVISION_RUN_TOKEN=TOKEN until two sweeps in a row find none, then exits.
Standard library only: it must start fast and import nothing of the run.
"""

import os
import signal
import sys
import time

MARKER = "PROVISION_RUN_TOKEN="


def marked(token: str) -> list[int]:
    want = (MARKER + token).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if want in fh.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def sweep(token: str, deadline: float = 30.0) -> None:
    quiet = 0
    end = time.monotonic() + deadline
    while quiet < 2 and time.monotonic() < end:
        pids = marked(token)
        quiet = quiet + 1 if not pids else 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def main() -> None:
    token = sys.argv[1]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    said = b""
    while True:
        chunk = os.read(0, 64)
        if not chunk:
            break
        said += chunk
    if b"done" not in said:
        sweep(token)


if __name__ == "__main__":
    main()
