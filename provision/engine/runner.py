"""The one module that runs the Pulumi engine (through the Automation API).

:class:`StackRunner` is the Pulumi implementation of the
:class:`~provision.engine.protocol.Engine` protocol; everything else in provision
talks to that protocol. It selects or creates a stack on the configured backend,
runs preview/up/destroy/refresh with the inline program built from a
:class:`~provision.engine.protocol.StackProgram`, and turns Pulumi's structured
engine events into typed :class:`Step` records.
Failures are reported from structured records (engine diagnostic events and the
dynamic provider's error file), never by parsing stdout/stderr text.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, cast

from pulumi import automation as auto
from pulumi.automation import events as ev
from pulumi.automation._stack import StackInitMode
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

from provision.engine.dynamic import (CONFIG_ENV, INPUT_KEYS, PROVIDER_KEY, RUN_DIR_ENV, encode_cloud_config,
                                      install_serializer_guard, read_errors, unwire)
from provision.engine.program import pulumi_program
from provision.engine.protocol import (DestroyRequest, ImportRequest, LockHolder, PendingKind,
                                       PendingOperation, PreviewRequest, PreviewResult,
                                       RefreshRequest, RunResult, StackSnapshot, Step, StepSink,
                                       UpRequest)
from provision.engine.statestore import StateStore
from provision.engine.supervise import Supervisor
from provision.engine.toolchain import Toolchain
from provision.errors import EngineError, StackLockedError, StageFailedError
from provision.provider import CREATE_TOKEN, CloudConfig
from provision.vocabulary import StepOp

Program = Callable[[], None]

_RESOURCE_TYPE = "pulumi-python:dynamic/provision:Resource"
_STACK_TYPE = "pulumi:pulumi:Stack"
_NOT_FOUND = 6          # the Pulumi CLI's exit code when a stack does not exist
_CHECKPOINT_EXTS = (".json", ".json.gz", ".json.zst")   # a DIY backend's checkpoint files
STACKS_PREFIX = ".pulumi/stacks"   # where a DIY backend keeps stack checkpoints
RESOURCE_TYPE = _RESOURCE_TYPE
SECRET_SIG = "4dabf18193072939515e22adb298388d"      # Pulumi's secret envelope key ...
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"  # ... and its value (sdk/go/common/resource/sig)


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


class _KnownCommand(auto.PulumiCommand):
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


class _SupervisedCommand(_KnownCommand):
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


def _clean(props: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if props is None:
        return None
    return {k: unwire(v) for k, v in props.items()
            if k not in (PROVIDER_KEY, INPUT_KEYS, CREATE_TOKEN)}


class _EventSink:
    """Collects steps and error diagnostics from engine events; forwards them."""

    def __init__(self, forward: StepSink | None) -> None:
        self.steps: list[Step] = []
        self.errors: list[str] = []
        self.summary_seen = False
        self.changes: dict[str, int] | None = None     # the summary event's resource changes
        # Steps on the stack's own resource (pulumi:pulumi:Stack), which Pulumi's resource
        # changes count too (its providers they do not): left out of the summary shown.
        self.own: dict[str, int] = {}
        self.started = datetime.now(timezone.utc)
        self._forward = forward
        self._lock = threading.Lock()

    def __call__(self, event: ev.EngineEvent) -> None:
        if event.summary_event is not None:
            self.summary_seen = True
            # Keys arrive as the engine's op names (plain strings), as in the history.
            self.changes = {str(getattr(op, "value", op)): int(n) for op, n in
                            (event.summary_event.resource_changes or {}).items()}
        diag = event.diagnostic_event
        if diag is not None and diag.severity == "error":
            with self._lock:
                self.errors.append(diag.message.strip())
        pre = event.resource_pre_event
        if pre is None:
            return
        if pre.metadata.type == _STACK_TYPE:
            with self._lock:
                op = str(pre.metadata.op.value)
                self.own[op] = self.own.get(op, 0) + 1
        if pre.metadata.type != _RESOURCE_TYPE:
            return
        meta = pre.metadata
        if meta.op in (ev.OpType.REFRESH, ev.OpType.READ):
            return
        step = Step(
            op=StepOp(meta.op.value),
            resource=meta.urn.rsplit("::", 1)[-1],
            old_inputs=_clean(meta.old.inputs) if meta.old else None,
            new_inputs=_clean(meta.new.inputs) if meta.new else None,
            replace_keys=tuple(k for k in (meta.keys or []) if k != PROVIDER_KEY),
            old_outputs=_clean(meta.old.outputs) if meta.old else None,
            diff_keys=tuple(k for k in (meta.diffs or []) if k not in (PROVIDER_KEY, INPUT_KEYS)),
        )
        with self._lock:
            self.steps.append(step)
        if self._forward is not None:
            self._forward(step)


class StackRunner:
    """Runs Pulumi operations for the stacks of one project (one spec): the real
    :class:`~provision.engine.protocol.Engine`."""

    def __init__(self, project: str, options: EngineOptions) -> None:
        install_serializer_guard()
        self.project = project
        self.options = options
        # One CLI command per runner: made without running `pulumi version` again.
        self._command = (_SupervisedCommand(options.toolchain, options.supervisor)
                         if options.supervisor is not None else _KnownCommand(options.toolchain))
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

    def _workspace(self, run_dir: Path, program: Program | None = None) -> "_Workspace":
        return _Workspace(self._seen, program=program, **_ws_kwargs(self._opts(run_dir)))

    def _stack(self, name: str, program: Program, run_dir: Path, sink: "_EventSink",
               create: bool = True) -> "_Stack":
        ws = self._workspace(run_dir, program)
        try:
            return _Stack(name, ws, StackInitMode.CREATE_OR_SELECT if create else StackInitMode.SELECT,
                          sink)
        except auto.StackNotFoundError:
            raise
        except auto.CommandError as exc:
            raise EngineError(f"cannot open stack '{name}' on backend {self.options.backend_url}: "
                              f"{_first_line(exc)}",
                              hint="check the backend URL and the state passphrase") from None

    def _run(self, stack_name: str, program: Program, what: str,
             call: Callable[[auto.Stack, _EventSink], Any],
             on_step: StepSink | None, create: bool = True) -> tuple[Any, _EventSink]:
        with tempfile.TemporaryDirectory(prefix="run-", dir=self.options.work_dir) as tmp:
            run_dir = Path(tmp)
            sink = _EventSink(on_step)
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

    def _failure(self, stack_name: str, what: str, run_dir: Path, sink: _EventSink,
                 exc: auto.CommandError) -> StageFailedError:
        records = read_errors(run_dir)
        if records:
            first = records[0]
            message = f"{first['resource']} ({first['type']}): {first['operation']} failed: {first['message']}"
            if len(records) > 1:
                message += f" (and {len(records) - 1} more resource error(s))"
            return StageFailedError(stack_name, message, hint=first.get("hint", ""),
                                    resource=str(first.get("resource", "")))
        reasons = [e for e in sink.errors if e] or [_first_line(exc)]
        return StageFailedError(stack_name, f"{what}: {diagnostic_reason(reasons[0])}")

    # -- operations ------------------------------------------------------------------------
    def urn(self, stack_name: str, resource: str) -> str:
        return f"urn:pulumi:{stack_name}::{self.project}::{_RESOURCE_TYPE}::{resource}"

    def _targets(self, stack_name: str, resources: tuple[str, ...] | None) -> list[str] | None:
        return None if resources is None else [self.urn(stack_name, r) for r in resources]

    def preview(self, request: PreviewRequest) -> PreviewResult:
        """Preview; with ``targets`` (resource ids) only they may change."""
        name = request.stack

        def call(stack: auto.Stack, sink: _EventSink) -> Any:
            return stack.preview(on_event=sink, refresh=request.refresh,
                                 parallel=self.options.parallel, color="never",
                                 suppress_progress=True,
                                 target=self._targets(name, request.targets))
        _, sink = self._run(name, pulumi_program(request.program), "preview", call,
                            request.on_step)
        return PreviewResult(sink.steps)

    def up(self, request: UpRequest) -> RunResult:
        name = request.stack

        def call(stack: auto.Stack, sink: _EventSink) -> auto.UpResult:
            return stack.up(on_event=sink, refresh=True, parallel=self.options.parallel,
                            color="never", suppress_progress=True, suppress_outputs=True,
                            target=self._targets(name, request.targets))
        result, sink = self._run(name, pulumi_program(request.program), "update", call,
                                 request.on_step)
        outputs = {k: v.value for k, v in result.outputs.items()}
        return RunResult(sink.steps, outputs, _ops(result.summary.resource_changes, sink.own),
                         result.summary.version)

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

        def call(stack: auto.Stack, sink: _EventSink) -> auto.DestroyResult:
            res = stack.destroy(on_event=sink, refresh=True, parallel=self.options.parallel,
                                color="never", suppress_progress=True,
                                target=self._targets(name, request.targets))
            if request.remove and request.targets is None:
                stack.workspace.remove_stack(name)
            return res
        result, sink = self._run(name, _empty_program, "destroy", call, request.on_step,
                                 create=False)
        return RunResult(sink.steps, {}, _ops(result.summary.resource_changes, sink.own),
                         result.summary.version)

    def refresh(self, request: RefreshRequest) -> RunResult:
        """Record what the cloud reports for every resource of the stack."""
        name = request.stack

        def call(stack: auto.Stack, sink: _EventSink) -> auto.RefreshResult:
            return stack.refresh(on_event=sink, parallel=self.options.parallel, color="never",
                                 suppress_progress=True)
        result, sink = self._run(name, _empty_program, "refresh", call, request.on_step,
                                 create=False)
        snap = self.snapshot(name)
        return RunResult(sink.steps, snap.outputs if snap else {},
                         _ops(result.summary.resource_changes, sink.own))

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
                                  f"{_first_line(exc)}",
                                  hint="check the backend URL and the state passphrase") from None
        self._seen[stack_name] = True
        resources = deployment.get("resources") or []
        outputs: dict[str, Any] = {}
        for res in resources:
            if res.get("type") == "pulumi:pulumi:Stack":
                outputs = _reveal(res.get("outputs") or {})
        ours = [r for r in resources if r.get("type") == _RESOURCE_TYPE]
        managed = [{k: _mask(r.get(k)) for k in ("urn", "id", "inputs", "outputs")} for r in ours]
        blob = json.dumps(managed, sort_keys=True, default=str).encode()
        inputs = {str(r["urn"]).rsplit("::", 1)[-1]: _clean(_reveal(r.get("inputs") or {})) or {}
                  for r in ours if not r.get("delete")}
        recorded = {str(r["urn"]).rsplit("::", 1)[-1]:
                    {**(_clean(_reveal(r.get("outputs") or {})) or {}), "id": r.get("id")}
                    for r in ours if not r.get("delete")}
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
                             salt=salt, recorded=recorded)

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
            ws = auto.LocalWorkspace(**_ws_kwargs(self._opts(Path(tmp))))
            try:
                return dict(ws.export_stack(self._qualified(stack_name)).deployment or {})
            except auto.StackNotFoundError:
                return None
            except auto.CommandError as exc:
                raise EngineError(f"cannot read the state of stack '{stack_name}': "
                                  f"{_first_line(exc)}") from None

    def import_(self, stack_name: str, deployment: Mapping[str, Any]) -> None:
        """Replace the stack's state with ``deployment`` (``pulumi stack import``; the
        stack must not be locked). Plaintext secret envelopes are encrypted on the way."""
        with tempfile.TemporaryDirectory(prefix="imp-", dir=self.options.work_dir) as tmp:
            ws = auto.LocalWorkspace(**_ws_kwargs(self._opts(Path(tmp))))
            try:
                ws.import_stack(self._qualified(stack_name),
                                auto.Deployment(version=3, deployment=dict(deployment)))
            except auto.CommandError as exc:
                raise EngineError(f"cannot write the state of stack '{stack_name}': "
                                  f"{_first_line(exc)}") from None

    def cancel(self, stack_name: str) -> None:
        """Pulumi's ``cancel``: on the DIY (file and object-store) backends it deletes every
        lock file of the stack; it does not stop a process that may still run, so
        recovery calls it only for locks whose holder is gone (provision.engine.recovery).
        A running update of this process is stopped through its Supervisor instead."""
        with tempfile.TemporaryDirectory(prefix="cxl-", dir=self.options.work_dir) as tmp:
            ws = auto.LocalWorkspace(**_ws_kwargs(self._opts(Path(tmp))))
            try:
                ws.pulumi_command.run(["cancel", "--yes", "--stack",
                                       self._qualified(stack_name)],
                                      ws.work_dir, ws.env_vars)
            except auto.CommandError as exc:
                raise EngineError(f"cannot unlock stack '{stack_name}': "
                                  f"{_first_line(exc)}") from None


_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and _SECRET_SIG in value


def _reveal(value: Any) -> Any:
    """Decode Pulumi's secret envelopes (from an export with --show-secrets)."""
    if _is_secret(value):
        plain = value.get("plaintext")
        return _reveal(json.loads(plain)) if isinstance(plain, str) else None
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def _mask(value: Any) -> Any:
    """Replace secrets by a marker, so digests never depend on (or leak) them."""
    if _is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class _Workspace(auto.LocalWorkspace):
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


class _Stack(auto.Stack):
    """A stack whose operations spend no CLI call on their summary.

    After each ``up``, ``destroy`` and ``refresh`` the SDK runs ``pulumi stack history``
    for the run's resource changes; the engine's summary event has given them already
    (:class:`_EventSink`), so :meth:`info` answers from it. The stack's update number
    (``version``) is in that history only, and is left unknown (None).
    """

    def __init__(self, name: str, workspace: auto.Workspace, mode: StackInitMode,
                 sink: "_EventSink") -> None:
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


def _ws_kwargs(opts: auto.LocalWorkspaceOptions) -> dict[str, Any]:
    return {"work_dir": opts.work_dir, "project_settings": opts.project_settings,
            "env_vars": opts.env_vars, "pulumi_command": opts.pulumi_command,
            "secrets_provider": opts.secrets_provider}


def _empty_program() -> None:
    return None


def _ops(changes: Mapping[str, int] | None, own: Mapping[str, int]) -> dict[str, int]:
    """Pulumi's resource changes less the steps on the stack's own resource: the counts
    of the spec's resources only."""
    counts = {op: n - own.get(op, 0) for op, n in (changes or {}).items()}
    return {op: n for op, n in counts.items() if n > 0}


def diagnostic_reason(text: str) -> str:
    """One line that says why, from an engine error diagnostic: its first line, or for a
    Python traceback its last line (the exception), never "Traceback (most recent ...".
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "the engine failed"
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def _first_line(exc: auto.CommandError) -> str:
    text = getattr(exc, "stderr", "") or str(exc)
    for line in text.splitlines():
        line = line.strip()
        for stream in ("stderr:", "stdout:"):      # str(CommandResult) prefixes its streams
            line = line[len(stream):].strip() if line.startswith(stream) else line
        if line.lower().startswith("error:"):
            return line[len("error:"):].strip()
    return text.strip().splitlines()[0] if text.strip() else "the engine failed"
