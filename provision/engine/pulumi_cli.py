"""The Pulumi CLI as the runner starts it, and the one line that says why it failed.

:class:`KnownCommand` is the toolchain's CLI without the SDK's version check (done
once by ``find_toolchain``); :class:`SupervisedCommand` starts each command through
the run's :class:`~provision.engine.supervise.Supervisor`.
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any, Callable, Mapping

from pulumi import automation as auto
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

from provision.engine.supervise import Supervisor
from provision.engine.toolchain import Toolchain


class KnownCommand(auto.PulumiCommand):
    """The toolchain's CLI, whose version :func:`find_toolchain` has checked already.

    ``auto.PulumiCommand()`` runs ``pulumi version`` each time it is made (once per
    workspace); this one is made once per runner and runs nothing.
    """

    def __init__(self, toolchain: Toolchain) -> None:  # no super(): it would ask again
        self.command = str(toolchain.pulumi)
        try:
            self.version: VersionInfo | None = VersionInfo.parse(toolchain.version)
        except ValueError:      # as the SDK does when its version check is skipped
            self.version = None


class SupervisedCommand(KnownCommand):
    """The Pulumi CLI, each command started through the run's :class:`Supervisor`
    (own session, marked as the run's, interruptible with Pulumi's own SIGINT cancel)."""

    def __init__(self, toolchain: Toolchain, supervisor: Supervisor) -> None:
        super().__init__(toolchain)
        self._supervisor = supervisor

    def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
            on_output: Callable[[str], None] | None = None,
            on_error: Callable[[str], None] | None = None) -> auto.CommandResult:
        if "--non-interactive" not in args:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        env["PATH"] = os.pathsep.join([os.path.dirname(self.command), env.get("PATH", "")])
        chunks: dict[str, list[str]] = {"out": [], "err": []}

        def consume(stream: Any, callback: Callable[[str], None] | None, into: list[str]) -> None:
            for line in iter(stream.readline, ""):
                text = line.rstrip()
                if callback is not None:
                    callback(text)
                into.append(text)
            stream.close()

        proc = self._supervisor.spawn([self.command, *args], env=env, cwd=cwd,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, encoding="utf-8")
        try:
            readers = [threading.Thread(target=consume, args=(proc.stdout, on_output, chunks["out"])),
                       threading.Thread(target=consume, args=(proc.stderr, on_error, chunks["err"]))]
            for t in readers:
                t.start()
            for t in readers:
                t.join()
            code = proc.wait()
        finally:
            self._supervisor.release(proc)
        result = auto.CommandResult(stdout="\n".join(chunks["out"]),
                                    stderr="\n".join(chunks["err"]), code=code)
        if code != 0:
            raise create_command_error(result)
        return result


def diagnostic_reason(text: str) -> str:
    """One line that says why, from an engine error diagnostic: its first line, or for a
    Python traceback its last line (the exception), never "Traceback (most recent ...".
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "the engine failed"
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def first_line(exc: auto.CommandError) -> str:
    text = getattr(exc, "stderr", "") or str(exc)
    for line in text.splitlines():
        line = line.strip()
        for stream in ("stderr:", "stdout:"):      # str(CommandResult) prefixes its streams
            line = line[len(stream):].strip() if line.startswith(stream) else line
        if line.lower().startswith("error:"):
            return line[len("error:"):].strip()
    return text.strip().splitlines()[0] if text.strip() else "the engine failed"
