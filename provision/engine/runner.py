"""The one module that runs the Pulumi engine (through the Automation API).

:class:`StackRunner` is the Pulumi implementation of the
:class:`~provision.engine.protocol.Engine` protocol; everything else in provision
talks to that protocol. It selects or creates a stack on the configured backend,
runs preview/up/destroy/refresh with the inline program built from a
:class:`~provision.engine.protocol.StackProgram`, and turns Pulumi's structured
engine events into typed :class:`Step` records.
Failures are reported from structured records (engine diagnostic events and the
dynamic provider's error file), never by parsing stdout/stderr text.
Its parts: ``pulumi_cli`` (the CLI command), ``pulumi_events`` (steps from engine
events), ``pulumi_workspace`` (workspace and stack), ``pulumi_state`` (the state's
type tokens and secret envelopes).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from provision.engine.dynamic import (CONFIG_ENV, RUN_DIR_ENV, encode_cloud_config,
                                      install_serializer_guard, read_errors)
from provision.engine.program import pulumi_program
from provision.engine.protocol import (DestroyRequest, diagnostic_hint, ImportRequest, LockHolder, PendingKind,
                                       PendingOperation, PreviewRequest, PreviewResult,
                                       RefreshRequest, RunResult, StackSnapshot, StepSink,
                                       UpRequest)
from provision.engine.pulumi_cli import KnownCommand, SupervisedCommand, diagnostic_reason, first_line
from provision.engine.pulumi_events import EventSink, clean, resource_counts
from provision.engine.pulumi_state import RESOURCE_TYPE, STACK_TYPE, mask, reveal
from provision.engine.pulumi_workspace import Stack, Workspace, ws_kwargs
from provision.engine.statestore import StateStore
from provision.engine.supervise import Supervisor
from provision.engine.toolchain import Toolchain
from provision.errors import EngineError, StackLockedError, StageFailedError
from provision.provider import CloudConfig

Program = Callable[[], None]

_CHECKPOINT_EXTS = (".json", ".json.gz", ".json.zst")   # a DIY backend's checkpoint files
STACKS_PREFIX = ".pulumi/stacks"   # where a DIY backend keeps stack checkpoints


@dataclass(frozen=True)
class EngineOptions:
    toolchain: Toolchain
    backend_url: str
    passphrase: str = field(repr=False)
    cloud_configs: Mapping[str, CloudConfig]
    work_dir: Path
    parallel: int = 8
    # Starts every engine process of the run, so that none outlives it (None: unsupervised).
    supervisor: Supervisor | None = None
    # The backend as a store (DIY backends): a stack without a checkpoint file there does
    # not exist, which a listing tells without starting the CLI (None: always ask the CLI).
    state_store: StateStore | None = None



class StackRunner:
    """Runs Pulumi operations for the stacks of one project (one spec): the real
    :class:`~provision.engine.protocol.Engine`."""

    def __init__(self, project: str, options: EngineOptions) -> None:
        install_serializer_guard()
        self.project = project
        self.options = options
        # One CLI command per runner: made without running `pulumi version` again.
        self._command = (SupervisedCommand(options.toolchain, options.supervisor)
                         if options.supervisor is not None else KnownCommand(options.toolchain))
        # What this run has seen of each stack on the backend (True: it exists, False: it
        # does not): opening a stack seen either way costs no `stack select` call.
        self._seen: dict[str, bool] = {}
        options.work_dir.mkdir(parents=True, exist_ok=True)

    # -- workspace -------------------------------------------------------------------------
    def _env(self, run_dir: Path) -> dict[str, str]:
        tc = self.options.toolchain
        venv_bin = str(Path(sys.executable).parent)
        return {
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PULUMI_CONFIG_PASSPHRASE": self.options.passphrase,
            "PULUMI_HOME": str(self.options.work_dir / "pulumi-home"),
            "PATH": os.pathsep.join([str(tc.bin_dir), venv_bin, os.environ.get("PATH", "")]),
            CONFIG_ENV: encode_cloud_config(self.options.cloud_configs),
            RUN_DIR_ENV: str(run_dir),
        }

    def _opts(self, run_dir: Path) -> auto.LocalWorkspaceOptions:
        settings = auto.ProjectSettings(name=self.project, runtime="python", main=os.getcwd(),
                                        backend=auto.ProjectBackend(url=self.options.backend_url))
        return auto.LocalWorkspaceOptions(
            work_dir=str(run_dir),      # Pulumi.yaml goes there, removed with the run
            project_settings=settings,
            env_vars=self._env(run_dir),
            pulumi_command=self._command,
            secrets_provider="passphrase",
        )

    def _workspace(self, run_dir: Path, program: Program | None = None) -> Workspace:
        return Workspace(self._seen, program=program, **ws_kwargs(self._opts(run_dir)))

    def _stack(self, name: str, program: Program, run_dir: Path, sink: EventSink,
               create: bool = True) -> Stack:
        ws = self._workspace(run_dir, program)
        try:
            return Stack(name, ws, StackInitMode.CREATE_OR_SELECT if create else StackInitMode.SELECT,
                          sink)
        except auto.StackNotFoundError:
            raise
        except auto.CommandError as exc:
            holder = self._lock_holder(name)
            if holder is not None:      # locked before its first update, by another process
                raise StackLockedError(name, f"{holder.describe()} (lock "
                                             f"{self.lock_prefix(name)})") from None
            raise EngineError(f"cannot open stack '{name}' on backend {self.options.backend_url}: "
                              f"{first_line(exc)}",
                              hint="check the backend URL and the state passphrase") from None

    def _run(self, stack_name: str, program: Program, what: str,
             call: Callable[[auto.Stack, EventSink], Any],
             on_step: StepSink | None, create: bool = True) -> tuple[Any, EventSink]:
        with tempfile.TemporaryDirectory(prefix="run-", dir=self.options.work_dir) as tmp:
            run_dir = Path(tmp)
            sink = EventSink(on_step)
            stack = self._stack(stack_name, program, run_dir, sink, create=create)
            try:
                result = call(stack, sink)
            except auto.ConcurrentUpdateError:
                holder = self._lock_holder(stack_name)
                raise StackLockedError(stack_name, (holder.describe() if holder else
                                                    "another Pulumi process")
                                       + f" (lock {self.lock_prefix(stack_name)})") from None
            except auto.CommandError as exc:
                raise self._failure(stack_name, what, run_dir, sink, exc) from None
            if not sink.summary_seen:
                raise EngineError(f"{what} of stack '{stack_name}' ended without a summary event")
            return result, sink

    def _failure(self, stack_name: str, what: str, run_dir: Path, sink: EventSink,
                 exc: auto.CommandError) -> StageFailedError:
        records = read_errors(run_dir)
        if records:
            first = records[0]
            message = f"{first['resource']} ({first['type']}): {first['operation']} failed: {first['message']}"
            if len(records) > 1:
                message += f" (and {len(records) - 1} more resource error(s))"
            return StageFailedError(stack_name, message, hint=first.get("hint", ""),
                                    resource=str(first.get("resource", "")))
        reasons = [e for e in sink.errors if e] or [first_line(exc)]
        reason = diagnostic_reason(reasons[0])
        return StageFailedError(stack_name, f"{what}: {reason}", hint=diagnostic_hint(reason))

    # -- operations ------------------------------------------------------------------------
    def urn(self, stack_name: str, resource: str) -> str:
        return f"urn:pulumi:{stack_name}::{self.project}::{RESOURCE_TYPE}::{resource}"

    def _targets(self, stack_name: str, resources: tuple[str, ...] | None) -> list[str] | None:
        return None if resources is None else [self.urn(stack_name, r) for r in resources]

    def preview(self, request: PreviewRequest) -> PreviewResult:
        """Preview; with ``targets`` (resource ids) only they may change."""
        name = request.stack

        def call(stack: auto.Stack, sink: EventSink) -> Any:
            return stack.preview(on_event=sink, refresh=request.refresh,
                                 parallel=self.options.parallel, color="never",
                                 suppress_progress=True,
                                 target=self._targets(name, request.targets))
        _, sink = self._run(name, pulumi_program(request.program), "preview", call,
                            request.on_step)
        return PreviewResult(sink.steps)

    def up(self, request: UpRequest) -> RunResult:
        name = request.stack

        def call(stack: auto.Stack, sink: EventSink) -> auto.UpResult:
            return stack.up(on_event=sink, refresh=request.refresh,
                            parallel=self.options.parallel,
                            color="never", suppress_progress=True, suppress_outputs=True,
                            target=self._targets(name, request.targets))
        result, sink = self._run(name, pulumi_program(request.program), "update", call,
                                 request.on_step)
        outputs = {k: v.value for k, v in result.outputs.items()}
        return RunResult(sink.steps, outputs, resource_counts(result.summary.resource_changes, sink.own),
                         result.summary.version, written=dict(sink.written))

    def import_resources(self, request: ImportRequest) -> RunResult:
        """An update that targets only the resources to adopt (``Declared.import_id``):
        each one's create reads the existing resource through its adapter instead of
        creating it (``dynamic.IMPORT_KEY``); the stack's other resources are kept as
        they are. A resource the cloud does not have fails the update, and the stack
        stays without it."""
        adopted = tuple(d.id for d in request.program.resources if d.import_id is not None)
        return self.up(UpRequest(request.stack, request.program, targets=adopted,
                                 on_step=request.on_step))

    def destroy(self, request: DestroyRequest) -> RunResult:
        """Destroy the stack's resources (only ``targets`` when given; the stack is then kept)."""
        name = request.stack

        def call(stack: auto.Stack, sink: EventSink) -> auto.DestroyResult:
            res = stack.destroy(on_event=sink, refresh=True, parallel=self.options.parallel,
                                color="never", suppress_progress=True,
                                target=self._targets(name, request.targets))
            if request.remove and request.targets is None:
                stack.workspace.remove_stack(name)
            return res
        result, sink = self._run(name, _empty_program, "destroy", call, request.on_step,
                                 create=False)
        return RunResult(sink.steps, {}, resource_counts(result.summary.resource_changes, sink.own),
                         result.summary.version)

    def refresh(self, request: RefreshRequest) -> RunResult:
        """Record what the cloud reports for every resource of the stack."""
        name = request.stack

        def call(stack: auto.Stack, sink: EventSink) -> auto.RefreshResult:
            return stack.refresh(on_event=sink, parallel=self.options.parallel, color="never",
                                 suppress_progress=True)
        result, sink = self._run(name, _empty_program, "refresh", call, request.on_step,
                                 create=False)
        snap = self.snapshot(name)
        return RunResult(sink.steps, snap.outputs if snap else {},
                         resource_counts(result.summary.resource_changes, sink.own))

    def snapshot(self, stack_name: str) -> StackSnapshot | None:
        """The stack's outputs and a digest of its resources (one CLI call), or None
        when the stack does not exist yet (no CLI call when the backend's listing shows
        no checkpoint file for it)."""
        if self._surely_absent(stack_name):
            self._seen[stack_name] = False
            return None
        with tempfile.TemporaryDirectory(prefix="exp-", dir=self.options.work_dir) as tmp:
            ws = self._workspace(Path(tmp))
            try:
                deployment = ws.export_stack(self._qualified(stack_name)).deployment or {}
            except auto.StackNotFoundError:
                self._seen[stack_name] = False
                return None
            except auto.CommandError as exc:
                raise EngineError(f"cannot read the state of stack '{stack_name}': "
                                  f"{first_line(exc)}",
                                  hint="check the backend URL and the state passphrase") from None
        self._seen[stack_name] = True
        resources = deployment.get("resources") or []
        outputs: dict[str, Any] = {}
        for res in resources:
            if res.get("type") == STACK_TYPE:
                outputs = reveal(res.get("outputs") or {})
        ours = [r for r in resources if r.get("type") == RESOURCE_TYPE]
        managed = [{k: mask(r.get(k)) for k in ("urn", "id", "inputs", "outputs")} for r in ours]
        blob = json.dumps(managed, sort_keys=True, default=str).encode()
        inputs = {str(r["urn"]).rsplit("::", 1)[-1]: clean(reveal(r.get("inputs") or {})) or {}
                  for r in ours if not r.get("delete")}
        recorded = {str(r["urn"]).rsplit("::", 1)[-1]:
                    {**(clean(reveal(r.get("outputs") or {})) or {}), "id": r.get("id")}
                    for r in ours if not r.get("delete")}
        protected = frozenset(str(r["urn"]).rsplit("::", 1)[-1] for r in ours
                              if r.get("protect") and not r.get("delete"))
        pending = tuple(
            PendingOperation(resource=str(op.get("resource", {}).get("urn", "")).rsplit("::", 1)[-1],
                             type=str(op.get("resource", {}).get("type", "")),
                             kind=PendingKind(op.get("type", "creating")),
                             cloud_id=str(op.get("resource", {}).get("id", "") or ""))
            for op in deployment.get("pending_operations") or [])
        provider = deployment.get("secrets_providers") or {}
        salt = str((provider.get("state") or {}).get("salt") or "") if provider.get(
            "type") == "passphrase" else ""
        return StackSnapshot(outputs=outputs, digest=hashlib.sha256(blob).hexdigest(),
                             inputs=inputs, pending=pending, lock=self._lock_holder(stack_name),
                             salt=salt, recorded=recorded, protected=protected)

    def _surely_absent(self, stack_name: str) -> bool:
        """True when the backend's listing has no checkpoint of the stack, in either of
        the DIY layouts (``.pulumi/stacks/<project>/<stack>.json``, and the legacy one
        without the project), plain or compressed. Any doubt (no store, a listing that
        fails) is False: the CLI is asked."""
        store = self.options.state_store
        if store is None:
            return False
        try:
            keys = set(store.list(STACKS_PREFIX))
        except Exception:       # a listing is only a shortcut; the CLI gives the answer
            return False
        bases = (f"{STACKS_PREFIX}/{self.project}/{stack_name}", f"{STACKS_PREFIX}/{stack_name}")
        return not any(base + ext in keys for base in bases for ext in _CHECKPOINT_EXTS)

    def _lock_holder(self, stack_name: str) -> LockHolder | None:
        """The holder of the stack's lock on a ``file://`` backend (None elsewhere, or free)."""
        url = self.options.backend_url
        if not url.startswith("file://"):
            return None
        folder = Path(url[len("file://"):]) / ".pulumi" / "locks" / "organization" / self.project / stack_name
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            since = None
            try:
                since = datetime.fromisoformat(str(record.get("timestamp", "")).replace("Z", "+00:00"))
            except ValueError:
                pass
            return LockHolder(who=str(record.get("username", "")), host=str(record.get("hostname", "")),
                              pid=int(record.get("pid", 0) or 0), since=since)
        return None

    def _qualified(self, stack_name: str) -> str:
        return f"organization/{self.project}/{stack_name}"

    # -- recovery --------------------------------------------------------------------------
    def lock_prefix(self, stack_name: str) -> str:
        """Where a DIY backend keeps the stack's lock files, relative to the backend root
        (Pulumi ``pkg/backend/diy/lock.go``: ``.pulumi/locks/<fully qualified stack>/<id>.json``,
        each ``{"pid", "username", "hostname", "timestamp"}``)."""
        return f".pulumi/locks/{self._qualified(stack_name)}"

    def export(self, stack_name: str) -> dict[str, Any] | None:
        """The stack's deployment as stored (secrets stay encrypted), None if no stack."""
        with tempfile.TemporaryDirectory(prefix="exp-", dir=self.options.work_dir) as tmp:
            ws = auto.LocalWorkspace(**ws_kwargs(self._opts(Path(tmp))))
            try:
                return dict(ws.export_stack(self._qualified(stack_name)).deployment or {})
            except auto.StackNotFoundError:
                return None
            except auto.CommandError as exc:
                raise EngineError(f"cannot read the state of stack '{stack_name}': "
                                  f"{first_line(exc)}") from None

    def import_(self, stack_name: str, deployment: Mapping[str, Any]) -> None:
        """Replace the stack's state with ``deployment`` (``pulumi stack import``; the
        stack must not be locked). Plaintext secret envelopes are encrypted on the way."""
        with tempfile.TemporaryDirectory(prefix="imp-", dir=self.options.work_dir) as tmp:
            ws = auto.LocalWorkspace(**ws_kwargs(self._opts(Path(tmp))))
            try:
                ws.import_stack(self._qualified(stack_name),
                                auto.Deployment(version=3, deployment=dict(deployment)))
            except auto.CommandError as exc:
                raise EngineError(f"cannot write the state of stack '{stack_name}': "
                                  f"{first_line(exc)}") from None

    def cancel(self, stack_name: str) -> None:
        """Pulumi's ``cancel``: on the DIY (file and object-store) backends it deletes every
        lock file of the stack; it does not stop a process that may still run, so
        recovery calls it only for locks whose holder is gone (provision.engine.recovery).
        A running update of this process is stopped through its Supervisor instead."""
        with tempfile.TemporaryDirectory(prefix="cxl-", dir=self.options.work_dir) as tmp:
            ws = auto.LocalWorkspace(**ws_kwargs(self._opts(Path(tmp))))
            try:
                ws.pulumi_command.run(["cancel", "--yes", "--stack",
                                       self._qualified(stack_name)],
                                      ws.work_dir, ws.env_vars)
            except auto.CommandError as exc:
                raise EngineError(f"cannot unlock stack '{stack_name}': "
                                  f"{first_line(exc)}") from None



def _empty_program() -> None:
    return None

