"""A Pulumi workspace and stack that spend no CLI call on what the run already knows."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, cast

from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from provision.engine.pulumi_events import EventSink

_NOT_FOUND = 6          # the Pulumi CLI's exit code when a stack does not exist


class Workspace(auto.LocalWorkspace):
    """A local workspace that spends no CLI call on what the run already knows.

    * Every operation names its stack (``--stack``), so ``pulumi stack select`` only
      proves existence; ``seen`` (the runner's map: stack -> exists) remembers that
      proof, and a stack the run has seen to be absent is created without asking first.
    * ``stack_outputs`` runs ``pulumi stack output`` once, with ``--show-secrets``. The
      SDK runs it twice (masked and in clear) only to tell which outputs are secret;
      provision reads the values alone and knows its secrets from the spec
      (``engine/secrets.py``), so every output is returned with ``secret=False``.
    """

    def __init__(self, seen: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._seen = seen

    def select_stack(self, stack_name: str) -> None:
        known = self._seen.get(stack_name)
        if known is False:
            raise auto.StackNotFoundError(auto.CommandResult(
                stdout="", stderr=f"no stack named '{stack_name}' found (seen absent in this run)",
                code=_NOT_FOUND))
        if known is None:
            super().select_stack(stack_name)
            self._seen[stack_name] = True

    def create_stack(self, stack_name: str) -> None:
        try:
            super().create_stack(stack_name)
        except auto.StackAlreadyExistsError:
            if self._seen.get(stack_name) is not False:
                raise
            super().select_stack(stack_name)     # created meanwhile by another process
        self._seen[stack_name] = True

    def remove_stack(self, stack_name: str, *args: Any, **kwargs: Any) -> None:
        self._seen.pop(stack_name, None)
        super().remove_stack(stack_name, *args, **kwargs)

    def stack_outputs(self, stack_name: str) -> auto.OutputMap:
        result = self._run_pulumi_cmd_sync(
            ["stack", "output", "--json", "--show-secrets", "--stack", stack_name])
        return {key: auto.OutputValue(value=value, secret=False)
                for key, value in json.loads(result.stdout).items()}


class Stack(auto.Stack):
    """A stack whose operations spend no CLI call on their summary.

    After each ``up``, ``destroy`` and ``refresh`` the SDK runs ``pulumi stack history``
    for the run's resource changes; the engine's summary event has given them already
    (:class:`EventSink`), so :meth:`info` answers from it. The stack's update number
    (``version``) is in that history only, and is left unknown (None).
    """

    def __init__(self, name: str, workspace: auto.Workspace, mode: StackInitMode,
                 sink: EventSink) -> None:
        super().__init__(name, workspace, mode)
        self._sink = sink

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        changes = self._sink.changes
        if changes is None:             # no summary event: ask the history as the SDK does
            return super().info(show_secrets)
        return auto.UpdateSummary(kind="update", start_time=self._sink.started, message="",
                                  environment={}, config={}, result="succeeded",
                                  end_time=datetime.now(timezone.utc),
                                  resource_changes=cast(Any, dict(changes)))


def ws_kwargs(opts: auto.LocalWorkspaceOptions) -> dict[str, Any]:
    """The keyword arguments of a local workspace made with ``opts``."""
    return {"work_dir": opts.work_dir, "project_settings": opts.project_settings,
            "env_vars": opts.env_vars, "pulumi_command": opts.pulumi_command,
            "secrets_provider": opts.secrets_provider}
