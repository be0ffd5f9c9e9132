"""Stack recovery: repair what a dead run left behind, before anything else changes.

A run killed mid-``up`` leaves, per stage, a Pulumi stack lock (a lock file of
a process that is gone) and *pending operations* in the stack's deployment
(``pending_operations``: each ``{"resource": <resource state>, "type":
"creating" | "updating" | "deleting" | "reading"}``; the engine writes one
before it calls the provider and removes it after). Recovery of one stage:

1. A Pulumi lock whose holder is gone is removed (Pulumi's own ``cancel``).
   Gone = same host and its pid is not running, or the stage was in flight in
   a run that crashed (its journal never ended) and the holder is on another
   host. A lock of a live process is never touched: :class:`StackLockedError`.
2. Each pending create is reconciled with the cloud: the adapter looks the
   resource up by its natural key from the planned inputs
   (:class:`~provision.provider.NaturalKeyLookup`; a type with no unique name,
   a VPC, is found by the create token recorded in those inputs, see
   ``ResourceSchema.create_token``). One that exists is put into
   the state with its live id and properties (as Pulumi's ``stack import``
   would); one that does not is dropped from pending. Pending updates, deletes
   and reads are dropped: every apply refreshes first, which reads the live
   resource (or learns it is gone). Never a blind ``--clear-pending-creates``:
   a create whose resource cannot be looked up stops the repair with
   :class:`RecoveryError`, state untouched.

:func:`inspect_stage` only looks and says what it would do (``repair --dry-run``);
:func:`repair_stage` does it. Nothing here talks to Pulumi except through
:class:`~provision.engine.runner.StackRunner`.
"""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from provision.engine.dynamic import INPUT_KEYS, PROVIDER_KEY
from provision.engine.lock import pid_alive, process_started_at
from provision.engine.pulumi_state import RESOURCE_TYPE, SECRET_SIG, SECRET_SIG_VALUE
from provision.engine.statestore import StateStore
from provision.errors import ProviderError, RecoveryError, StackLockedError
from provision.provider import CREATE_TOKEN, AdapterRegistry, CloudConfig, NaturalKeyLookup, ReadResult


@runtime_checkable
class RecoveryEngine(Protocol):
    """What recovery needs from the engine (implemented by StackRunner)."""

    def lock_prefix(self, stack_name: str) -> str: ...

    def export(self, stack_name: str) -> dict[str, Any] | None: ...

    def import_(self, stack_name: str, deployment: Mapping[str, Any]) -> None: ...

    def cancel(self, stack_name: str) -> None: ...


@dataclass(frozen=True)
class StaleLock:
    key: str
    holder: str          # "user@host (pid N) at T"
    stale: bool
    reason: str


@dataclass(frozen=True)
class PendingAction:
    """What recovery does (or would do) about one pending operation."""

    resource: str
    operation: str       # creating | updating | deleting | reading
    action: str          # import | drop
    detail: str

    def render(self) -> str:
        return f"{self.operation} {self.resource}: {self.action} ({self.detail})"


@dataclass
class StageRepair:
    stage: str
    stack: str
    locks: list[StaleLock] = field(default_factory=list)
    actions: list[PendingAction] = field(default_factory=list)
    deployment: dict[str, Any] | None = None     # the repaired deployment (None: unchanged)
    has_state: bool = True                       # False: the stack has no checkpoint yet

    @property
    def needed(self) -> bool:
        return bool(self.locks or self.actions)

    def lines(self) -> list[str]:
        out = [f"lock {lock.key}: held by {lock.holder}; "
               f"{'remove' if lock.stale else 'keep'} ({lock.reason})" for lock in self.locks]
        out += [a.render() for a in self.actions]
        return out


Finder = Callable[[str, Mapping[str, Any]], ReadResult | None]


def adapter_finder(registry: AdapterRegistry, configs: Mapping[str, CloudConfig]) -> Finder:
    """Look a resource of ``type_name`` up by the natural key in ``props`` (see module doc)."""

    def find(type_name: str, props: Mapping[str, Any]) -> ReadResult | None:
        adapter = registry.get(type_name)
        if not isinstance(adapter, NaturalKeyLookup):
            raise RecoveryError(
                f"cannot reconcile a pending create of type {type_name}: its adapter cannot "
                "look a resource up by name", hint="check the cloud by hand, then run "
                "provision repair again")
        cloud = registry.schema(type_name).cloud
        return adapter.find(props, configs.get(cloud) or CloudConfig(cloud=cloud))

    return find


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def _plain_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Planned inputs usable for a lookup: no provider blob, no encrypted values."""
    return {k: (None if _is_secret(v) else v) for k, v in inputs.items()
            if k not in (PROVIDER_KEY, INPUT_KEYS)}


def _secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: SECRET_SIG_VALUE, "plaintext": json.dumps(value)}


def _holder_text(body: Mapping[str, Any]) -> str:
    return (f"{body.get('username', '?')}@{body.get('hostname', '?')} "
            f"(pid {body.get('pid', '?')}) at {body.get('timestamp', '?')}")


def _started_after(pid: int, timestamp: Any) -> bool:
    """True when ``pid`` started after the lock was written: a reused pid, not the holder.
    One second of slack covers clock granularity (start ticks are 1/100 s)."""
    try:
        taken = datetime.fromisoformat(str(timestamp))
    except ValueError:
        return False
    started = process_started_at(pid)
    return started is not None and started > taken + timedelta(seconds=1)


def stack_locks(store: StateStore, engine: RecoveryEngine, stack: str, *,
                crashed_in_flight: bool) -> list[StaleLock]:
    """The stack's Pulumi locks and whether each one's holder is provably gone."""
    locks = []
    for key in [k for k in store.list(engine.lock_prefix(stack)) if k.endswith(".json")]:
        found = store.read(key)
        try:
            body: dict[str, Any] = json.loads(found[0]) if found else {}
        except ValueError:
            body = {}
        same_host = body.get("hostname") == socket.gethostname()
        pid = int(body.get("pid") or 0)
        if same_host and pid and not pid_alive(pid):
            stale, reason = True, f"process {pid} is no longer running"
        elif same_host and pid and _started_after(pid, body.get("timestamp")):
            stale, reason = True, f"process {pid} is no longer running (its pid was reused)"
        elif same_host and pid:
            stale, reason = False, f"process {pid} is still running"
        elif crashed_in_flight:
            stale, reason = True, "left by a run that crashed while this stage ran"
        else:
            stale, reason = False, "held from another host by a run that may still be alive"
        locks.append(StaleLock(key, _holder_text(body), stale, reason))
    return locks


def reconcile(deployment: Mapping[str, Any], types: Mapping[str, str], find: Finder,
              secret_props: Callable[[str], set[str]]) -> tuple[dict[str, Any], list[PendingAction]]:
    """The deployment without pending operations, with found creates in its resources.

    ``types`` maps a spec resource id to its type; ``secret_props(type)`` names the
    properties stored as secrets. Raises RecoveryError when a create cannot be
    reconciled (unknown type); adapters' cloud errors propagate (state untouched).
    """
    fixed = copy.deepcopy(dict(deployment))
    pending = list(fixed.pop("pending_operations", None) or [])
    resources: list[dict[str, Any]] = list(fixed.get("resources") or [])
    actions: list[PendingAction] = []
    for op in pending:
        state: dict[str, Any] = dict(op.get("resource") or {})
        kind = str(op.get("type", ""))
        urn = str(state.get("urn", ""))
        rid = urn.rsplit("::", 1)[-1]
        if kind != "creating" or state.get("type") != RESOURCE_TYPE:
            actions.append(PendingAction(rid, kind, "drop",
                                         "the next refresh reads the live resource"))
            continue
        type_name = types.get(rid)
        if type_name is None:
            raise RecoveryError(f"pending create of '{rid}' in a stack whose spec no longer "
                                "declares it: its cloud type is unknown",
                                hint="restore the resource in the spec, then repair again")
        inputs = dict(state.get("inputs") or {})
        try:
            live = find(type_name, _plain_inputs(inputs))
        except ProviderError as exc:
            raise RecoveryError(f"cannot look up '{rid}' ({type_name}) to reconcile its "
                                f"pending create: {exc.detail}", hint=exc.hint) from None
        if live is None:
            actions.append(PendingAction(rid, kind, "drop", "not found in the cloud"))
            continue
        secrets = secret_props(type_name)
        outputs: dict[str, Any] = {k: (_secret(v) if k in secrets and v is not None else v)
                                   for k, v in live.properties.items()}
        outputs[INPUT_KEYS] = sorted(k for k, v in _plain_inputs(inputs).items()
                                     if (v is not None or k in secrets and inputs.get(k))
                                     and k != CREATE_TOKEN)
        outputs[PROVIDER_KEY] = inputs.get(PROVIDER_KEY)
        state.update(id=live.id, outputs=outputs)
        resources = [r for r in resources if r.get("urn") != urn or r.get("delete")]
        resources.append(state)
        actions.append(PendingAction(rid, kind, "import", f"exists in the cloud as {live.id}"))
    fixed["resources"] = _prune_dependencies(resources)
    return fixed, actions


def _prune_dependencies(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop dependencies on resources the state does not hold (a dependency whose own
    create was dropped): Pulumi refuses a snapshot that refers to unknown resources."""
    known: set[str] = set()
    out = []
    for res in resources:
        res = dict(res)
        if res.get("dependencies"):
            res["dependencies"] = [d for d in res["dependencies"] if d in known]
        if res.get("propertyDependencies"):
            res["propertyDependencies"] = {k: [d for d in v if d in known]
                                           for k, v in res["propertyDependencies"].items()}
        known.add(str(res.get("urn", "")))
        out.append(res)
    return out


@dataclass
class Recovery:
    """Inspects and repairs the stages of one spec and environment."""

    store: StateStore
    engine: RecoveryEngine
    registry: AdapterRegistry
    find: Finder
    types: Mapping[str, str]            # spec resource id -> type

    def _secret_props(self, type_name: str) -> set[str]:
        if type_name not in self.registry:
            return set()
        return {k for k, p in self.registry.schema(type_name).properties.items() if p.secret}

    def inspect(self, stage: str, stack: str, *, crashed_in_flight: bool = False) -> StageRepair:
        """What repairing ``stage`` would do; nothing is changed (cloud lookups only)."""
        report = StageRepair(stage, stack)
        report.locks = stack_locks(self.store, self.engine, stack,
                                   crashed_in_flight=crashed_in_flight)
        deployment = self.engine.export(stack)
        report.has_state = deployment is not None
        if deployment and deployment.get("pending_operations"):
            report.deployment, report.actions = reconcile(deployment, self.types, self.find,
                                                          self._secret_props)
        return report

    def repair(self, stage: str, stack: str, *, crashed_in_flight: bool = False) -> StageRepair:
        """Repair ``stage``: remove stale locks, then reconcile its pending operations.

        Raises StackLockedError when a live process holds the stack's lock."""
        report = self.inspect(stage, stack, crashed_in_flight=crashed_in_flight)
        live = [lock for lock in report.locks if not lock.stale]
        if live:
            raise StackLockedError(stage, "; ".join(f"{lock.holder} (lock {lock.key}; "
                                                    f"{lock.reason})" for lock in live),
                                   what="stage")
        if report.locks and not report.has_state:
            # Locked with no state: its first update (``stack init``) died holding the
            # lock. There is no stack for ``pulumi cancel``; the stale lock files go.
            for lock in report.locks:
                self.store.delete(lock.key)
        elif report.locks:
            self.engine.cancel(stack)
        if report.deployment is not None:
            self.engine.import_(stack, report.deployment)
        return report
