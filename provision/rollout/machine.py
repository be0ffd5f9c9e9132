"""The rollout state machine: promote one spec through its environments, in order.

For each environment of the chain not finished before:

0. the promotion gate: every environment finished earlier in this rollout must still
   resolve to the spec it was applied with (its recorded resolved-spec digest); when
   one does not (a change it shares with this one), the rollout halts (exit 4) and only
   a new rollout, through the earlier environments first, promotes the new spec;
1. plan it (or, on resume after an approval, load the plan that was approved);
2. a protected environment (or ``approval: true``) with changes needs an approval of
   exactly that plan: without one the plan is stored and the rollout halts (exit 4);
   if the spec or the environment's state moved since, the approval is void and the
   rollout halts again with a new plan;
3. apply it, stage by stage, with the policy gates before and after every stage (a
   mandatory violation halts with exit 3, a failed stage with exit 1);
4. run its health checks against the live environment (any failure halts, exit 4).

``--rollback-on-failure`` returns the failed environment's applied stages to their
previous inputs, in reverse order. Environments already at the desired state are
recorded ``unchanged``. Every step goes into the run history; the state is saved
after every environment so ``--resume`` never redoes a finished one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from provision.engine.orchestrator import ApplyReport, Hooks
from provision.errors import PolicyViolation, ProvisionError, StalePlanError
from provision.history import History, RunRecorder
from provision.plan.model import Plan
from provision.rollout.health import CheckResult, run_checks
from provision.rollout.ports import DriverFactory, EnvDriver
from provision.rollout.state import EnvState, RolloutState
from provision.vocabulary import (ExitCode, GateStatus, HaltGate, Outcome, StageStatus,
                                  StepKind)


class RolloutUI(Protocol):
    """Where the rollout reports progress (NDJSON events and/or human lines)."""

    def emit(self, event: str, **fields: Any) -> None: ...

    def say(self, text: str) -> None: ...

    def hooks_for(self, env: str) -> Hooks: ...


# (env, plan, plan digest) -> True when a person at the terminal approved it.
Ask = Callable[[str, Plan, str], bool]


@dataclass(frozen=True)
class Halt:
    """Where and why a rollout stopped, and what to do next."""

    env: str
    gate: str          # a HaltGate value: approval | policy | stage | health | promotion
    stage: str         # the stage concerned ('' for env-level gates)
    what: str          # the rule ids, the check names, or the plan digest
    reason: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return {"env": self.env, "gate": self.gate, "stage": self.stage, "what": self.what,
                "reason": self.reason, "hint": self.hint}


@dataclass(frozen=True)
class RolloutResult:
    outcome: Outcome
    exit_code: ExitCode
    halt: Halt | None = None


class Rollout:
    def __init__(self, state: RolloutState, *, history: History, record: RunRecorder,
                 factory: DriverFactory, ui: RolloutUI, plans_dir: Path,
                 ask: Ask | None = None) -> None:
        self.state, self.history, self.record = state, history, record
        self.factory, self.ui, self.plans_dir, self.ask = factory, ui, plans_dir, ask
        self._applying = False       # the current step's apply has begun

    @property
    def run_id(self) -> str:
        return self.record.id

    def run(self) -> RolloutResult:
        """Go through the chain; the result says how the rollout ended (also recorded)."""
        self.save()
        for env in self.state.chain:
            result = self.step(env)
            if result is not None:
                return result
        return RolloutResult(Outcome.APPLIED, ExitCode.OK)

    def step(self, env: str) -> RolloutResult | None:
        """Take ``env`` (one environment of the chain) as far as it goes: None when it is
        done (applied or unchanged, now or earlier), else how the rollout stops there.
        A rollout workflow runs one step per environment (provision.executor.rollout_*)."""
        es = self.state.envs[env]
        if es.done:
            self.ui.say(f"{env}: {es.status} earlier in this rollout; not redone")
            return None
        self.record.env = env
        self._applying = False
        try:
            result = self._environment_closed(env, es)
        except ProvisionError as exc:
            # An error before the apply (the environment could not be taken: a wrong
            # passphrase, a lock) changes nothing: an environment waiting at its gate
            # keeps waiting, with its plan and any approval of it.
            keep = es.waiting and not self._applying
            if not keep:
                es.status = StageStatus.FAILED.value
            es.reason = exc.message
            self.record.step(StepKind.ERROR, "error", StageStatus.FAILED, env=env,
                             detail={"error": exc.message,
                                     **({"plan_digest": es.plan_digest} if keep else {})})
            self.save()
            self.ui.emit("env_done", env=env, status=es.status)
            result = RolloutResult(Outcome.FAILED, ExitCode.ERROR, Halt(
                env, HaltGate.STAGE.value, "", "", exc.message,
                exc.hint or f"fix the cause, then: provision rollout --resume {self.run_id}"))
        self.save()
        return result

    # -- one environment -----------------------------------------------------------------
    def _environment_closed(self, env: str, es: EnvState) -> RolloutResult | None:
        driver = self.factory(env, self.ui.hooks_for(env))
        try:
            return self._environment(env, es, driver)
        finally:
            driver.close(es.status)

    def _environment(self, env: str, es: EnvState, driver: EnvDriver) -> RolloutResult | None:
        self.record.update(detail={"graph": driver.stage_graph})
        self.ui.emit("env_start", env=env)
        self.ui.say(f"[bold]environment {env}[/bold]")
        halted = self._promotion(env, es, driver)
        if halted is not None:
            return halted
        resolved = driver.resolved_digest()     # what is planned and applied here
        result = self._plan_and_apply(env, es, driver)
        if es.done:
            es.resolved_digest = resolved
        return result

    def _promotion(self, env: str, es: EnvState, driver: EnvDriver) -> RolloutResult | None:
        """The promotion gate: halt when an environment finished earlier in this rollout
        no longer resolves to the spec it was applied with (``env`` would get a
        configuration it never ran); None when every one still does."""
        earlier = [e for e in self.state.chain[: self.state.chain.index(env)]
                   if self.state.envs[e].done]
        if not earlier:
            return None
        now = driver.resolved_digests(earlier)
        changed = [e for e in earlier if not self.state.envs[e].resolved_digest
                   or now.get(e) != self.state.envs[e].resolved_digest]
        if not changed:
            return None
        names = ", ".join(changed)
        reason = (f"the spec as resolved for {names} is not the one applied there in this "
                  f"rollout (it changed since): '{env}' would get a configuration {names} "
                  "never ran")
        es.status, es.reason = StageStatus.BLOCKED.value, reason
        es.plan_digest = es.plan_file = ""     # any approval of env's plan goes with it
        self.record.step(StepKind.PROMOTION, "promotion", GateStatus.FAILED, env=env,
                         detail={"changed": changed, "reason": reason})
        self.ui.emit("gate", env=env, gate=HaltGate.PROMOTION.value,
                     status=GateStatus.FAILED.value, changed=changed, reason=reason)
        self.ui.emit("env_done", env=env, status=es.status)
        chain = " -> ".join(self.state.chain)
        return RolloutResult(Outcome.HALTED, ExitCode.HALTED, Halt(
            env, HaltGate.PROMOTION.value, "", names, reason,
            f"start a new rollout, which takes the spec as it is now through {chain}: "
            f"provision rollout {self.state.spec_file} --to {self.state.target}"))

    def _plan_and_apply(self, env: str, es: EnvState, driver: EnvDriver
                        ) -> RolloutResult | None:
        plan: Plan | None = None
        saved = False
        if es.waiting:
            plan, saved = self._approved_plan(env, es, driver)
            if plan is None and es.waiting:        # still no approval: halt again
                return self._halt_for_approval(env, es, driver, None)
        if plan is None:
            plan = driver.plan()
            digest = driver.plan_digest(plan)
            changes = plan.summary()
            self.record.step(StepKind.PLAN, "plan",
                             Outcome.PLANNED if plan.has_changes() else Outcome.NO_CHANGES,
                             detail={"plan_digest": digest, "changes": changes})
            self.ui.emit("plan", env=env, plan_digest=digest, changes=changes,
                         has_changes=plan.has_changes())
            if plan.has_changes() and driver.needs_approval:
                # An approval binds to the plan's digest: one given before (the same plan
                # made again after a failed attempt) counts, as ``approve`` counts it.
                approval = self.history.approval(self.run_id, env, digest)
                if approval is None:
                    if self.ask is None or not self.ask(env, plan, digest):
                        return self._halt_for_approval(env, es, driver, plan)
                    approval = self.history.approve(self.run_id, env, plan_digest=digest,
                                                    comment="approved at the terminal")
                self._approved_step(env, digest, approval.who)
                es.plan_digest = digest
                saved = True
        return self._apply_and_check(env, es, driver, plan, saved)

    def _approved_plan(self, env: str, es: EnvState, driver: EnvDriver
                       ) -> tuple[Plan | None, bool]:
        """On resume: the stored plan if it is approved and still current; None (and
        the approval voided, state reset) when spec or state moved since."""
        plan = driver.load_plan(Path(es.plan_file))
        moved = driver.moved(plan)
        if moved:
            self._void(env, es, moved)
            return None, False
        approved = self.history.approval(self.run_id, env, es.plan_digest)
        if approved is None:
            return None, False
        self._approved_step(env, es.plan_digest, approved.who)
        return plan, True

    def _void(self, env: str, es: EnvState, reason: str) -> None:
        self.record.step(StepKind.APPROVAL, "approval", GateStatus.VOIDED, env=env,
                         detail={"plan_digest": es.plan_digest, "reason": reason})
        self.ui.emit("gate", env=env, gate="approval", status=GateStatus.VOIDED.value,
                     plan_digest=es.plan_digest, reason=reason)
        self.ui.say(f"  [yellow]approval of {env} void[/yellow]: {reason}; planning again")
        es.status, es.plan_digest, es.plan_file = StageStatus.PENDING.value, "", ""

    def _approved_step(self, env: str, digest: str, who: str) -> None:
        self.record.step(StepKind.APPROVAL, "approval", GateStatus.APPROVED, env=env,
                         detail={"plan_digest": digest, "who": who})
        self.ui.emit("gate", env=env, gate="approval", status=GateStatus.APPROVED.value,
                     plan_digest=digest, who=who)
        self.ui.say(f"  approval of {env} by {who} matches plan {digest}")

    def _halt_for_approval(self, env: str, es: EnvState, driver: EnvDriver,
                           plan: Plan | None) -> RolloutResult:
        if plan is not None:       # a new plan: store it; approvals bind to its digest
            path = self.plans_dir / f"{env}.plan.json"
            driver.save_plan(plan, path)
            es.plan_file, es.plan_digest = str(path), driver.plan_digest(plan)
        es.status, es.reason = GateStatus.WAITING.value, "approval needed"
        self.record.step(StepKind.APPROVAL, "approval", GateStatus.WAITING, env=env,
                         detail={"plan_digest": es.plan_digest, "plan_file": es.plan_file})
        self.record.update(plan_digest=es.plan_digest)
        approve = f"provision approve {self.run_id} --env {env}"
        resume = f"provision rollout --resume {self.run_id}"
        self.ui.emit("approval_needed", env=env, run_id=self.run_id, plan_digest=es.plan_digest,
                     plan_file=es.plan_file, approve=approve, resume=resume)
        return RolloutResult(Outcome.HALTED, ExitCode.HALTED, Halt(
            env, HaltGate.APPROVAL.value, "", es.plan_digest,
            f"environment '{env}' is protected: its plan needs an approval",
            f"review {es.plan_file}, then run: {approve}  and then: {resume}"))

    def _apply_and_check(self, env: str, es: EnvState, driver: EnvDriver, plan: Plan,
                         saved: bool) -> RolloutResult | None:
        report: ApplyReport | None = None
        if plan.has_changes():
            remembered = driver.remember() if self.state.rollback_on_failure else None
            self._applying = True
            report = driver.apply(plan, saved=saved)
            stopped = self._apply_result(env, es, driver, report, remembered, saved)
            if stopped is not None:
                return stopped
        health = self._health(env, driver)
        if health:
            names = ", ".join(r.name for r in health)
            if report is not None and self.state.rollback_on_failure:
                self._rollback(env, driver, report, remembered)
            es.status, es.reason = StageStatus.FAILED.value, f"health checks failed: {names}"
            self.ui.emit("env_done", env=env, status=es.status)
            first = health[0]
            return RolloutResult(Outcome.HALTED, ExitCode.HALTED, Halt(
                env, HaltGate.HEALTH.value, "", names,
                f"health check '{first.name}' failed: {first.detail}"
                + (f" ({first.location})" if first.location else ""),
                f"fix {env} (or the check), then: provision rollout --resume {self.run_id}"))
        es.status = (StageStatus.APPLIED if plan.has_changes() else StageStatus.UNCHANGED).value
        es.reason = ""
        self.ui.emit("env_done", env=env, status=es.status)
        self.ui.say(f"  {env}: [green]{es.status}[/green]")
        return None

    def _apply_result(self, env: str, es: EnvState, driver: EnvDriver, report: ApplyReport,
                      remembered: Any, saved: bool) -> RolloutResult | None:
        errors = [o for o in report.outcomes if o.error is not None]
        if not errors:
            stopped = [o.stage for o in report.outcomes if not StageStatus(o.status).ok]
            if not stopped:
                return None
            # No stage failed, yet not all ran: the run was interrupted.
            es.status, es.reason = StageStatus.INTERRUPTED.value, "interrupted"
            self.ui.emit("env_done", env=env, status=es.status)
            return RolloutResult(Outcome.INTERRUPTED, ExitCode.INTERRUPTED, Halt(
                env, HaltGate.STAGE.value, stopped[0], "", f"interrupted; stages not finished: "
                f"{', '.join(stopped)}", f"provision rollout --resume {self.run_id}"))
        first = errors[0]
        stale = next((o for o in errors if isinstance(o.error, StalePlanError)), None)
        if stale is not None and saved and not any(
                StageStatus(o.status) is StageStatus.APPLIED for o in report.outcomes):
            self._void(env, es, stale.error.message if stale.error else "the plan moved")
            return self._halt_for_approval(env, es, driver, driver.plan())
        if self.state.rollback_on_failure:
            self._rollback(env, driver, report, remembered)
        error = first.error
        assert error is not None
        if isinstance(error, PolicyViolation):
            verdict: Any = error.verdict
            rules = sorted({r.rule_id for r in verdict.blocking_results()})
            es.status, es.reason = StageStatus.BLOCKED.value, error.message
            self.ui.emit("env_done", env=env, status=es.status)
            return RolloutResult(Outcome.POLICY_VIOLATION, ExitCode.POLICY, Halt(
                env, HaltGate.POLICY.value, first.stage, ", ".join(rules), error.message,
                f"fix the resources (or the rules' enforcement), then: "
                f"provision rollout --resume {self.run_id}"))
        es.status, es.reason = StageStatus.FAILED.value, error.message
        self.ui.emit("env_done", env=env, status=es.status)
        return RolloutResult(Outcome.FAILED, ExitCode.ERROR, Halt(
            env, HaltGate.STAGE.value, first.stage, "", error.message,
            error.hint or f"fix the cause, then: provision rollout --resume {self.run_id}"))

    def _rollback(self, env: str, driver: EnvDriver, report: ApplyReport,
                  remembered: Any) -> None:
        touched = {o.stage for o in report.outcomes
                   if StageStatus(o.status) in (StageStatus.APPLIED, StageStatus.FAILED)}
        order = [s for s in reversed(list(driver.stage_graph)) if s in touched]
        if not order:
            return
        self.ui.say(f"  rolling back {env}: {', '.join(order)}")
        for stage, error in driver.rollback(remembered, order).items():
            status = StageStatus.FAILED if error else StageStatus.ROLLED_BACK
            self.record.step(StepKind.ROLLBACK, stage, status, env=env,
                             detail={"error": error} if error else {})
            self.ui.emit("rollback", env=env, stage=stage, status=status.value,
                         **({"error": error} if error else {}))

    def _health(self, env: str, driver: EnvDriver) -> list[CheckResult]:
        """Run the environment's health checks; the failed ones (empty: all passed)."""
        checks = driver.health_checks
        if not checks:
            return []

        def report(r: CheckResult) -> None:
            self.ui.emit("health_check", env=env, **r.to_dict())
            colour = "green" if r.passed else "red"
            self.ui.say(f"  health [{colour}]{'ok' if r.passed else 'FAILED'}[/{colour}] "
                        f"{r.name}: {r.detail}")

        results = run_checks(checks, driver.probe(), on_result=report)
        failed = [r for r in results if not r.passed]
        status = GateStatus.FAILED if failed else GateStatus.PASSED
        self.record.step(StepKind.HEALTH, "health", status, env=env,
                         detail={"checks": [r.to_dict() for r in results],
                                 **({"reason": "; ".join(r.detail for r in failed)} if failed
                                    else {})})
        self.ui.emit("gate", env=env, gate="health", status=status.value,
                     failed=[r.name for r in failed])
        return failed

    def save(self) -> None:
        """Keep the rollout's state (and chain) in its run record."""
        self.record.update(detail={"rollout": self.state.to_dict(),
                                   "envs": list(self.state.chain)})
