"""``provision rollout`` and ``provision approve``: promotion with gates and approvals.

The state machine is :mod:`provision.rollout.machine`; this module wires it to the
real engine (:mod:`provision.cli.rollout_driver`), the run history and the terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path


from rich.console import Console

from provision.cli import rollout_gates
from provision.cli.live_view import make_progress
from provision.cli.progress import Progress
from provision.cli.policy_skip import announce_skipped, refuse_unless_bypassed
from provision.cli.recording import open_history
from provision.engine.clouds import home_dir
from provision.engine.orchestrator import Hooks, spec_digest
from provision.errors import PlanError, ProvisionError
from provision.history import History, RunRecorder
from provision.history.identity import who as current_who
from provision.plan.digest import file_digest
from provision.plan.model import Plan
from provision.rollout.machine import Ask, Rollout, RolloutResult
from provision.rollout.ports import EnvDriver
from provision.rollout.state import RolloutState, chain_to
from provision.spec.model import Environment
from provision.vocabulary import ExitCode, Operation, Outcome

err = Console(stderr=True, highlight=False, soft_wrap=True)


RolloutProgress = Progress   # hooks_for(env): events carry the environment


def _can_ask(as_json: bool, non_interactive: bool) -> bool:
    return sys.stdin.isatty() and not as_json and not non_interactive


def _ask_at_terminal(env: str, plan: Plan, digest: str) -> bool:
    from provision.plan.render_human import render_plan

    render_plan(plan, err)
    answer = input(f"approve and apply this plan to '{env}' ({digest})? (yes/no) ")
    return answer.strip() == "yes"


def rollout(spec: str, *, to: str, resume: str, as_json: bool, non_interactive: bool,
            rollback_on_failure: bool, policies: Path | None, no_policy: bool,
            parallel: int, executor: str | None = None, bypass_policy: bool = False) -> int:
    """Start (or resume) a rollout; returns the exit code (0, 1, 3 or 4). ``no_policy`` on
    a chain with a protected environment needs ``bypass_policy``
    (:mod:`provision.cli.policy_skip`)."""
    history = open_history()
    try:
        skipped: list[Environment] = []
        if resume:
            state, record, executor = _resumed(history, resume, executor)
        else:
            state, record, skipped = _started(history, spec, to, rollback_on_failure, policies,
                                              no_policy, bypass_policy)
        return _run(history, state, record, as_json=as_json,
                    ask=_ask_at_terminal if _can_ask(as_json, non_interactive) else None,
                    parallel=parallel, executor=executor, skipped=skipped,
                    bypass_policy=bypass_policy)
    finally:
        history.close()


def _started(history: History, spec: str, to: str, rollback_on_failure: bool,
             policies: Path | None, no_policy: bool, bypass_policy: bool = False
             ) -> tuple[RolloutState, RunRecorder, list[Environment]]:
    """A new rollout's state and run record, and the environments whose policies
    ``--no-policy`` skips (none without it); refuses --no-policy on a protected one
    without ``bypass_policy`` before the run is recorded."""
    import providers
    from provision import spec as specs

    if not spec or not to:
        raise PlanError("rollout needs SPEC and --to ENV (or --resume RUN_ID)")
    raw = specs.load(spec)
    specs.validate(raw, providers.registry())
    chain = chain_to(raw.promotion, to, spec)
    envs = [raw.environments[name] for name in chain]
    refuse_unless_bypassed(envs, no_policy=no_policy, bypass=bypass_policy, command="rollout")
    # Every environment of the chain that needs a passphrase has one, before the first
    # is applied: a rollout never stops at prod for a setting it could have asked first.
    from provision.engine.clouds import passphrase
    for name in chain:
        if not raw.environments[name].sandbox:
            passphrase(raw.environments[name])
    directory = policies or Path("policies")
    use = "" if no_policy or (policies is None and not directory.is_dir()) else str(directory.absolute())
    state = RolloutState(spec_file=str(Path(spec).absolute()), chain=chain,
                         rollback_on_failure=rollback_on_failure, policies=use)
    record = history.start(Operation.ROLLOUT, spec=raw.name, env=to, spec_file=spec,
                           spec_digest=spec_digest([spec]))
    return state, record, envs if no_policy else []


def _resumed(history: History, run_id: str,
             executor: str | None) -> tuple[RolloutState, RunRecorder, str | None]:
    """The halted rollout ``run_id``, its run record reopened, and the executor to resume
    it on: the one it started on (a rollout on a temporal executor is a workflow that
    waits there) unless ``executor`` names that same one. Raises PlanError for a run that
    is no rollout or an executor other than the rollout's."""
    run = history.run(run_id)
    if run["operation"] != Operation.ROLLOUT.value:
        raise PlanError(f"run {run['id']} is a {run['operation']}, not a rollout",
                        hint="--resume takes the run id a halted rollout printed")
    workflow = run["detail"].get(rollout_gates.WORKFLOW)
    started_on = str(workflow.get("executor", "")) if isinstance(workflow, dict) else ""
    if started_on:
        from provision.executor import executor_name

        if executor is not None and executor_name(executor, None) != started_on:
            raise PlanError(f"rollout {run['id']} runs on the {started_on} executor, "
                            f"not {executor}",
                            hint=f"provision rollout --resume {run['id']} (it resumes "
                                 f"on {started_on})")
        executor = started_on
    state = RolloutState.from_dict(run["detail"].get("rollout"), run["id"])
    record = history.resume(run["id"])
    record.update(spec_digest=spec_digest([state.spec_file]))
    return state, record, executor


def _run(history: History, state: RolloutState, record: RunRecorder, *, as_json: bool,
         ask: Ask | None, parallel: int, executor: str | None = None,
         skipped: list[Environment] | None = None, bypass_policy: bool = False) -> int:
    from provision.cli.rollout_driver import EngineDriver

    ui = make_progress(as_json=as_json, record=record, title=f"rollout {record.id}")
    asking: Ask | None = None
    if ask is not None:
        def asking(env: str, plan: Plan, digest: str) -> bool:
            ui.close()                 # no live redraw while a person reads and answers
            return ask(env, plan, digest)
    policies = Path(state.policies) if state.policies else None

    def notice(text: str) -> None:
        ui.emit("notice", message=text)
        ui.say(text)

    # On a temporal executor the rollout is a workflow; its steps (on this process's
    # workers) apply each environment as an environment workflow on the same server.
    runner = rollout_gates.workflow_rollout(state, record, executor)

    def factory(env: str, hooks: Hooks) -> EnvDriver:
        return EngineDriver(state.spec_file, env, hooks, policies=policies, parallel=parallel,
                            run_id=record.id, notice=notice,
                            executor=executor if runner is None else runner.stage_executor)

    ui.emit("run_started", run_id=record.id, operation=Operation.ROLLOUT.value,
            spec=record.spec, env=state.target, chain=state.chain, who=record.who)
    ui.say(f"rollout {record.id}: {' -> '.join(state.chain)}")
    if skipped:
        announce_skipped(record, skipped, bypass=bypass_policy, emit=ui.emit, err=err)
    machine = Rollout(state, history=history, record=record, factory=factory, ui=ui,
                      plans_dir=home_dir() / "rollouts" / record.id, ask=asking)
    try:
        result = machine.run() if runner is None else runner.run(machine, history)
    except KeyboardInterrupt:
        record.finish(Outcome.FAILED, exit_code=130, error="interrupted")
        raise
    except ProvisionError as exc:        # the rollout's workflow could not be run or followed
        record.finish(Outcome.FAILED, exit_code=int(ExitCode.ERROR), error=exc.message)
        ui.context.pop("env", None)
        ui.error(exc)                    # once, and before run_finished, the last line
        ui.emit("run_finished", run_id=record.id, outcome=Outcome.FAILED.value,
                exit_code=int(ExitCode.ERROR), error=exc.message)
        raise
    finally:
        ui.close()
    ui.context.pop("env", None)
    halt = result.halt
    failed = halt.reason if halt and result.outcome is not Outcome.HALTED else ""
    record.finish(result.outcome, exit_code=int(result.exit_code), error=failed,
                  detail={"halt": halt.to_dict() if halt else None})
    if halt and failed:             # a failure is an error event too, as for apply
        ui.emit("error", env=halt.env, message=halt.reason, hint=halt.hint)
    ui.emit("run_finished", run_id=record.id, outcome=result.outcome.value,
            exit_code=int(result.exit_code), halt=halt.to_dict() if halt else None,
            **({"error": failed} if failed else {}))
    _report(result, record.id, as_json)
    return int(result.exit_code)


def _report(result: RolloutResult, run_id: str, as_json: bool) -> None:
    halt = result.halt
    if result.exit_code is ExitCode.OK:
        if not as_json:
            err.print(f"[green]rollout complete[/green] (run {run_id}: provision runs show {run_id})")
        return
    if halt is None:
        return
    what = {"approval": f"plan {halt.what}", "policy": f"rule(s) {halt.what}",
            "health": f"check(s) {halt.what}", "stage": ""}.get(halt.gate, halt.what)
    where = f", stage '{halt.stage}'" if halt.stage else ""
    verb = ("halted" if result.exit_code in (ExitCode.HALTED, ExitCode.POLICY)
            else "interrupted" if result.exit_code is ExitCode.INTERRUPTED else "failed")
    lines = [f"rollout {verb} at environment '{halt.env}'{where} ({halt.gate}"
             + (f": {what})" if what else ")"),
             f"  {halt.reason}", f"  next: {halt.hint}", f"  run id: {run_id}"]
    err.print("\n".join(lines), markup=False)


def approve(run_id: str, env: str, *, comment: str, as_json: bool, yes: bool,
            non_interactive: bool) -> int:
    """Record an approval of ``env``'s stored plan in rollout ``run_id``: after showing
    the plan and asking at a terminal, or with ``yes``. Raises :class:`PlanError` when
    it cannot ask (no terminal, ``as_json``, ``non_interactive``) and ``yes`` is not given."""
    history = open_history()
    try:
        run = history.run(run_id)
        if run["operation"] != Operation.ROLLOUT.value:
            raise PlanError(f"run {run['id']} is a {run['operation']}, not a rollout",
                            hint="approve takes the run id a halted rollout printed")
        state = RolloutState.from_dict(run["detail"].get("rollout"), run["id"])
        es = state.envs.get(env)
        if es is None or not es.waiting:
            status = es.status if es else "not in this rollout"
            raise PlanError(f"rollout {run['id']} is not waiting for an approval of '{env}' "
                            f"({env}: {status})",
                            hint=_waiting_hint(state, run["id"]))
        digest = file_digest(Path(es.plan_file))
        if digest != es.plan_digest:
            raise PlanError(f"the stored plan {es.plan_file} does not match the digest the "
                            f"rollout printed ({es.plan_digest})",
                            hint="it was changed after the rollout halted: do not approve it; "
                                 f"run provision rollout --resume {run['id']} to plan again")
        given = history.approval(run["id"], env, digest)
        if given is not None:   # as the rollout's workflow refuses a second one on temporal
            raise PlanError(f"{env} in rollout {run['id']} is approved already (plan "
                            f"{digest}, by {given.who})",
                            hint=f"apply it with: provision rollout --resume {run['id']}")
        if not yes:
            if not _can_ask(as_json, non_interactive):
                # As apply and destroy: an approval is never given without a question
                # answered or a --yes given deliberately.
                raise PlanError(
                    "approve needs --yes when it cannot ask (not a terminal, --json or "
                    "--non-interactive)",
                    hint=f"review the stored plan {es.plan_file}, then run: provision "
                         f"approve {run['id']} --env {env} --yes")
            _show_stored_plan(es.plan_file)
            if input(f"approve this plan for '{env}' ({digest})? (yes/no) ").strip() != "yes":
                err.print("not approved")
                return int(ExitCode.ERROR)
        who = current_who()
        rollout_gates.send_approval(run, env, digest, comment, who)
        approval = history.approve(run["id"], env, plan_digest=digest, comment=comment, who=who)
    finally:
        history.close()
    progress = Progress(as_json=as_json)
    progress.emit("approval", run_id=approval.run_id, env=env, who=approval.who,
                  plan_digest=approval.plan_digest, comment=comment,
                  approval_id=approval.approval_id)
    if not as_json:
        err.print(f"approved plan {digest} for '{env}' in rollout {approval.run_id} as "
                  f"{approval.who}; apply it with: provision rollout --resume {approval.run_id}",
                  markup=False)
    return int(ExitCode.OK)


def _waiting_hint(state: RolloutState, run_id: str) -> str:
    waiting = state.waiting_env()
    if waiting:
        return f"it waits for: provision approve {run_id} --env {waiting}"
    stopped = next((e for e in state.chain if state.envs[e].reason
                    and not state.envs[e].done), "")
    if stopped:     # halted at a gate an approval cannot pass (health, promotion, ...)
        return (f"it stopped at '{stopped}': {state.envs[stopped].reason}; see "
                f"provision runs show {run_id}")
    return "only a rollout halted at a protected environment can be approved"


def _show_stored_plan(path: str) -> None:
    from provision.plan.render_human import render_plan
    from provision.plan.saved import read_plan

    render_plan(read_plan(Path(path)), err)


