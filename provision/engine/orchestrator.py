"""Plan, apply and destroy a resolved spec, stage by stage.

A stage is one stack named ``<spec>.<env>.<stage>``, changed through the
:class:`~provision.engine.protocol.Engine` seam (the real Pulumi engine in the
product, :class:`~provision.engine.testing.FakeEngine` in tests). Stages are
scheduled by the stage DAG (``provision.engine.schedule``): each starts as soon
as every stage it depends on has finished, bounded by ``parallel``; a stage that
fails or is blocked skips only its dependents, each with the reason. Each
downstream stage receives its upstream stages' outputs. Before a stage changes
anything its planned changes go through the policy gate; after it, its live
state (read back from the cloud through the adapters) goes through the gate again.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from provision.engine.declare import stage_declaration
from provision.engine.freshness import NO_STATE
from provision.engine.hooks import Hooks
from provision.engine.protocol import DestroyRequest, ImportRequest, StackProgram, StackSnapshot
from provision.engine.renames import refuse_renames
from provision.engine.report import (ApplyReport, StageOutcome, apply_skip_reason,
                                     destroy_skip_reason, destroy_succeeded)
from provision.engine.schedule import schedule
from provision.engine.stack_values import Upstream
from provision.engine.stage_apply import StageApply
from provision.errors import (ImportRefusedError, PlanError, ProtectedResourceError, ProvisionError,
                              StageFailedError, StalePlanError)
from provision.graph.stages import Stage
from provision.plan.model import Change, Plan, StagePlan
from provision.spec.model import Environment, Spec
from provision.vocabulary import Operation, StageStatus

# Callers of the orchestrator find the run's report and hooks here too.
__all__ = ["ApplyReport", "Hooks", "Orchestrator", "StageOutcome", "ensure_plan_matches",
           "refuse_protected", "spec_digest"]


def spec_digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(Path(p).read_bytes())
    return h.hexdigest()


class _EarlyPreviews:
    """Previews of stages started before their upstream stages are planned, each with
    the upstream values it was declared with."""

    def __init__(self, preview: Callable[[Stage, Upstream], StagePlan], parallel: int) -> None:
        self._preview = preview
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="early")
        self._started: dict[str, tuple[dict[str, Any], Future[StagePlan]]] = {}

    def start(self, stage: Stage, upstream: Upstream) -> None:
        self._started[stage.name] = (dict(upstream),
                                     self._pool.submit(self._preview, stage, upstream))

    def result(self, stage: str, upstream: Upstream) -> StagePlan | None:
        """The early preview of ``stage`` if it was declared with ``upstream``; None when
        there was none, it was declared otherwise, or it failed (the stage is then
        previewed again, and a real failure is reported by that preview)."""
        found = self._started.pop(stage, None)
        if found is None:
            return None
        values, future = found
        try:
            if values != dict(upstream):
                # Not the values the plan gives: wait until it ends (never two previews of
                # one stack at once), then discard it.
                if not future.cancel():
                    future.exception()
                return None
            return future.result()
        except ProvisionError:
            return None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Orchestrator(StageApply):
    """Plan, apply, destroy and import one environment's stages (see the module doc);
    built with the collaborators of :class:`~provision.engine.stack_values.StackValues`."""

    def plan(self) -> Plan:
        """Preview every selected stage; independent stages are planned in parallel, each
        stage after the stages it depends on (their planned values flow downstream).

        A stage whose upstream stages all have a stack is also previewed early, beside
        them, with the upstream values their state holds (see :class:`_EarlyPreviews`);
        once they are planned, that preview stands when the values it was declared with
        are the ones the plan gives, else the stage is previewed again. A no-op plan of
        a chain of stages then takes about as long as its slowest stage, not their sum.

        Raises the first :class:`ProvisionError` of a stage (stages not started yet are
        not planned), and :class:`RenamedResourceError` for a plan that creates and deletes
        the same cloud resource under two ids (``provision.engine.renames``)."""
        planned: dict[str, Change] = {}
        lock = threading.Lock()
        order = [s.name for s in self.stages.stages if self._active(s)]
        early = _EarlyPreviews(self._preview, self.parallel)

        def run(name: str) -> tuple[StagePlan, str]:
            self.hooks.stage_start(name, Operation.PLAN)
            stage = self.stages.stage(name)
            with lock:
                planned_now = dict(planned)
            upstream = self._upstream(stage, planned_now)
            stage_plan = early.result(name, upstream) or self._preview(stage, upstream)
            with lock:
                planned.update((c.id, c) for c in stage_plan.changes)
            # A stage without a stack is recorded as NO_STATE, though its preview has
            # created the stack meanwhile: empty, so state_unchanged() still holds for it.
            snap = self._snapshot(name)
            return stage_plan, snap.digest if snap else NO_STATE

        try:
            for name in order:
                stage = self.stages.stage(name)
                ups = [d for d in stage.depends_on if d in order]
                if ups and all(self._snapshot(d) is not None for d in ups):
                    early.start(stage, self._upstream(stage, {}))
            results = schedule(order, {n: self.stages.stage(n).depends_on for n in order}, run,
                               succeeded=lambda r: True, skip=lambda n, c, r: r,
                               parallel=self.parallel)
        finally:
            early.close()
        plan = Plan(spec=self.spec.name, env=self.env.name, spec_file=self.spec.path)
        for name in order:
            stage_plan, digest = results[name]
            plan.stages.append(stage_plan)
            plan.state_digests[name] = digest
        refuse_renames(plan, self.registry)
        return plan

    # -- apply -----------------------------------------------------------------------
    def apply(self, plan: Plan, *, check_fresh: bool = False) -> ApplyReport:
        """Apply ``plan``: each stage as soon as the stages it depends on succeeded
        (at most ``parallel`` at once); a stage that does not succeed skips only its
        dependents. With ``check_fresh`` (a saved plan), a stage whose state or
        planned changes moved since the plan was made fails with
        :class:`StalePlanError`. Outcomes are listed in the plan's stage order."""
        order = self.apply_order(plan)
        results = schedule(
            order, {n: self.stages.stage(n).depends_on for n in order},
            lambda name: self.apply_one(name, plan, check_fresh=check_fresh),
            succeeded=lambda o: o.status.ok, skip=self._skipped, parallel=self.parallel)
        return ApplyReport([results[n] for n in order])

    def apply_order(self, plan: Plan) -> list[str]:
        """The stages ``apply(plan)`` runs, in the stage graph's order."""
        planned = {s.name for s in plan.stages}
        return [s.name for s in self.stages.stages if s.name in planned]

    def _skipped(self, stage: str, cause: str, caused_by: StageOutcome) -> StageOutcome:
        """The outcome of ``stage``, not applied because ``cause`` (a stage it depends on,
        directly or through others) did not succeed."""
        return self._skip(stage, cause, apply_skip_reason(
            self.stages.stage(stage).depends_on, cause, caused_by.status))

    def import_resource(self, resource_id: str, cloud_id: str) -> str:
        """Adopt the existing cloud resource ``cloud_id`` as the spec's ``resource_id``
        into its stage's stack, changing nothing in the cloud; returns the stage name.

        Raises :class:`ImportRefusedError` when the stage already manages it, and
        :class:`StageFailedError` when the cloud has no such resource (the stack then
        stays as it was).
        """
        stage = self.stages.stage_of(resource_id)
        snap = self._snapshot(stage.name, fresh=True)
        if snap is not None and resource_id in snap.outputs:
            raise ImportRefusedError(
                f"resource '{resource_id}' is already managed by stage '{stage.name}'",
                hint="nothing to import: `provision plan` compares it with the spec")
        declared = stage_declaration(self.spec, stage.resources, self.registry,
                                     self._upstream(stage, {}))
        program = StackProgram(tuple(replace(d, import_id=cloud_id) if d.id == resource_id
                                     else d for d in declared.resources))
        self.hooks.stage_start(stage.name, Operation.IMPORT)
        try:
            result = self.engine.import_resources(ImportRequest(
                self.stack_name(stage.name), program, on_step=self._step_hook(stage.name)))
        except StageFailedError as exc:
            self._done(stage.name, StageStatus.FAILED)
            raise StageFailedError(stage.name, exc.reason, hint=exc.hint,
                                   resource=exc.resource) from None
        self._snapshots.put(stage.name, StackSnapshot(outputs=result.outputs, digest=""))
        self._done(stage.name, StageStatus.APPLIED, result)
        return stage.name

    # -- destroy ---------------------------------------------------------------------
    def destroy(self) -> ApplyReport:
        """Destroy every selected stage, each after every stage that depends on it; a
        stage that fails keeps the stages it depends on (they are skipped).

        Raises :class:`ProtectedResourceError` before any stage is touched when a
        resource the destroy covers has ``protect: true``."""
        refuse_protected(self.spec, self.selection)
        order, dependents = self.destroy_order()
        results = schedule(
            order, dependents, self.destroy_one, succeeded=destroy_succeeded,
            skip=lambda name, cause, _: self._skip(name, cause, destroy_skip_reason(cause)),
            parallel=self.parallel)
        return ApplyReport([results[n] for n in order])

    def destroy_order(self) -> tuple[list[str], dict[str, list[str]]]:
        """The stages ``destroy`` runs, in order, and for each the stages it waits for
        (those that depend on it)."""
        order = [s.name for s in reversed(self.stages.stages)]
        dependents: dict[str, list[str]] = {n: [] for n in order}
        for stage in self.stages.stages:
            for dep in stage.depends_on:
                dependents.setdefault(dep, []).append(stage.name)
        return order, dependents

    def destroy_one(self, name: str) -> StageOutcome:
        """Destroy the stage ``name``, every stage that depends on it destroyed already."""
        return self._timed(name, lambda: self._destroy_stage(name))

    def _destroy_stage(self, name: str) -> StageOutcome:
        stage = self.stages.stage(name)
        if self.stop.is_set():
            return self._skip(name, "", "not started: the run was interrupted")
        if not self._active(stage):
            return StageOutcome(name, StageStatus.SKIPPED, reason="no selected resource in it")
        if self._snapshot(name, fresh=True) is None:
            return StageOutcome(name, StageStatus.SKIPPED, reason="nothing recorded to destroy")
        self.hooks.stage_start(name, Operation.DESTROY)
        chosen = self._chosen(stage)
        try:
            result = self.engine.destroy(DestroyRequest(
                self.stack_name(name), targets=tuple(chosen) if chosen is not None else None,
                on_step=self._step_hook(name)))
        except ProvisionError as exc:
            return self._done(name, StageStatus.FAILED, error=exc)
        return self._done(name, StageStatus.DESTROYED, result)


def refuse_protected(spec: Spec, selection: set[str] | None) -> None:
    """Raise :class:`ProtectedResourceError` when a destroy of ``selection`` (None: every
    resource) covers a resource marked ``protect: true``; called before anything is deleted."""
    protected = [res for rid, res in sorted(spec.resources.items())
                 if res.protect and (selection is None or rid in selection)]
    if protected:
        raise ProtectedResourceError(
            [(res.id, str(res.location) if res.location else "") for res in protected])


def ensure_plan_matches(plan: Plan, spec: Spec, env: Environment, digest: str) -> None:
    if plan.spec != spec.name or plan.env != env.name:
        raise StalePlanError(f"the plan is for {plan.spec}/{plan.env}, not {spec.name}/{env.name}")
    if plan.spec_digest and plan.spec_digest != digest:
        raise StalePlanError(f"the spec {spec.path} changed since the plan was made",
                             hint="make a new plan with `provision plan ... --out`")
    if not plan.stages:
        raise PlanError("the saved plan has no stages")
