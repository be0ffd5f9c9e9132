"""An in-memory :class:`~provision.engine.protocol.Engine` for orchestration tests.

:class:`FakeEngine` keeps every stack in memory and runs each declared
resource's adapter in-process (the adapter named by ``Declared.adapter``, e.g.
``providers.testing``'s fake cloud), with the same rules the Pulumi engine and
:class:`~provision.engine.dynamic.AdapterProvider` follow:

* a resource absent from the stack (or gone from the cloud at refresh) is
  created; one whose set inputs differ from the live values is updated, or
  replaced (deleted, then created) when a changed input is ``force_new``; a
  resource in the stack but no longer declared is deleted; with ``targets``
  only those resources change;
* an input known only after apply (:data:`~provision.plan.model.UNKNOWN`, or a
  reference to the id or a cloud-filled attribute of a resource of the stack that
  is still to be created; its declared inputs are known) shows as UNKNOWN in a
  preview's steps and counts as a change;
* an update's ``RunResult.written`` holds what each step left recorded (the
  adapter's result; for ``same``, the refreshed record), secrets masked as the
  engine's events mask them;
* an adapter error fails the operation with
  :class:`~provision.errors.StageFailedError` naming the stack and the
  resource; resources finished before it stay recorded (as in Pulumi).

Simulation controls (all thread-safe):

``fail(stack, message, operation=None)``     the next operation (or the next of
                                             that kind: "preview", "up", ...) on
                                             ``stack`` fails before touching anything
``fail_resource(resource, message, operation="create")``
                                             that adapter operation on that resource
                                             fails (once)
``hold(stack)`` -> ``threading.Event``       the next ``up`` on ``stack`` waits until
                                             the event is set (at most 10 s)
``add_pending(stack, PendingOperation)``     record an unfinished operation
``lock(stack, LockHolder)`` / ``unlock(stack)``
                                             while locked, every changing operation
                                             fails with :class:`StackLockedError`
``lose_exports(stack)``                       the stack keeps its resources but loses its
                                             exported outputs, as after an update that was
                                             interrupted (the next ``up`` writes them again)
``journal``                                  ``(seconds, "start"|"end", operation,
                                             stack)`` in the order they happened
``max_concurrent``                           most operations seen running at once

Example::

    engine = FakeEngine(configs={"test": CloudConfig("test")})
    result = engine.up(UpRequest("s.dev.app", program))
    assert engine.snapshot("s.dev.app").outputs["bucket"]["id"]
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from provision.engine.protocol import (MASKED_SECRET, META_OUTPUT, Declared, DestroyRequest, ImportRequest,
                                       diagnostic_hint,
                                       LockHolder, PendingOperation, PreviewRequest,
                                       PreviewResult, RefreshRequest, RunResult, StackProgram,
                                       StackSnapshot, Step, StepSink, UpRequest)
from provision.errors import EngineError, ProviderError, StackLockedError, StageFailedError
from provision.plan.model import UNKNOWN, dig, has_unknown, split_path
from provision.provider import Adapter, CloudConfig, load_adapter
from provision.spec.model import Reference, Template
from provision.spec.refs import format_scalar
from provision.vocabulary import StepOp

_HOLD_TIMEOUT = 10.0


@dataclass
class _Resource:
    type: str
    adapter: str
    id: str
    inputs: dict[str, Any]              # the inputs the resource was last given (set ones)
    props: dict[str, Any]               # what the adapter reported (properties + outputs)
    readable: tuple[str, ...] = ()
    secret: frozenset[str] = frozenset()
    protect: bool = False               # as Pulumi: recorded by every up, refuses deletes


@dataclass
class _Stack:
    resources: dict[str, _Resource] = field(default_factory=dict)
    pending: list[PendingOperation] = field(default_factory=list)
    lock: LockHolder | None = None
    exports_lost: bool = False


@dataclass
class _Planned:
    op: StepOp
    rid: str
    decl: Declared | None               # None: a delete of a resource no longer declared
    old: _Resource | None
    new: dict[str, Any] | None = None   # the set inputs, UNKNOWN where not known yet
    replace_keys: tuple[str, ...] = ()
    diff_keys: tuple[str, ...] = ()

    def step(self) -> Step:
        return Step(self.op, self.rid, dict(self.old.inputs) if self.old else None,
                    None if self.new is None else dict(self.new), self.replace_keys,
                    copy.deepcopy(self.old.props) if self.old else None, self.diff_keys)


class FakeEngine:
    """In-memory stacks over in-process adapters (see the module doc)."""

    def __init__(self, configs: Mapping[str, CloudConfig] | None = None) -> None:
        self.configs = dict(configs or {})
        self.journal: list[tuple[float, str, str, str]] = []
        self.max_concurrent = 0
        self._stacks: dict[str, _Stack] = {}
        self._adapters: dict[str, Adapter] = {}
        self._failures: dict[tuple[str, str | None], str] = {}
        self._resource_failures: dict[tuple[str, str], str] = {}
        self._holds: dict[str, threading.Event] = {}
        self._cancelled: set[str] = set()
        self._running = 0
        self._start = time.monotonic()
        self._lock = threading.RLock()

    # -- simulation controls -----------------------------------------------------------------
    def fail(self, stack: str, message: str, operation: str | None = None) -> None:
        with self._lock:
            self._failures[(stack, operation)] = message

    def fail_resource(self, resource: str, message: str, operation: str = "create") -> None:
        with self._lock:
            self._resource_failures[(resource, operation)] = message

    def hold(self, stack: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._holds[stack] = event
        return event

    def add_pending(self, stack: str, operation: PendingOperation) -> None:
        with self._lock:
            self._stacks.setdefault(stack, _Stack()).pending.append(operation)

    def lock(self, stack: str, holder: LockHolder) -> None:
        with self._lock:
            self._stacks.setdefault(stack, _Stack()).lock = holder

    def lose_exports(self, stack: str) -> None:
        with self._lock:
            self._stacks[stack].exports_lost = True

    def unlock(self, stack: str) -> None:
        with self._lock:
            if stack in self._stacks:
                self._stacks[stack].lock = None

    def stacks(self) -> list[str]:
        with self._lock:
            return sorted(self._stacks)

    # -- the Engine protocol -------------------------------------------------------------------
    def preview(self, request: PreviewRequest) -> PreviewResult:
        with self._operation("preview", request.stack, changes=False):
            state = self._copy(request.stack)
            if request.refresh:
                self._refresh_into(request.stack, state)
            plan = self._diff(state, request.program, request.targets)
            steps = [p.step() for p in plan]
            for step in steps:
                _emit(request.on_step, step)
            return PreviewResult(steps)

    def up(self, request: UpRequest) -> RunResult:
        with self._operation("up", request.stack):
            self._wait_hold(request.stack)
            result = self._execute(request.stack, request.program, request.targets,
                                   request.on_step, refresh=request.refresh)
            with self._lock:
                self._stacks[request.stack].exports_lost = False
            return result

    def import_resources(self, request: ImportRequest) -> RunResult:
        with self._operation("import", request.stack):
            # As the Pulumi engine: only the resources to adopt; the others stay as they are.
            adopted = tuple(d.id for d in request.program.resources if d.import_id is not None)
            return self._execute(request.stack, request.program, adopted, request.on_step)

    def destroy(self, request: DestroyRequest) -> RunResult:
        with self._operation("destroy", request.stack):
            with self._lock:
                stack = self._stacks.get(request.stack)
                if stack is None:
                    raise EngineError(f"stack '{request.stack}' does not exist")
                doomed = [rid for rid in reversed(list(stack.resources))
                          if request.targets is None or rid in request.targets]
            steps: list[Step] = []
            for rid in doomed:
                res = stack.resources[rid]
                _refuse_protected(request.stack, rid, res)
                self._call(request.stack, rid, res.type, "delete",
                           lambda: self._adapter(res.adapter).delete(res.id, res.props,
                                                                     self._config(res.type)))
                with self._lock:
                    del stack.resources[rid]
                step = Step(StepOp.DELETE, rid, dict(res.inputs), None)
                steps.append(step)
                _emit(request.on_step, step)
            with self._lock:
                if request.remove and request.targets is None:
                    self._stacks.pop(request.stack, None)
            return RunResult(steps, {}, _summary(steps))

    def refresh(self, request: RefreshRequest) -> RunResult:
        with self._operation("refresh", request.stack):
            with self._lock:
                stack = self._stacks.get(request.stack)
                if stack is None:
                    raise EngineError(f"stack '{request.stack}' does not exist")
            self._refresh_into(request.stack, stack)
            steps = [Step(StepOp.REFRESH, rid, dict(r.inputs), dict(r.inputs))
                     for rid, r in list(stack.resources.items())]
            for step in steps:
                _emit(request.on_step, step)
            return RunResult(steps, self._outputs(stack), _summary(steps))

    def snapshot(self, stack: str) -> StackSnapshot | None:
        with self._lock:
            found = self._stacks.get(stack)
            if found is None:
                return None
            masked = {rid: {"id": r.id, "type": r.type,
                            "inputs": {k: ("[secret]" if k in r.secret else v)
                                       for k, v in r.inputs.items()}}
                      for rid, r in found.resources.items()}
            blob = json.dumps(masked, sort_keys=True, default=str).encode()
            return StackSnapshot(
                outputs={} if found.exports_lost else self._outputs(found),
                digest=hashlib.sha256(blob).hexdigest(),
                inputs={rid: copy.deepcopy(r.inputs) for rid, r in found.resources.items()},
                pending=tuple(found.pending), lock=found.lock,
                recorded={rid: {**copy.deepcopy(r.props), "id": r.id}
                          for rid, r in found.resources.items()},
                protected=frozenset(rid for rid, r in found.resources.items() if r.protect))

    def cancel(self, stack: str) -> None:
        """The running ``up`` on ``stack`` stops before its next resource."""
        with self._lock:
            self._cancelled.add(stack)
            hold = self._holds.get(stack)
        if hold is not None:
            hold.set()

    # -- internals -----------------------------------------------------------------------------
    @contextmanager
    def _operation(self, what: str, stack: str, changes: bool = True) -> Iterator[None]:
        with self._lock:
            holder = self._stacks[stack].lock if stack in self._stacks else None
            message = (self._failures.pop((stack, what), None)
                       or self._failures.pop((stack, None), None))
            self._running += 1
            self.max_concurrent = max(self.max_concurrent, self._running)
            self.journal.append((time.monotonic() - self._start, "start", what, stack))
        try:
            if holder is not None and changes:
                raise StackLockedError(stack, holder.describe())
            if message is not None:
                raise StageFailedError(stack, f"{what}: {message}")
            yield
        finally:
            with self._lock:
                self._running -= 1
                self.journal.append((time.monotonic() - self._start, "end", what, stack))

    def _wait_hold(self, stack: str) -> None:
        with self._lock:
            event = self._holds.pop(stack, None)
        if event is not None and not event.wait(_HOLD_TIMEOUT):
            raise EngineError(f"stack '{stack}' was held for more than {_HOLD_TIMEOUT:.0f} s")

    def _adapter(self, ref: str) -> Adapter:
        with self._lock:
            if ref not in self._adapters:
                self._adapters[ref] = load_adapter(ref)
            return self._adapters[ref]

    def _config(self, type_name: str) -> CloudConfig:
        cloud = type_name.split(":", 1)[0]
        return self.configs.get(cloud) or CloudConfig(cloud=cloud)

    def _copy(self, stack: str) -> _Stack:
        with self._lock:
            found = self._stacks.get(stack)
            return copy.deepcopy(found) if found is not None else _Stack()

    def _refresh_into(self, stack_name: str, stack: _Stack) -> None:
        for rid, res in list(stack.resources.items()):
            result = self._call(stack_name, rid, res.type, "read",
                                lambda: self._adapter(res.adapter).read(res.id, res.props,
                                                                        self._config(res.type)))
            with self._lock:
                if result is None:
                    stack.resources.pop(rid, None)
                else:
                    res.props = dict(result.properties)

    def _call(self, stack: str, rid: str, type_name: str, operation: str,
              fn: Callable[[], Any]) -> Any:
        with self._lock:
            message = self._resource_failures.pop((rid, operation), None)
            cancelled = stack in self._cancelled and operation != "read"
            if cancelled:
                self._cancelled.discard(stack)
        if cancelled:
            raise EngineError(f"the update of stack '{stack}' was cancelled")
        try:
            if message is not None:
                raise ProviderError(message, resource=rid, resource_type=type_name)
            return fn()
        except ProviderError as exc:
            raise StageFailedError(stack, f"{rid} ({type_name}): {operation} failed: {exc.detail}",
                                   hint=exc.hint, resource=rid) from None

    def _diff(self, state: _Stack, program: StackProgram,
              targets: tuple[str, ...] | None) -> list[_Planned]:
        def chosen(rid: str) -> bool:
            return targets is None or rid in targets

        _follow_aliases(state, program)
        planned: list[_Planned] = []
        fresh: dict[str, dict[str, Any]] = {}   # resources (re)created by this plan: their inputs
        for decl in program.resources:
            old = state.resources.get(decl.id)
            if not chosen(decl.id):
                if old is not None:
                    planned.append(_Planned(StepOp.SAME, decl.id, decl, old, dict(old.inputs)))
                continue
            new = _set(self._resolve(decl.inputs, state, fresh))
            if old is None or old.type != decl.type:
                planned.append(_Planned(StepOp.CREATE, decl.id, decl, old, new))
                fresh[decl.id] = new
                continue
            schema = self._adapter(decl.adapter).schema
            live = {k: v for k, v in old.props.items() if k in schema.properties}
            removed = {k for k in set(old.inputs) - set(new) if k in schema.properties}
            changed = sorted({k for k, v in new.items() if has_unknown(v) or live.get(k) != v}
                             | removed)
            replaces = tuple(k for k in changed if schema.properties[k].force_new)
            op = StepOp.REPLACE if replaces else StepOp.UPDATE if changed else StepOp.SAME
            if replaces:
                fresh[decl.id] = new
            planned.append(_Planned(op, decl.id, decl, old, new, replaces, tuple(changed)))
        declared = {d.id for d in program.resources}
        for rid, res in reversed(list(state.resources.items())):
            if rid not in declared and chosen(rid):
                planned.append(_Planned(StepOp.DELETE, rid, None, res))
        return planned

    def _resolve(self, value: Any, state: _Stack,
                 fresh: Mapping[str, Mapping[str, Any]]) -> Any:
        """Inputs with references to resources of the stack replaced by their values. A
        resource this plan (re)creates is known by its declared inputs only, as in an
        engine preview: its id and what the cloud fills in are UNKNOWN."""
        def ref(r: Reference) -> Any:
            head, *path = split_path(r.attribute or "id")
            res = state.resources.get(r.target)
            if r.target in fresh:
                value = fresh[r.target].get(head) if head != "id" else None
                return UNKNOWN if value is None or has_unknown(value) else dig(value, path)
            if res is None:
                return UNKNOWN
            return res.id if head == "id" else dig(res.props.get(head), path)

        if isinstance(value, Reference):
            return ref(value)
        if isinstance(value, Template):
            parts = [ref(p) if isinstance(p, Reference) else p for p in value.parts]
            return UNKNOWN if any(p is UNKNOWN for p in parts) else "".join(
                format_scalar(p) for p in parts)
        if isinstance(value, Mapping):
            return {k: self._resolve(v, state, fresh) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, state, fresh) for v in value]
        return value

    def _execute(self, name: str, program: StackProgram, targets: tuple[str, ...] | None,
                 on_step: StepSink | None, refresh: bool = True) -> RunResult:
        with self._lock:
            stack = self._stacks.setdefault(name, _Stack())
        if refresh:
            self._refresh_into(name, stack)
        steps: list[Step] = []
        written: dict[str, dict[str, Any]] = {}
        for planned in self._diff(stack, program, targets):
            decl, old, rid = planned.decl, planned.old, planned.rid
            if planned.op is StepOp.SAME:
                if decl is not None and old is not None:
                    with self._lock:
                        old.readable, old.secret = decl.readable, decl.secret
                        old.protect = decl.protect
                    written[rid] = _masked(old.props, old.secret)
                steps.append(planned.step())
                continue
            if planned.op in (StepOp.DELETE, StepOp.REPLACE) and old is not None:
                gone = old
                _refuse_protected(name, rid, gone)
                self._call(name, rid, gone.type, "delete",
                           lambda: self._adapter(gone.adapter).delete(gone.id, gone.props,
                                                                      self._config(gone.type)))
                with self._lock:
                    stack.resources.pop(rid, None)
            new: dict[str, Any] | None = None
            if decl is not None and planned.op is not StepOp.DELETE:
                new = _set(self._resolve(decl.inputs, stack, {}))
                created = self._apply_one(name, decl, planned.op, old, new)
                with self._lock:
                    stack.resources[rid] = created
                written[rid] = _masked(created.props, created.secret)
            op = StepOp.IMPORT if decl is not None and decl.import_id else planned.op
            step = Step(op, rid, dict(old.inputs) if old else None, new, planned.replace_keys,
                        copy.deepcopy(old.props) if old else None, planned.diff_keys)
            steps.append(step)
            _emit(on_step, step)
        return RunResult(steps, self._outputs(stack), _summary(steps), written=written)

    def _apply_one(self, name: str, decl: Declared, op: StepOp, old: _Resource | None,
                   inputs: dict[str, Any]) -> _Resource:
        adapter, config, rid = self._adapter(decl.adapter), self._config(decl.type), decl.id
        if op is StepOp.UPDATE and old is not None:
            result = self._call(name, rid, decl.type, "update",
                                lambda: adapter.update(old.id, old.props, inputs, config))
        elif decl.import_id is not None:
            imported = decl.import_id
            result = self._call(name, rid, decl.type, "read",
                                lambda: adapter.read(imported, inputs, config))
            if result is None:
                raise StageFailedError(name, f"{rid} ({decl.type}): import failed: "
                                       f"no resource with id '{imported}'", resource=rid)
        else:
            result = self._call(name, rid, decl.type, "create",
                                lambda: adapter.create(inputs, config))
        return _Resource(decl.type, decl.adapter, result.id, inputs,
                         dict(result.properties), decl.readable, decl.secret, decl.protect)

    @staticmethod
    def _outputs(stack: _Stack) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for rid, res in stack.resources.items():
            exported: dict[str, Any] = {"id": res.id}
            for attr in res.readable:
                exported[attr] = copy.deepcopy(res.props.get(attr))
            outputs[rid] = exported
        outputs[META_OUTPUT] = {"types": {rid: r.type for rid, r in stack.resources.items()}}
        return outputs


def _follow_aliases(state: _Stack, program: StackProgram) -> None:
    """As Pulumi's aliases: a resource recorded under an id a declared resource names in
    ``aliases`` (same type) is that resource from now on (moved in ``state``)."""
    for decl in program.resources:
        if decl.id in state.resources:
            continue
        old = next((a for a in decl.aliases if a in state.resources
                    and state.resources[a].type == decl.type), None)
        if old is not None:
            state.resources[decl.id] = state.resources.pop(old)


def _refuse_protected(stack: str, rid: str, res: _Resource) -> None:
    """As the Pulumi engine: a resource recorded as protected is never deleted."""
    if res.protect:
        reason = f"destroy: resource \"{rid}\" cannot be deleted because it is protected"
        raise StageFailedError(stack, reason, hint=diagnostic_hint(reason), resource=rid)


def _masked(props: Mapping[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    """What the engine reports a resource's step wrote: secret values masked."""
    return {k: MASKED_SECRET if k in secret and v is not None else copy.deepcopy(v)
            for k, v in props.items()}


def _set(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if v is not None}


def _emit(sink: StepSink | None, step: Step) -> None:
    if sink is not None:
        sink(step)


def _summary(steps: list[Step]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.op.value] = counts.get(step.op.value, 0) + 1
    return counts
