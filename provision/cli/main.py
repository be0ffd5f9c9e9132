"""The ``provision`` command line.

Exit codes (provision.vocabulary.ExitCode): 0 success (no changes for ``plan
--detailed-exitcode``), 1 error, 2 changes present (``plan --detailed-exitcode``),
drift found (``drift``) or a usage error (missing argument, unknown command or
option, invalid value: the usage line and the problem are printed), 3 mandatory
policy violation (``plan`` too, with or without ``--detailed-exitcode``: 3 wins
over 2), 4 rollout halted (approval or gate).
Every ProvisionError becomes a clear message on stderr and exit 1, never a
traceback; "internal error" means a bug (set PROVISION_DEBUG=1 to see its traceback).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console

from provision.cli import policy_cmd
from provision.cli.launch import EXIT_INTERRUPTED, INTERRUPTED_LINE, InterruptWatch
from provision.cli.params import Command, choice
from provision.errors import ProvisionError, SpecError

EXIT_USAGE = 2

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Multi-cloud provisioning: one spec, staged plans, policy gates.")
sandbox_app = typer.Typer(no_args_is_help=True, help="The local emulators for environment 'local'.")
app.add_typer(sandbox_app, name="sandbox")

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"provision {version('provision')}")
        raise typer.Exit()


@app.callback()
def _main(show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Show provision's version and exit.")] = False) -> None:
    """Multi-cloud provisioning: one spec, staged plans, policy gates."""

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment of the spec.")]
TargetOpt = Annotated[Optional[list[str]], typer.Option("--target", help="Only this resource and what it depends on (repeatable).")]
DestroyTargetOpt = Annotated[Optional[list[str]], typer.Option("--target", help="Only this resource and what depends on it (repeatable).")]
ExcludeOpt = Annotated[Optional[list[str]], typer.Option("--exclude", help="Leave this resource out (repeatable).")]
ParallelOpt = Annotated[int, typer.Option("--parallel", min=1, help="Independent stages run at once.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _executor(value: Optional[str]) -> Optional[str]:
    """--executor: local, temporal-local[?...] or temporal://HOST:PORT[?...] (checked here
    without importing the executors, which --help must not load)."""
    if value is None or value == "local" or value.split("?", 1)[0] == "temporal-local" \
            or value.startswith("temporal://"):
        return value
    raise typer.BadParameter(f"'{value}' is not local, temporal-local or temporal://HOST:PORT")


ExecutorOpt = Annotated[Optional[str], typer.Option(
    "--executor", metavar="EXECUTOR", callback=_executor,
    help="Who runs the stages: local (default), temporal-local or temporal://HOST:PORT[?namespace=NS] "
         "(else $PROVISION_EXECUTOR, else the spec's executor).")]


BypassOpt = Annotated[bool, typer.Option(
    "--unsafe-bypass-policy",
    help="With --no-policy: change a protected environment with no policy checked "
         "(refused without it; recorded in the run history and audit log).")]


def _bypass_needs_no_policy(no_policy: bool, bypass: bool) -> None:
    if bypass and not no_policy:
        raise typer.BadParameter("--unsafe-bypass-policy only goes with --no-policy "
                                 "(policies are checked otherwise)",
                                 param_hint="'--unsafe-bypass-policy'")


@app.command(cls=Command)
def plan(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file (YAML or HCL).")],
         env: EnvOpt,
         json_out: JsonOpt = False,
         detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="Exit 0 no changes, 2 changes, 1 error.")] = False,
         out: Annotated[Optional[Path], typer.Option("--out", help="Save the plan to apply later.")] = None,
         fmt: Annotated[str, typer.Option("--format", help="human | json | terraform-json",
                                          callback=choice("human", "json", "terraform-json"))] = "",
         policies: Annotated[Optional[Path], typer.Option("--policies", help="Policy packs directory (default: ./policies when present).")] = None,
         no_policy: Annotated[bool, typer.Option("--no-policy", help="Do not evaluate policies.")] = False,
         target: TargetOpt = None, exclude: ExcludeOpt = None,
         parallel: ParallelOpt = 4) -> None:
    """Show every change, stage by stage, in execution order, with policy results."""
    from provision.cli import commands  # imported on use: keeps --help fast
    code = commands.plan(spec, env, fmt="json" if json_out and not fmt else (fmt or "human"),
                         detailed_exitcode=detailed_exitcode, out=out,
                         targets=target or [], excludes=exclude or [], parallel=parallel,
                         policies=policies, no_policy=no_policy)
    raise typer.Exit(code)


@app.command(cls=Command)
def apply(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file, or a plan saved with plan --out.")],
          env: Annotated[str, typer.Option("--env", "-e", help="Environment (not needed for a saved plan).")] = "",
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
          json_out: JsonOpt = False,
          policies: Annotated[Optional[Path], typer.Option("--policies", help="Policy packs directory (default: ./policies when present).")] = None,
          no_policy: Annotated[bool, typer.Option("--no-policy", help="Skip policy gates (warned and recorded in the run history and audit log).")] = False,
          bypass_policy: BypassOpt = False,
          rollback_on_violation: Annotated[bool, typer.Option(
              "--rollback-on-violation",
              help="Return a stage to its previous state when a mandatory post-stage rule fails.")] = False,
          target: TargetOpt = None, exclude: ExcludeOpt = None,
          parallel: ParallelOpt = 4, executor: ExecutorOpt = None) -> None:
    """Apply the spec (or a saved plan) stage by stage, with policy gates."""
    _bypass_needs_no_policy(no_policy, bypass_policy)
    from provision.cli import commands  # imported on use: keeps --help fast
    code = commands.apply(spec, env, yes=yes, as_json=json_out, policies=policies,
                          no_policy=no_policy, targets=target or [], excludes=exclude or [],
                          parallel=parallel, rollback_on_violation=rollback_on_violation,
                          executor=executor, bypass_policy=bypass_policy)
    raise typer.Exit(code)


@app.command("import", cls=Command)
def import_(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file (YAML or HCL).")],
            resource_id: Annotated[str, typer.Argument(metavar="RESOURCE_ID", help="The spec's resource id.")],
            cloud_id: Annotated[str, typer.Argument(metavar="CLOUD_ID", help="The existing resource's cloud id (bucket name, ARM id, projects/P/topics/T, ...).")],
            env: EnvOpt,
            generate: Annotated[bool, typer.Option("--generate", help="Print the spec block for the live resource; change nothing.")] = False,
            fmt: Annotated[str, typer.Option("--format", help="yaml | hcl (with --generate)")] = "yaml") -> None:
    """Adopt an existing cloud resource into its stage's state; the next plan shows any difference."""
    from provision.cli import import_cmd

    if fmt not in ("yaml", "hcl"):
        raise typer.BadParameter("--format must be yaml or hcl")
    raise typer.Exit(import_cmd.import_resource(spec, env, resource_id, cloud_id,
                                                generate=generate, fmt=fmt))


@app.command(cls=Command)
def destroy(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file.")], env: EnvOpt,
            yes: Annotated[bool, typer.Option("--yes", "-y", help="Destroy without asking.")] = False,
            json_out: JsonOpt = False,
            target: DestroyTargetOpt = None, exclude: ExcludeOpt = None,
            executor: ExecutorOpt = None) -> None:
    """Delete every resource of the spec in the environment, in reverse stage order."""
    from provision.cli import commands  # imported on use: keeps --help fast
    raise typer.Exit(commands.destroy(spec, env, yes=yes, as_json=json_out,
                                      targets=target or [], excludes=exclude or [],
                                      executor=executor))


@app.command(cls=Command)
def worker(queue: Annotated[str, typer.Option("--queue", help="The task queue to poll (the spec's queues: map clouds to them).")] = "provision",
           executor: ExecutorOpt = None) -> None:
    """Run stages for a Temporal cluster (temporal://HOST:PORT) until interrupted."""
    from provision.cli import worker_cmd

    raise typer.Exit(worker_cmd.serve(queue, executor))


@app.command(cls=Command)
def rollout(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file with a promotion chain (not needed with --resume).")] = "",
            to: Annotated[str, typer.Option("--to", help="Promote up to and including this environment.")] = "",
            resume: Annotated[str, typer.Option("--resume", metavar="RUN_ID", help="Continue a halted rollout.")] = "",
            json_out: JsonOpt = False,
            non_interactive: Annotated[bool, typer.Option("--non-interactive", help="Never ask (halt for approvals instead).")] = False,
            rollback_on_failure: Annotated[bool, typer.Option(
                "--rollback-on-failure",
                help="Return a failed environment's applied stages to their previous inputs.")] = False,
            policies: Annotated[Optional[Path], typer.Option("--policies", help="Policy packs directory (default: ./policies when present).")] = None,
            no_policy: Annotated[bool, typer.Option("--no-policy", help="Skip policy gates (warned and recorded in the run history and audit log).")] = False,
            bypass_policy: BypassOpt = False,
            parallel: ParallelOpt = 4, executor: ExecutorOpt = None) -> None:
    """Promote the spec through its environments in order, with gates and approvals.
    Exit 0 done, 1 error, 3 policy violation, 4 halted (approval needed or a gate failed)."""
    from provision.cli import rollout_cmd

    usage = ("--resume takes no SPEC or --to (the run remembers them)" if resume and (spec or to)
             else "" if resume or (spec and to) else "give SPEC and --to ENV, or --resume RUN_ID")
    if usage:
        err.print(f"usage error: {usage}\n  see: provision rollout --help", markup=False)
        raise typer.Exit(2)
    _bypass_needs_no_policy(no_policy, bypass_policy)
    raise typer.Exit(rollout_cmd.rollout(
        spec, to=to, resume=resume, as_json=json_out, non_interactive=non_interactive,
        rollback_on_failure=rollback_on_failure, policies=policies, no_policy=no_policy,
        parallel=parallel, executor=executor, bypass_policy=bypass_policy))


@app.command(cls=Command)
def approve(run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The halted rollout's run id.")],
            env: EnvOpt,
            comment: Annotated[str, typer.Option("--comment", "-m", help="Why it is approved.")] = "",
            yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
            non_interactive: Annotated[bool, typer.Option("--non-interactive", help="Never ask (then --yes is needed).")] = False,
            json_out: JsonOpt = False) -> None:
    """Approve the plan a rollout stored for a protected environment (bound to its digest).
    It shows the plan and asks; where it cannot ask, it needs --yes."""
    from provision.cli import rollout_cmd

    raise typer.Exit(rollout_cmd.approve(run_id, env, comment=comment, as_json=json_out,
                                         yes=yes, non_interactive=non_interactive))


@app.command(cls=Command)
def output(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file.")], env: EnvOpt,
           json_out: JsonOpt = False,
           show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Show secret values in clear.")] = False) -> None:
    """Every stage's outputs as one document, for the next pipeline step."""
    from provision.cli import output_cmd

    raise typer.Exit(output_cmd.output(spec, env, as_json=json_out, show_secrets=show_secrets))


@app.command(cls=Command)
def drift(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file (YAML or HCL).")], env: EnvOpt,
          json_out: JsonOpt = False) -> None:
    """Compare every stage with the live clouds: exit 0 no drift, 2 drift found."""
    from provision.cli import drift_cmd

    raise typer.Exit(drift_cmd.drift(spec, env, as_json=json_out))


@app.command(cls=Command)
def repair(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file.")], env: EnvOpt,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would be repaired.")] = False) -> None:
    """Repair what a killed run left behind: stale stack locks and pending operations."""
    from provision.cli import recovery_cmd

    raise typer.Exit(recovery_cmd.repair(spec, env, dry_run=dry_run))


@app.command(cls=Command)
def unlock(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file.")], env: EnvOpt,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove the lock without asking.")] = False) -> None:
    """Remove the environment lock of a run that is gone (asks for confirmation)."""
    from provision.cli import recovery_cmd

    raise typer.Exit(recovery_cmd.unlock(spec, env, yes=yes))


@app.command(cls=Command)
def validate(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file (YAML or HCL).")]) -> None:
    """Check the spec and every environment: all errors at once, nothing touched."""
    from provision.cli import commands  # imported on use: keeps --help fast
    raise typer.Exit(commands.validate(spec))


@app.command(cls=Command)
def graph(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file.")],
          env: Annotated[str, typer.Option("--env", "-e")] = "",
          fmt: Annotated[str, typer.Option("--format", help="dot | mermaid | json",
                                           callback=choice("dot", "mermaid", "json"))] = "dot") -> None:
    """Print the resource graph, grouped by stage."""
    from provision.cli import commands  # imported on use: keeps --help fast
    raise typer.Exit(commands.graph(spec, env, fmt))


@sandbox_app.command("up", cls=Command)
def sandbox_up(json_out: JsonOpt = False,
               faults: Annotated[Optional[Path], typer.Option(
                   "--faults", help="Fault plan (YAML/JSON) the emulators apply: throttling, "
                                    "5xx, delays, lost answers (see docs/sandbox.md). On a "
                                    "running fault-taking sandbox it replaces the plan.")] = None
               ) -> None:
    """Start the emulators (127.0.0.1 only)."""
    from provision.cli.session import sandbox
    from provision.sandbox.faults import load_plan

    plan = load_plan(faults) if faults is not None else None
    _print_sandbox(sandbox().up(faults=plan), json_out)


@sandbox_app.command("down", cls=Command)
def sandbox_down(json_out: JsonOpt = False) -> None:
    """Stop exactly the emulators that `sandbox up` started."""
    from provision.cli.session import sandbox

    sandbox().down()
    if json_out:
        print(json.dumps({"running": False}))
    else:
        err.print("sandbox stopped")


@sandbox_app.command("status", cls=Command)
def sandbox_status(json_out: JsonOpt = False) -> None:
    """Show each emulator, its endpoint and whether it runs."""
    from provision.cli.session import sandbox

    _print_sandbox(sandbox().status(), json_out)


def _print_sandbox(status: "object", as_json: bool) -> None:
    data = status.to_json()  # type: ignore[attr-defined]
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for name, svc in data["services"].items():
        state = "[green]running[/green]" if svc.get("running") else "[red]stopped[/red]"
        err.print(f"{name:12} {state}  {svc.get('endpoint', '')}")


def _load(spec: str, env: str) -> Any:
    from provision.cli import session

    return session.load(spec, env)


def _plan(loaded: Any) -> Any:
    """The real planner: each stage previewed by the engine, in stage order."""
    from provision.cli import session

    return session.orchestrator(loaded).plan()


def _settings(loaded: Any) -> Any:
    from provision.cli import session

    return session.cloud_settings(loaded.env)


def _live(loaded: Any) -> Any:
    from provision.cli.gate import live_state

    return live_state(loaded.spec, loaded.env.name)


# The composition root of the policy commands: the validated loader, the real planner, the
# live-state reader (`policy check --phase post`) and the environment's cloud settings,
# passed in, never set on a module.
app.add_typer(policy_cmd.build_app(policy_cmd.Wiring(load=_load, plan=_plan, live=_live,
                                                     settings=_settings)),
              name="policy", help="Policy-as-code: check specs, test packs.")


def _mount_runs() -> None:
    from provision.cli import runs_cmd

    app.add_typer(runs_cmd.app, name="runs", help="Run history and audit log: list, show, verify.")


_mount_runs()


def _usage_context(args: list[str]) -> Any:
    """The context of the (sub)command ``args`` name, for its usage line."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("provision", [], resilient_parsing=True)
    for token in args:
        sub = getattr(command, "commands", {}).get(token)
        if sub is None:
            if not token.startswith("-"):
                break
            continue
        command = sub
        ctx = command.make_context(token, [], parent=ctx, resilient_parsing=True)
    return ctx


# The commands whose --json output is NDJSON events (docs/events.md).
_EVENT_COMMANDS = ("apply", "destroy", "rollout", "approve")


def _json_error(message: str, hint: str, diagnostics: list[str] | None = None) -> None:
    """With ``--json``, an error that stopped an event command before it could report
    one itself: its ``error`` event on stdout, so a pipeline reading only stdout sees why."""
    args = sys.argv[1:]
    if "--json" not in args or not args or args[0] not in _EVENT_COMMANDS:
        return
    from provision.cli.progress import Progress

    fields: dict[str, Any] = {"message": message, "hint": hint}
    if diagnostics:
        fields["diagnostics"] = diagnostics
    Progress(as_json=True).emit("error", **fields)


def _interrupted(watch: InterruptWatch) -> NoReturn:
    """Exit 130 with the one line; another interrupt meanwhile leaves at once."""
    watch.loading = True
    sys.stderr.write(INTERRUPTED_LINE.decode())
    sys.stderr.flush()
    watch.said = True
    sys.exit(EXIT_INTERRUPTED)


def run(watch: InterruptWatch | None = None) -> None:
    """Run the app and map errors to exit codes. With ``watch`` (the process's SIGINT
    handler, provision.cli.launch), any error after an interrupt is the interrupt's
    doing: ``interrupted``, exit 130, as for KeyboardInterrupt itself."""
    watch = watch or InterruptWatch()
    try:
        code = app(standalone_mode=False, prog_name="provision")
        # Without standalone mode, click returns the code of typer.Exit instead of raising
        # (Typer's for a KeyboardInterrupt: 130, silently).
        if watch.seen:
            _interrupted(watch)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        if watch.seen:
            _interrupted(watch)
        sys.exit(exc.exit_code)
    except SpecError as exc:          # renders one "error: ..." line per diagnostic
        err.print(exc.render(), markup=False)
        _json_error(exc.message, "", [d.render() for d in exc.diagnostics])
        sys.exit(1)
    except ProvisionError as exc:
        if watch.seen:
            _interrupted(watch)
        err.print("[red]error:[/red] ", end="")
        err.print(exc.render(), markup=False)
        if not exc.reported:            # a run's events carried it before run_finished
            _json_error(exc.message, exc.hint)
        sys.exit(1)
    except KeyboardInterrupt:       # plain output: rich may be what was interrupted
        _interrupted(watch)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: the usage line, the problem, exit 2
        if hasattr(exc, "ctx") and exc.ctx is None:  # some parse errors carry no command
            exc.ctx = _usage_context(sys.argv[1:])
        show = getattr(exc, "show", None)
        if show is None:
            err.print(f"error: {exc}", markup=False)
        else:
            show()
        sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
    except Exception as exc:  # the unexpected: a bug (or a library cut short by an interrupt)
        if watch.seen:
            _interrupted(watch)
        if os.environ.get("PROVISION_DEBUG"):
            traceback.print_exc()
        err.print("[red]internal error:[/red] ", end="")
        err.print(f"{type(exc).__name__}: {exc}\n  hint: rerun with PROVISION_DEBUG=1 and report it",
                  markup=False)
        sys.exit(1)


# The Temporal SDK's native module: once loaded, its runtime threads can abort the
# interpreter's finalization ("Fatal Python error: PyGILState_Release ...", exit -6).
_TEMPORAL_BRIDGE = "temporalio.bridge.temporal_sdk_bridge"


def entry(watch: InterruptWatch | None = None) -> None:
    """The ``provision`` command (from provision.cli.launch, which passes its ``watch``;
    without one, one is installed here): :func:`run`, then, when the command loaded the
    Temporal SDK or was interrupted (exit 130), leave without finalizing the interpreter
    once the output is flushed (every file, lock and child process is closed by then),
    so its exit code is the command's: the SDK's threads can abort finalization, and
    finalization puts the default SIGINT handler back (another Ctrl-C then would kill
    the process by the signal)."""
    if watch is None:
        watch = InterruptWatch().install()
        watch.loading = False
    try:
        run(watch)
    except SystemExit as exc:
        if not isinstance(exc.code, (int, type(None))) or (
                _TEMPORAL_BRIDGE not in sys.modules and exc.code != EXIT_INTERRUPTED):
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.code or 0)


if __name__ == "__main__":
    entry()
