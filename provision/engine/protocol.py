"""The seam between orchestration and the engine that changes stacks.

Everything above the engine (the orchestrator, the policy gates, the CLI) talks
to an :class:`Engine`: preview / up / destroy / refresh / import / snapshot /
cancel of one stack, with the typed request and result records below.

Implementations:

* :class:`provision.engine.runner.StackRunner` drives the real Pulumi engine
  (Automation API); it is the product's engine.
* :class:`provision.engine.testing.FakeEngine` keeps stacks in memory and runs
  the adapters in-process, for orchestration tests in milliseconds.

A stack's desired state is data, not code: a :class:`StackProgram` lists the
:class:`Declared` resources with their inputs, where an input is a plain value,
:data:`provision.plan.model.UNKNOWN` (known only after an upstream stage
applies), or a :class:`~provision.spec.model.Reference` /
:class:`~provision.spec.model.Template` naming another resource *of the same
stack* (resolved by the engine once that resource exists). References to other
stacks are resolved before a program is handed to an engine. The Pulumi engine
turns a program into an inline Pulumi program (``provision.engine.program``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from provision.vocabulary import StepOp

# The stack output every engine adds: ``{"types": {resource id: type name}}``.
META_OUTPUT = "__provision"
# A secret value as the engine's events show it (``RunResult.written``).
MASKED_SECRET = "[secret]"


# What to do when an engine refuses to delete a resource it records as protected.
PROTECTED_HINT = ("the resource is protected in the stack's state: set 'protect: false' on "
                  "it in the spec and apply (the plan shows the change), then destroy")


def diagnostic_hint(reason: str) -> str:
    """The hint for an engine's one-line failure ``reason``, "" when none is known: a
    resource recorded as protected "cannot be deleted" (the Pulumi engine's words)."""
    return PROTECTED_HINT if "cannot be deleted" in reason else ""


# -- what a stack should contain -----------------------------------------------------------

@dataclass(frozen=True)
class Declared:
    """One resource of a stack program.

    ``inputs`` maps property name to value (see the module doc for the kinds of
    value); ``secret`` names the inputs stored as secrets; ``outputs`` names the
    attributes the adapter fills in (declared as absent inputs); ``readable``
    names the attributes exported for downstream stages (besides ``id``).
    ``import_id`` adopts an existing cloud resource with that id instead of
    creating one. ``file``/``line`` locate the resource in the spec ("" / 0 when
    it no longer is in the spec).
    """

    id: str
    type: str
    adapter: str                                 # AdapterRegistry.ref(type): "module:Class"
    inputs: Mapping[str, Any]
    secret: frozenset[str] = frozenset()
    outputs: tuple[str, ...] = ()
    readable: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    protect: bool = False
    # Ids the resource was recorded under before (the spec's ``moved_from``): a resource
    # of the stack recorded under one of them, of the same type, is this one.
    aliases: tuple[str, ...] = ()
    import_id: str | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class StackProgram:
    """The resources one stack should contain, in dependency order."""

    resources: tuple[Declared, ...] = ()

    def types(self) -> dict[str, str]:
        """Resource id -> type name (exported under ``META_OUTPUT`` by every engine)."""
        return {d.id: d.type for d in self.resources}

    def get(self, resource_id: str) -> Declared | None:
        return next((d for d in self.resources if d.id == resource_id), None)


# -- what the engine did ------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One planned or executed step on one resource of a stack.

    ``old_inputs``/``new_inputs`` are the resource's declared inputs before/after
    (None when absent); an input known only after apply is
    :data:`provision.plan.model.UNKNOWN`. ``replace_keys`` names the inputs whose
    change forces a replacement. ``old_outputs`` is the resource's state before the
    step as last read from the cloud (after a refresh: the live values, so an update
    that undoes drift shows ``live -> spec``); ``diff_keys`` names the inputs the
    engine found changed, when it says.
    """

    op: StepOp
    resource: str                     # spec resource id (the URN's name)
    old_inputs: dict[str, Any] | None
    new_inputs: dict[str, Any] | None
    replace_keys: tuple[str, ...] = ()
    old_outputs: dict[str, Any] | None = None
    diff_keys: tuple[str, ...] = ()


StepSink = Callable[[Step], None]


@dataclass
class PreviewResult:
    steps: list[Step]


@dataclass
class RunResult:
    """The result of an operation that changed a stack.

    ``outputs``: the stack's outputs afterwards (resource id -> exported
    attributes, plus ``META_OUTPUT``); ``summary``: step op -> number of
    resources (Pulumi's ``resource_changes``, e.g. ``{"create": 2, "same": 1}``).
    ``written``: resource id -> the attributes the engine recorded for it when its
    step finished (for a create or update: the adapter's result; the engine's
    resource-outputs events), provision's bookkeeping keys dropped and secret values
    masked as :data:`MASKED_SECRET`; empty when the engine does not say.
    """

    steps: list[Step]
    outputs: dict[str, Any]
    summary: dict[str, int]
    version: int | None = None        # the stack's update version the engine recorded
    written: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)


class PendingKind(str, Enum):
    """An operation the engine started on a resource and never recorded as finished
    (Pulumi's ``pending_operations[].type``): the process died or was killed."""

    CREATING = "creating"
    UPDATING = "updating"
    DELETING = "deleting"
    READING = "reading"
    IMPORTING = "importing"


@dataclass(frozen=True)
class PendingOperation:
    resource: str                     # spec resource id
    type: str                         # resource type name ("" when unknown)
    kind: PendingKind
    cloud_id: str = ""                # the cloud id, when the engine recorded one


@dataclass(frozen=True)
class LockHolder:
    """Who holds a stack's update lock (the backend's lock record)."""

    who: str                          # user name
    host: str = ""
    pid: int = 0
    since: datetime | None = None

    def describe(self) -> str:
        """``"alice on build-7 (pid 4242) since 2026-01-01T10:00:00+00:00"``."""
        text = self.who or "an unknown user"
        if self.host:
            text += f" on {self.host}"
        if self.pid:
            text += f" (pid {self.pid})"
        if self.since is not None:
            text += f" since {self.since.isoformat(timespec='seconds')}"
        return text


@dataclass(frozen=True)
class StackSnapshot:
    """A stack's state as recorded by the engine, read in one call.

    ``outputs``: resource id -> exported attributes (plus ``META_OUTPUT``);
    ``digest``: sha256 of the managed resources' recorded state, secrets masked
    ("" for a snapshot rebuilt from an update's outputs); ``inputs``: each
    managed resource's recorded inputs (secrets revealed: keep in memory only);
    ``pending``: operations started and never finished; ``lock``: the holder of
    the stack's update lock, if any; ``salt``: the passphrase secrets provider's
    stored salt state ("" for another provider), to verify the passphrase;
    ``recorded``: each managed resource's own recorded attributes (``id`` plus the
    outputs the engine stored with it; secrets revealed: keep in memory only). They
    survive an interrupted update, which can leave ``outputs`` empty.
    ``protected``: the managed resources the engine records as protected (Pulumi's
    ``protect``: it refuses to delete them).
    """

    outputs: dict[str, Any]
    digest: str
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    pending: tuple[PendingOperation, ...] = ()
    lock: LockHolder | None = None
    salt: str = ""
    protected: frozenset[str] = frozenset()

    def exports_cover(self) -> bool:
        """True when the stack's exported outputs name every managed resource (False
        after an update that was interrupted before it wrote them)."""
        return all(rid in self.outputs for rid in self.inputs)


# -- requests -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PreviewRequest:
    """Preview ``program`` on ``stack``; with ``targets`` (resource ids) only they may change;
    ``refresh`` reads the live state first."""

    stack: str
    program: StackProgram
    targets: tuple[str, ...] | None = None
    refresh: bool = True
    on_step: StepSink | None = field(default=None, compare=False)


@dataclass(frozen=True)
class UpRequest:
    """Make ``stack`` match ``program``; only ``targets`` when given. ``refresh`` reads
    the live state first; without it the engine diffs against the recorded state."""

    stack: str
    program: StackProgram
    targets: tuple[str, ...] | None = None
    on_step: StepSink | None = field(default=None, compare=False)
    refresh: bool = True


@dataclass(frozen=True)
class DestroyRequest:
    """Delete the stack's resources (only ``targets`` when given: the stack is then kept);
    with ``remove`` the emptied stack itself is removed."""

    stack: str
    targets: tuple[str, ...] | None = None
    remove: bool = True
    on_step: StepSink | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RefreshRequest:
    """Read every resource of the stack from the cloud and record what it reports."""

    stack: str
    on_step: StepSink | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ImportRequest:
    """Adopt existing cloud resources into ``stack``: ``program`` declares the stack with
    ``import_id`` set on each resource to adopt (the others are kept as they are)."""

    stack: str
    program: StackProgram
    on_step: StepSink | None = field(default=None, compare=False)


# -- the seam -----------------------------------------------------------------------------

@runtime_checkable
class Engine(Protocol):
    """Operations on one stack at a time. Implementations are safe to call from several
    threads at once for different stacks.

    Errors: :class:`~provision.errors.StageFailedError` when a resource operation
    fails (naming the stack and the resource); :class:`~provision.errors.EngineError`
    when the engine itself cannot run or the backend cannot be read. ``import`` is
    a Python keyword, hence :meth:`import_resources`.
    """

    def preview(self, request: PreviewRequest) -> PreviewResult: ...

    def up(self, request: UpRequest) -> RunResult: ...

    def destroy(self, request: DestroyRequest) -> RunResult: ...

    def refresh(self, request: RefreshRequest) -> RunResult: ...

    def import_resources(self, request: ImportRequest) -> RunResult: ...

    def snapshot(self, stack: str) -> StackSnapshot | None:
        """The stack's recorded state, or None when the stack does not exist."""
        ...

    def cancel(self, stack: str) -> None:
        """Ask a running operation on ``stack`` to stop."""
        ...
