"""What each command does, apart from argument parsing (main.py) and progress (progress.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from provision.cli import guard, session
from provision.cli.policy_skip import announce_skipped, refuse_unless_bypassed
from provision.cli.recording import recorded
from provision.history import RunRecorder
from provision.cli.live_view import make_progress
from provision.cli.progress import Progress, status_summary
from provision.engine.freshness import ensure_state_unchanged
from provision.engine.orchestrator import ensure_plan_matches, refuse_protected, spec_digest
from provision.engine.report import ApplyReport
from provision.errors import PlanError, PolicyViolation, ProvisionError
from provision.plan.digest import plan_digest
from provision.plan.model import Plan, StagePlan
from provision.vocabulary import Operation, Outcome, Phase, StageStatus

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_POLICY = 0, 1, 2, 3

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _render(plan: Plan, fmt: str, loaded: session.Loaded) -> None:
    if fmt == "terraform-json":
        from provision.plan.terraform import to_terraform_plan

        print(json.dumps(to_terraform_plan(plan, loaded.registry), indent=2, default=str))
    elif fmt == "human":
        from provision.plan.render_human import render_plan

        render_plan(plan, out)
    else:
        raise PlanError(f"unknown plan format '{fmt}'", hint="use human, json or terraform-json")


def plan(spec: str, env: str, *, fmt: str, detailed_exitcode: bool, out: Path | None,
         targets: list[str], excludes: list[str], parallel: int,
         policies: Path | None = None, no_policy: bool = False) -> int:
    loaded = session.load(spec, env, targets=targets, excludes=excludes)
    with recorded(Operation.PLAN, spec=loaded.spec.name, env=env, spec_file=spec,
                  spec_digest=spec_digest([spec])) as record:
        code = _plan(loaded, spec, fmt=fmt, detailed_exitcode=detailed_exitcode, out=out,
                     parallel=parallel, policies=policies, no_policy=no_policy, record=record)
    return code


def _plan(loaded: session.Loaded, spec: str, *, fmt: str, detailed_exitcode: bool,
          out: Path | None, parallel: int, policies: Path | None, no_policy: bool,
          record: RunRecorder) -> int:
    with guard.engine_run(loaded, Operation.PLAN, record.id, notice=lambda text: None) as run:
        orch = session.orchestrator(loaded, parallel=parallel, supervisor=run.supervisor)
        session.verify_state(loaded, orch)
        the_plan = orch.plan()
    the_plan.spec_digest = spec_digest([spec])
    the_plan.targets, the_plan.excludes = list(loaded.targets), list(loaded.excludes)
    report = _plan_policy(loaded, the_plan, policies, no_policy)
    if report is not None:
        record.policy("", Phase.PRE, [r.to_dict() for r in report.results])
    if fmt == "json":
        from provision.plan.render_json import plan_to_json

        doc = plan_to_json(the_plan, loaded.registry)
        if report is not None:
            doc["policy"] = json.loads(_report(report, "json"))
        print(json.dumps(doc, indent=2, default=str))
    else:
        _render(the_plan, fmt, loaded)
        if report is not None and fmt == "human":
            _show_plan_policy(report)
    if out is not None:
        from provision.plan.saved import write_plan

        write_plan(the_plan, out, loaded.registry)
        err.print(f"plan saved to {out}; apply it with: provision apply {out}")
    record.update(plan_digest=plan_digest(the_plan, loaded.registry),
                  detail={"changes": the_plan.summary()})
    code = EXIT_CHANGES if detailed_exitcode and the_plan.has_changes() else EXIT_OK
    if report is not None and report.blocking:
        # Apply would stop at the pre-stage gate: say so now (3 wins over 2).
        err.print(f"error: {len(report.blocking_results())} mandatory policy result(s) block "
                  "this plan; apply would stop before the first change", markup=False)
        code = EXIT_POLICY
    record.finish(Outcome.PLANNED if the_plan.has_changes() else Outcome.NO_CHANGES,
                  exit_code=code)
    return code


def _plan_policy(loaded: session.Loaded, the_plan: Plan, policies: Path | None,
                 no_policy: bool) -> Any:
    """The pre-phase policy results of the whole plan (shown; apply enforces them)."""
    directory = policies or Path("policies")
    if no_policy or (policies is None and not directory.is_dir()):
        return None
    from provision.policy import PolicyEngine

    engine = PolicyEngine.load(directory, env=loaded.env.name, registry=loaded.registry,
                               settings=session.cloud_settings(loaded.env))
    return engine.check_plan(the_plan)


def _report(report: Any, fmt: str) -> str:
    from provision.report import render

    return render(report, fmt)


def _show_plan_policy(report: Any) -> None:
    summary = status_summary(report) or "no rules apply"
    out.print(f"\nPolicy (checked again before and after each stage at apply): {summary}",
              markup=False)
    for r in report.results:
        if r.status.value in ("fail", "warn", "error", "deferred"):
            blocking = " (mandatory)" if r in report.blocking_results() else ""
            out.print(f"  {r.status.value}{blocking} {r.rule_id} {r.resource_id} "
                      f"({r.file}:{r.line}): {r.message}", markup=False)


def stage_graph(loaded: session.Loaded) -> dict[str, list[str]]:
    """{stage: [stages it depends on]} as the run history records it."""
    return {s.name: list(s.depends_on) for s in loaded.stages.stages}


def _is_saved_plan(path: str) -> bool:
    return path.endswith(".json")


def apply(spec: str, env: str, *, yes: bool, as_json: bool, policies: Path | None,
          no_policy: bool, targets: list[str], excludes: list[str], parallel: int,
          rollback_on_violation: bool = False, executor: str | None = None,
          bypass_policy: bool = False) -> int:
    """Apply a spec or a saved plan; the exit code (0, 1, 3). ``no_policy`` on a protected
    environment needs ``bypass_policy`` (:mod:`provision.cli.policy_skip`)."""
    saved: Plan | None = None
    if _is_saved_plan(spec):
        from provision.plan.saved import read_plan

        saved = read_plan(Path(spec))
        _check_saved_options(spec, saved, env, targets, excludes)
        spec, env = saved.spec_file, saved.env
        targets, excludes = saved.targets, saved.excludes
    elif not env:
        raise PlanError("apply needs --env ENV (or a saved plan file)")
    loaded = session.load(spec, env, targets=targets, excludes=excludes)
    refuse_unless_bypassed([loaded.env], no_policy=no_policy, bypass=bypass_policy,
                           command="apply")
    with recorded(Operation.APPLY, spec=loaded.spec.name, env=env, spec_file=spec,
                  spec_digest=spec_digest([spec])) as record:
        progress = make_progress(as_json=as_json, record=record, title=f"apply {spec} --env {env}")
        return _streamed(progress, lambda: _apply(
            loaded, spec, saved, progress, yes=yes, as_json=as_json, policies=policies,
            no_policy=no_policy, parallel=parallel, rollback_on_violation=rollback_on_violation,
            executor=executor, bypass_policy=bypass_policy))


def _check_saved_options(path: str, saved: Plan, env: str, targets: list[str],
                         excludes: list[str]) -> None:
    """A saved plan fixes its environment, targets and excludes: a flag that contradicts
    them is refused before anything is loaded or applied."""
    if env and env != saved.env:
        raise PlanError(f"{path} is a plan for environment '{saved.env}', not '{env}'",
                        hint=f"apply it without --env, or make a plan for '{env}' with: "
                             f"provision plan {saved.spec_file} --env {env} --out FILE")
    for flag, given, fixed in (("--target", targets, saved.targets),
                               ("--exclude", excludes, saved.excludes)):
        if given and sorted(given) != sorted(fixed):
            planned = " ".join(f"{flag} {v}" for v in fixed) or f"no {flag}"
            raise PlanError(f"{path} was planned with {planned}, not "
                            + " ".join(f"{flag} {v}" for v in given),
                            hint=f"apply it without {flag} (the plan's own selection is "
                                 "used), or make a new plan with the selection you want")



def _streamed(progress: Progress, body: Callable[[], int]) -> int:
    """Frame a command's events: ``run_started`` first, ``run_finished`` (with the exit
    code) last, also when the command fails with an error (exit 1): its ``error`` event
    comes before ``run_finished``, once (the CLI then does not emit it again)."""
    record = progress.record
    assert record is not None
    progress.emit("run_started", run_id=record.id, operation=record.operation.value,
                  spec=record.spec, env=record.env, who=record.who)
    try:
        code = body()
    except ProvisionError as exc:
        progress.error(exc)
        progress.emit("run_finished", run_id=record.id, outcome=Outcome.FAILED.value,
                      exit_code=EXIT_ERROR, error=exc.message)
        raise
    finally:
        progress.close()
    outcome = record.finished or (Outcome.FAILED if code else Outcome.APPLIED)
    progress.emit("run_finished", run_id=record.id, outcome=outcome.value, exit_code=code)
    return code


def _apply(loaded: session.Loaded, spec: str, saved: Plan | None, progress: Progress, *,
           yes: bool, as_json: bool, policies: Path | None, no_policy: bool, parallel: int,
           rollback_on_violation: bool, executor: str | None = None,
           bypass_policy: bool = False) -> int:
    record = progress.record
    assert record is not None
    record.update(detail={"graph": stage_graph(loaded)})
    if no_policy:
        announce_skipped(record, [loaded.env], bypass=bypass_policy, emit=progress.emit, err=err)
    gate, reader = policy_gate(loaded, policies, no_policy)
    with guard.engine_run(loaded, Operation.APPLY, record.id, notice=_notice(progress),
                          on_abort=_abort(record)) as run:
        orch = session.orchestrator(loaded, hooks=run.hooks(progress.hooks()), parallel=parallel,
                                    gate=gate, live_reader=reader,
                                    rollback_on_violation=rollback_on_violation,
                                    supervisor=run.supervisor, stop=run.stop)
        runner = session.executor(loaded, executor, notice=_notice(progress),
                                  recover=lambda: run.recover(orch),
                                  started=lambda wf: record.update(detail={"workflow": wf}))
        ref = session.run_ref(loaded, spec, record.id, no_policy=no_policy,
                              policies=str(policies.absolute()) if policies else None,
                              rollback_on_violation=rollback_on_violation)
        try:
            run.recover(orch)
            if saved is not None:
                ensure_plan_matches(saved, loaded.spec, loaded.env, spec_digest([spec]))
                ensure_state_unchanged(saved, orch.snapshots())
                the_plan = saved
            else:
                the_plan = orch.plan()
                the_plan.spec_digest = spec_digest([spec])
                if not as_json:
                    _render(the_plan, "human", loaded)
        except ProvisionError:
            if run.interrupted:
                return _interrupted(run, record, progress)
            raise
        run.planned = {s.name: _counts(s) for s in the_plan.stages}
        record.update(plan_digest=plan_digest(the_plan, loaded.registry),
                      detail={"changes": the_plan.summary()})
        if not the_plan.has_changes() and saved is None:
            violations = _judge_unchanged(gate, the_plan, progress)
            if violations:
                for violation in violations:
                    _show_violation(violation, progress)
                record.finish(Outcome.POLICY_VIOLATION, exit_code=EXIT_POLICY,
                              error=violations[0].message)
                progress.emit("summary", status=Outcome.POLICY_VIOLATION.value,
                              changes=the_plan.summary())
                run.finish(Outcome.POLICY_VIOLATION.value)
                return EXIT_POLICY
            record.finish(Outcome.NO_CHANGES, exit_code=EXIT_OK)
            progress.emit("summary", status=Outcome.NO_CHANGES.value, changes=the_plan.summary())
            progress.say("no changes; nothing to apply")
            run.finish("no-changes")
            return EXIT_OK
        if not yes:
            if saved is None and not (sys.stdin.isatty() and not as_json):
                raise PlanError("apply needs --yes when it cannot ask (not a terminal, or --json)")
            if saved is None and input("apply these changes? (yes/no) ").strip() != "yes":
                err.print("apply cancelled")
                record.finish(Outcome.FAILED, exit_code=EXIT_ERROR, error="cancelled")
                run.finish("cancelled")
                return EXIT_ERROR
        report = runner.apply(orch, the_plan, ref, check_fresh=saved is not None)
        if run.interrupted:
            return _interrupted(run, record, progress, report)
        try:
            code = _finish(report, progress, the_plan)
        except ProvisionError:
            run.finish(Outcome.FAILED.value)
            raise
        run.finish((Outcome.APPLIED if code == EXIT_OK else Outcome.POLICY_VIOLATION).value)
        return code


def _judge_unchanged(gate: Any, the_plan: Plan, progress: Progress) -> list[PolicyViolation]:
    """The gate before each stage of a plan that changes nothing: what the environment
    keeps is judged too, so a resource that violates a mandatory rule keeps the run from
    ending green. One violation per blocked stage (none without a gate)."""
    if gate is None:
        return []
    hooks = progress.hooks()
    violations: list[PolicyViolation] = []
    for stage in the_plan.stages:
        verdict = gate.check_pre(stage, the_plan)
        hooks.policy(stage.name, Phase.PRE, verdict)
        if verdict.blocking:
            violations.append(PolicyViolation(stage.name, Phase.PRE, verdict))
    return violations


def _counts(stage: StagePlan) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in stage.changes:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    return counts


def _notice(progress: Progress) -> Callable[[str], None]:
    def notice(text: str) -> None:
        progress.emit("notice", message=text)
        if not progress.as_json:
            err.print(text, markup=False)
    return notice


def _abort(record: RunRecorder) -> Callable[[list[str]], None]:
    def abort(stopped_at: list[str]) -> None:
        record.finish(Outcome.INTERRUPTED, exit_code=guard.EXIT_INTERRUPTED,
                      error="stopped at once by a second interrupt",
                      detail={"stopped_at": stopped_at})
    return abort


def _interrupted(run: guard.EngineRun, record: RunRecorder, progress: Progress,
                 report: ApplyReport | None = None) -> int:
    """Record where an interrupted run stopped (the stage it stopped in, or else the
    stages it did not start); exit code 130."""
    statuses = {o.stage: o.status.value for o in report.outcomes} if report else {}
    stopped = (run.stopped_at
               or [s for s, st in statuses.items() if st == StageStatus.INTERRUPTED.value]
               or [s for s, st in statuses.items() if st == StageStatus.SKIPPED.value])
    record.finish(Outcome.INTERRUPTED, exit_code=guard.EXIT_INTERRUPTED,
                  error=Outcome.INTERRUPTED.value + (f" in stage {', '.join(stopped)}" if stopped else ""),
                  detail={"stopped_at": stopped})
    run.finish(Outcome.INTERRUPTED.value)
    progress.emit("summary", status=Outcome.INTERRUPTED.value, stages=statuses, stopped_at=stopped,
                  run_id=record.id)
    where = f" at stage {', '.join(stopped)}" if stopped else ""
    err.print(f"interrupted{where} (run {record.id}); run the same command again to finish "
              "the work", markup=False)
    return guard.EXIT_INTERRUPTED


def _finish(report: ApplyReport, progress: Progress, the_plan: Plan) -> int:
    statuses = {o.stage: o.status.value for o in report.outcomes}
    record = progress.record
    for outcome in report.outcomes:
        if isinstance(outcome.error, PolicyViolation):
            _show_violation(outcome.error, progress)
            if record is not None:
                record.finish(Outcome.POLICY_VIOLATION, exit_code=EXIT_POLICY,
                              error=outcome.error.message)
            progress.emit("summary", status=Outcome.POLICY_VIOLATION.value, stages=statuses)
            return EXIT_POLICY
    failed = report.failed
    if failed is not None:
        if record is not None:
            record.finish(Outcome.FAILED, exit_code=EXIT_ERROR, error=failed.message)
        progress.error(failed)
        progress.emit("summary", status=Outcome.FAILED.value, stages=statuses)
        raise failed
    if record is not None:
        record.finish(Outcome.APPLIED, exit_code=EXIT_OK)
    progress.emit("summary", status=Outcome.APPLIED.value, stages=statuses,
                  changes=the_plan.summary(), run_id=record.id if record else None)
    progress.say("[green]apply complete[/green]"
                 + (f" (run {record.id}: provision runs show {record.id})" if record else ""))
    return EXIT_OK


def _show_violation(violation: PolicyViolation, progress: Progress) -> None:
    verdict: Any = violation.verdict
    results = list(verdict.blocking_results())
    progress.emit("policy_violation", stage=violation.stage, phase=violation.phase.value,
                  results=[r.to_dict() for r in results])
    err.print(f"error: {violation.message}", markup=False)
    for r in results:
        err.print(f"  {r.rule_id} [{r.status.value}] {r.resource_id} ({r.resource_type}) "
                  f"at {r.file}:{r.line}: {r.message}", markup=False)


def policy_gate(loaded: session.Loaded, policies: Path | None, no_policy: bool) -> tuple[Any, Any]:
    """The policy gate and live-state reader for apply (None when policies are off)."""
    if no_policy:
        return None, None
    directory = policies or Path("policies")
    if policies is None and not directory.is_dir():
        return None, None
    from provision.cli.gate import build_gate

    return build_gate(loaded, directory)


def destroy(spec: str, env: str, *, yes: bool, as_json: bool, targets: list[str],
            excludes: list[str], executor: str | None = None) -> int:
    loaded = session.load(spec, env, targets=targets, excludes=excludes, for_destroy=True)
    with recorded(Operation.DESTROY, spec=loaded.spec.name, env=env, spec_file=spec,
                  spec_digest=spec_digest([spec])) as record:
        progress = make_progress(as_json=as_json, record=record,
                                 title=f"destroy {spec} --env {env}")
        return _streamed(progress, lambda: _destroy(loaded, spec, record, progress, yes=yes,
                                                    as_json=as_json, executor=executor))


def _destroy(loaded: session.Loaded, spec: str, record: RunRecorder, progress: Progress, *,
             yes: bool, as_json: bool, executor: str | None = None) -> int:
    env = loaded.env.name
    refuse_protected(loaded.spec, loaded.selection)  # before asking, before any deletion
    if loaded.env.protected and not yes:
        raise ProvisionError(f"environment '{env}' is protected",
                             hint="destroying it needs --yes, given deliberately")
    if not yes:
        if not sys.stdin.isatty() or as_json:
            raise PlanError("destroy needs --yes when it cannot ask (not a terminal, or --json)")
        if input(f"destroy every resource of {loaded.spec.name} in {env}? (yes/no) ").strip() != "yes":
            err.print("destroy cancelled")
            record.finish(Outcome.FAILED, exit_code=EXIT_ERROR, error="cancelled")
            return EXIT_ERROR
    with guard.engine_run(loaded, Operation.DESTROY, record.id, notice=_notice(progress),
                          on_abort=_abort(record)) as run:
        orch = session.orchestrator(loaded, hooks=run.hooks(progress.hooks()),
                                    supervisor=run.supervisor, stop=run.stop)
        runner = session.executor(loaded, executor, notice=_notice(progress),
                                  recover=lambda: run.recover(orch),
                                  started=lambda wf: record.update(detail={"workflow": wf}))
        try:
            run.recover(orch)
        except ProvisionError:
            if run.interrupted:
                return _interrupted(run, record, progress)
            raise
        report = runner.destroy(orch, session.run_ref(loaded, spec, record.id))
        if run.interrupted:
            return _interrupted(run, record, progress, report)
        failed = report.failed
        statuses = {o.stage: o.status.value for o in report.outcomes}
        if failed is not None:
            run.finish(Outcome.FAILED.value)
            progress.emit("summary", status=Outcome.FAILED.value, stages=statuses)
            record.finish(Outcome.FAILED, exit_code=EXIT_ERROR, error=failed.message)
            raise failed
        run.finish(Outcome.DESTROYED.value)
    record.finish(Outcome.DESTROYED, exit_code=EXIT_OK)
    progress.emit("summary", status=Outcome.DESTROYED.value, stages=statuses)
    progress.say("[green]destroy complete[/green]")
    return EXIT_OK


def validate(spec: str) -> int:
    import providers
    from provision.spec import check

    checked = check(spec, providers.registry())
    err.print(f"{spec}: valid ({len(checked.resources)} resources, "
              f"{len(checked.environments)} environments)", markup=False)
    return EXIT_OK


def graph(spec: str, env: str, fmt: str) -> int:
    from provision.graph.views import render

    if not env:
        from provision import spec as specs

        env = next(iter(specs.load(spec).environments), "")
    loaded = session.load(spec, env)
    print(render(loaded.stages, fmt, loaded.spec))
    return EXIT_OK
