"""``provision policy``: check a spec against the policy packs, and test the packs.

    provision policy check SPEC --env ENV [--phase pre|post] [--format table|json|sarif|junit]
                                [--output FILE] [--policies DIR]
    provision policy test [DIR]

Exit codes: 0 clean (advisory warnings allowed), 3 mandatory violation, 1 error
(a clear message on stderr, no traceback) -- including a rule that could not be
evaluated: the report is still written. ``test`` exits 1 when a test fails.

``check`` loads the spec through the same validated loader as ``plan`` (a spec
error exits 1 with its diagnostics, never "no violations") and checks the plan
the real planner makes (``--phase pre``), a saved plan (``--plan FILE``), or the
live state (``--phase post``). The planner and the live-state reader come from
the composition root (``provision.cli.main``), which builds these commands
with :func:`build_app` and a :class:`Wiring`; tests build them with their own.
Nothing is wired through module state.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Mapping, Optional

import typer
from rich.console import Console
from rich.table import Table

from provision.cli.params import Command, choice
from provision.errors import PolicyError, ProvisionError, SpecError
from provision.plan.model import Live, Plan
from provision.vocabulary import Phase

if TYPE_CHECKING:  # the session imports the engine; only the root wires it in
    from provision.cli.session import Loaded
    from provision.policy.model import PolicyReport

EXIT_OK, EXIT_ERROR, EXIT_VIOLATION = 0, 1, 3


@dataclass(frozen=True)
class Wiring:
    """What ``policy check`` needs from the rest of provision (built by the composition root)."""

    load: Callable[[str, str], "Loaded"]   # (spec file, env) -> validated, resolved, coerced
    plan: Callable[["Loaded"], Plan]       # the real planner (stage order, real actions)
    live: Callable[["Loaded"], Live]       # the live state of the resources the state records
    # The environment's cloud settings, {cloud: {key: value}} (a region or location the
    # spec leaves to the environment is judged before apply).
    settings: Callable[["Loaded"], Mapping[str, Mapping[str, Any]]]

err = Console(stderr=True, highlight=False)


def _check(wiring: Wiring, spec_file: str, env: str, phase: str, fmt: str,
           output: Path | None, policies: Path, plan_file: Path | None = None) -> int:
    from provision.report import FORMATS

    if phase not in ("pre", "post"):
        raise PolicyError(f"unknown phase '{phase}'", hint="use --phase pre or --phase post")
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    loaded = wiring.load(spec_file, env)
    from provision.cli.recording import recorded_policy_check

    with recorded_policy_check(spec=loaded.spec.name, spec_file=spec_file, env=env,
                               phase=phase) as done:
        report, code = _evaluate(wiring, loaded, env, phase, fmt, output, policies, plan_file)
        done([r.to_dict() for r in report.results], code)
    return code


def _evaluate(wiring: Wiring, loaded: "Loaded", env: str, phase: str, fmt: str,
              output: Path | None, policies: Path,
              plan_file: Path | None) -> tuple["PolicyReport", int]:
    """Check the plan (pre) or the live resources (post), print the report; the report
    and the exit code."""
    from provision.policy import PolicyEngine
    from provision.policy.model import Phase, PolicyReport, Status
    from provision.report import render

    engine = PolicyEngine.load(policies, env=env, registry=loaded.registry,
                               settings=wiring.settings(loaded))
    if plan_file is not None:
        from provision.plan.saved import read_plan

        plan = read_plan(plan_file)
        if plan.env != env:
            raise PolicyError(f"{plan_file} is a plan for environment '{plan.env}', not '{env}'")
    else:
        plan = wiring.plan(loaded)
    if Phase(phase) is Phase.PRE:
        report = engine.check_plan(plan)
    else:
        live = wiring.live(loaded)
        report = PolicyReport(Phase.POST, env, "", rules=dict(engine.rules))
        for sp in plan.stages:
            ids = {c.id for c in sp.changes}
            report.extend(engine.check_post(sp.name, {k: v for k, v in live.items() if k in ids}))
    text = render(report, fmt)
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot write report to {output}: {exc.strerror}") from None
        if fmt != "table":
            sys.stdout.write(render(report, "table"))
    else:
        sys.stdout.write(text)
    broken = sorted({r.rule_id for r in report.by_status(Status.ERROR)})
    if broken:
        err.print(f"[red]error:[/red] {len(broken)} rule(s) could not be evaluated: "
                  f"{', '.join(broken)}", soft_wrap=True)
    code = EXIT_ERROR if broken else EXIT_VIOLATION if report.blocking else EXIT_OK
    return report, code


def _error(exc: ProvisionError) -> None:
    if not isinstance(exc, SpecError):      # a SpecError's lines say "error:" themselves
        err.print("[red]error:[/red] ", end="")
    err.print(exc.render(), markup=False, soft_wrap=True)


def test(directory: Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Policies directory or one pack.")] = Path("policies")) -> None:
    """Run the packs' Rego (*_test.rego) and Python (*_test.py) rule tests."""
    from provision.policy.testing import run_tests

    try:
        run = run_tests(directory)
    except ProvisionError as exc:
        _error(exc)
        raise typer.Exit(EXIT_ERROR)
    out = Console(highlight=False)
    table = Table(title=f"policy tests in {directory}")
    for column in ("status", "pack", "kind", "test", "detail"):
        table.add_column(column, overflow="fold")
    style = {"pass": "green", "fail": "red", "error": "magenta"}
    for o in run.outcomes:
        table.add_row(f"[{style[o.status]}]{o.status.upper()}[/]", o.pack, o.kind, o.name,
                      o.message)
    out.print(table)
    counts = run.counts()
    out.print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors",
              markup=False)
    if not run.outcomes:
        err.print(f"no policy tests found in {directory}")
    raise typer.Exit(EXIT_OK if run.ok else EXIT_ERROR)


def build_app(wiring: Wiring) -> typer.Typer:
    """The ``policy`` commands, checking through ``wiring`` (the real loader, planner and
    live-state reader from the composition root; test doubles in tests)."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                      help="Policy packs: check a spec against them, run their tests.")

    @app.command(cls=Command)
    def check(spec: Annotated[str, typer.Argument(metavar="SPEC", help="Spec file (YAML or HCL).")],
              env: Annotated[str, typer.Option("--env", "-e", help="Environment of the spec.")],
              phase: Annotated[str, typer.Option("--phase", help="pre (planned) | post (live)",
                                                 callback=choice("pre", "post"))] = "pre",
              fmt: Annotated[str, typer.Option("--format", help="table | json | sarif | junit",
                                               callback=choice("table", "json", "sarif", "junit"))] = "table",
              output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
              policies: Annotated[Path, typer.Option("--policies", help="Policy packs directory.")] = Path("policies"),
              plan: Annotated[Optional[Path], typer.Option("--plan", help="Check this saved plan (plan --out) instead of planning the spec.")] = None) -> None:
        """Check a spec against the policy packs without applying anything."""
        try:
            code = _check(wiring, spec, env, phase, fmt, output, policies, plan)
        except ProvisionError as exc:
            _error(exc)
            code = EXIT_ERROR
        raise typer.Exit(code)

    app.command(cls=Command)(test)
    return app
