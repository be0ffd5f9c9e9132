"""The composition root: from CLI arguments to a ready orchestrator.

This is the one place that ties the core to the adapter registry (``providers``)
and to the sandbox. It loads, validates and resolves the spec, orders its
stages, and builds the engine with the environment's cloud settings.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import providers
from provision import spec as specs
from provision.engine.clouds import (PASSPHRASE_VARIABLES, backend_url, cloud_configs, home_dir,
                                     passphrase)
from provision.engine import passphrase as passphrases
from provision.engine.hooks import Gate, Hooks, LiveReader
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import StackSnapshot
from provision.engine.runner import STACKS_PREFIX, EngineOptions, StackRunner
from provision.engine.statestore import StateStore, StoreRegistry
from provision.engine.supervise import Supervisor
from provision.engine.toolchain import find_toolchain
from provision.coerce import coerce_spec
from provision.errors import (EnvironmentNotFoundError, PassphraseError, SandboxNotRunningError,
                             SpecError)
from provision.graph.select import select, select_for_destroy
from provision.graph.stages import StageGraph, build_stages
from provision.provider import AdapterRegistry
from provision.spec.perf import gc_paused
from provision.sandbox import ENV_HOME, Sandbox
from provision.spec.model import Environment, Spec

if TYPE_CHECKING:
    from provision.executor import Executor, RunRef


def sandbox() -> Sandbox:
    return Sandbox(Path(os.environ.get(ENV_HOME) or home_dir() / "sandbox"))


@dataclass
class Loaded:
    spec: Spec             # resolved for ``env``
    env: Environment
    stages: StageGraph
    registry: AdapterRegistry
    selection: set[str] | None = None   # --target/--exclude; None: every resource
    targets: tuple[str, ...] = ()       # the --target / --exclude given
    excludes: tuple[str, ...] = ()
    spec_file: str = ""                 # the path the user gave (for hints naming commands)


def load(spec_path: str, env_name: str, *, targets: list[str] | None = None,
         excludes: list[str] | None = None, for_destroy: bool = False) -> Loaded:
    registry = providers.registry()
    with gc_paused():  # bulk parsing: the cyclic GC would only slow it down
        raw = specs.load(spec_path)
        specs.validate(raw, registry)   # the spec's own errors first, all at once
        if env_name not in raw.environments:
            raise EnvironmentNotFoundError(env_name, spec_path, sorted(raw.environments))
        resolved = specs.resolve(raw, env_name)
        # The clouds' documented limits again, now that variables have values.
        violations = specs.check_constraints(resolved, registry, overrides=False)
        if violations:
            raise SpecError(violations)
        stages = build_stages(resolved)
    selection = None
    if targets or excludes:
        pick = select_for_destroy if for_destroy else select
        selection = pick(stages.resource_graph, targets or [], excludes or [])
    return Loaded(resolved, resolved.environments[env_name], stages, registry, selection,
                  tuple(targets or ()), tuple(excludes or ()), spec_path)


def sandbox_settings(env: Environment) -> dict[str, dict[str, Any]] | None:
    if not env.sandbox:
        return None
    status = sandbox().status()
    if not status.running:
        raise SandboxNotRunningError(env.name)
    return status.cloud_settings()


def cloud_settings(env: Environment) -> dict[str, dict[str, Any]]:
    """The environment's non-secret cloud settings (``{cloud: {key: value}}``) as the
    adapters will see them: the sandbox's under a sandbox environment's own (only the
    environment's own when the sandbox is not running). The policy gate before a stage
    judges a region or location the spec leaves to them."""
    try:
        sandbox_part = sandbox_settings(env)
    except SandboxNotRunningError:
        sandbox_part = None
    return {name: dict(cfg.settings) for name, cfg in cloud_configs(env, sandbox_part).items()}


def state_store(loaded: Loaded) -> StateStore:
    """The spec's state backend as a store for the environment lock and the journal."""
    return _store(loaded.spec)


def _store(spec: Spec) -> StateStore:
    return StoreRegistry(providers.state_stores()).open(backend_url(spec))


def state_passphrase(spec: Spec, env: Environment) -> str:
    """The state passphrase of ``env`` (never a newly generated one while stacks exist)."""
    return passphrase(env, lambda: bool(_store(spec).list(STACKS_PREFIX)))


def engine(spec: Spec, env: Environment, *, parallel: int = 4,
           supervisor: Supervisor | None = None) -> StackRunner:
    """The engine for ``spec``'s stacks in ``env``: the real Pulumi engine
    (:class:`StackRunner`) with the environment's cloud settings (the sandbox's
    endpoints when it targets the sandbox). The only place that picks the engine.
    With ``supervisor``, every engine process is one of the run's (see supervise.py)."""
    configs = cloud_configs(env, sandbox_settings(env))
    options = EngineOptions(
        toolchain=find_toolchain(),
        backend_url=backend_url(spec),
        passphrase=state_passphrase(spec, env),
        cloud_configs=configs,
        work_dir=home_dir() / "work",
        parallel=max(parallel, 1) * 4,
        supervisor=supervisor,
        # A file backend's listing is a directory walk: cheaper than starting the CLI.
        state_store=_store(spec) if backend_url(spec).startswith("file://") else None,
    )
    return StackRunner(project=spec.name, options=options)


def orchestrator(loaded: Loaded, *, hooks: Hooks | None = None, parallel: int = 4,
                 gate: Gate | None = None, live_reader: LiveReader | None = None,
                 rollback_on_violation: bool = False, supervisor: Supervisor | None = None,
                 stop: threading.Event | None = None) -> Orchestrator:
    return Orchestrator(loaded.spec, loaded.env, loaded.stages, loaded.registry,
                        engine(loaded.spec, loaded.env, parallel=parallel, supervisor=supervisor),
                        hooks=hooks, gate=gate, live_reader=live_reader, parallel=parallel,
                        rollback_on_violation=rollback_on_violation,
                        selection=loaded.selection, stop=stop)


def executor(loaded: Loaded, flag: str | None, *, notice: Callable[[str], None],
             recover: Callable[[], object],
             started: Callable[[dict[str, str]], None] = lambda workflow: None) -> Executor:
    """The run's executor: ``--executor``, else PROVISION_EXECUTOR, else the spec's
    ``executor:``, else ``local`` (see provision/executor). ``recover`` repairs the
    environment's stacks before a stage is retried; ``started`` gets the workflow's ids."""
    from provision.executor import Choice, choose, executor_name
    from provision.executor.queues import stage_queues

    name = executor_name(flag, loaded.spec.executor)
    if name == "local":
        return choose(name)
    return choose(name, Choice(passphrase=lambda: state_passphrase(loaded.spec, loaded.env),
                               queues=stage_queues(loaded.spec, loaded.env, loaded.stages),
                               notice=notice, recover=recover, started=started))


def run_ref(loaded: Loaded, spec_file: str, run_id: str, **options: Any) -> RunRef:
    """The references a stage activity rebuilds this run from, on any worker."""
    from provision.executor import RunRef

    return RunRef(str(Path(spec_file).absolute()), loaded.env.name, run_id,
                  loaded.targets, loaded.excludes, **options)


def verify_state(loaded: Loaded, orch: Orchestrator) -> dict[str, StackSnapshot]:
    """Read every existing stack of the run once and verify the passphrase against each
    one's salt, before anything touches a cloud. Returns the snapshots by stage."""
    snaps = orch.snapshots()
    salts = {orch.stack_name(n): s.salt for n, s in snaps.items() if s.salt}
    try:
        passphrases.verify(state_passphrase(loaded.spec, loaded.env), salts)
    except PassphraseError as exc:
        raise _overridden(loaded.env, salts) or exc from None
    return snaps


def _overridden(env: Environment, salts: dict[str, str]) -> PassphraseError | None:
    """For a sandbox environment whose stacks were made with the generated passphrase
    file while a passphrase variable now overrides it: the error that says so."""
    variable = next((v for v in PASSPHRASE_VARIABLES if os.environ.get(v)), "")
    generated = home_dir() / "passphrase"
    if not (env.sandbox and variable and generated.is_file() and salts):
        return None
    # One stack is enough to tell (each check is about a second of PBKDF2).
    if not passphrases.matches(generated.read_text().strip(), next(iter(salts.values()))):
        return None
    return PassphraseError(
        f"the stacks of '{env.name}' were made with the generated passphrase {generated}, "
        f"but {variable} is set and takes precedence",
        hint=f"unset {variable} for commands on '{env.name}' (it is for the environments "
             "whose state you encrypt with your own passphrase)")
