"""``provision policy``: check a spec against the policy packs, and test the packs.

    provision policy check SPEC --env ENV [--phase pre|post] [--format table|json|sarif|junit]
                                [--output FILE] [--policies DIR]
    provision policy test [DIR]

Exit codes: 0 clean (advisory warnings allowed), 3 mandatory violation, 1 error
(a clear message on stderr, no traceback) -- including a rule that could not be
evaluated: the report is still written. ``test`` exits 1 when a test fails.

``check --phase pre`` needs a plan of the spec: a saved one (``--plan FILE``),
or the engine's planner given to :func:`build_app` (``plan_factory``), or else
one built from the resolved spec directly: every resource a ``create`` of its
properties, resource references unknown. ``--phase post`` needs the live state:
the reader given to :func:`build_app` (``live_reader``); without one it is an
error. The composition root (``provision.cli.main``) builds the app with the
engine's reader; nothing is wired through module state.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer

from provision.errors import PolicyError, ProvisionError, SpecError
from provision.vocabulary import Phase

if TYPE_CHECKING:   # imported where used: `provision --help` loads this module (see main.py)
    from rich.console import Console

    from provision.plan.model import Live, Plan
    from provision.spec.model import Spec

EXIT_OK, EXIT_ERROR, EXIT_VIOLATION = 0, 1, 3

PlanFactory = Callable[["Spec", str], "Plan"]     # (resolved spec, env) -> plan
LiveReader = Callable[["Spec", str], "Live"]      # (resolved spec, env) -> live state


def _err() -> "Console":
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def plan_from_spec(spec: Spec, env: str) -> Plan:
    """A plan of a resolved spec without state: every resource created, in its stage."""
    from provision.graph.stages import stage_name
    from provision.plan.model import Action, Change, Plan, StagePlan

    stages: dict[str, StagePlan] = {}
    for rid, res in spec.resources.items():
        stage = stage_name(spec, rid)
        sp = stages.setdefault(stage, StagePlan(name=stage, stack=f"{spec.name}.{env}.{stage}"))
        loc = res.location
        sp.changes.append(Change(id=rid, type=res.type, action=Action.CREATE, stage=stage,
                                 before=None, after=dict(res.properties),
                                 file=loc.file if loc else spec.path, line=loc.line if loc else 0))
    return Plan(spec=spec.name, env=env, spec_file=spec.path, stages=list(stages.values()))


def _load_spec(spec_file: str, env: str) -> Spec:
    from provision.spec import load, resolve

    return resolve(load(spec_file), env)


def _registry() -> Any:
    import providers

    return providers.registry()


def _check(spec_file: str, env: str, phase: str, fmt: str, output: Path | None,
           policies: Path, plan_file: Path | None = None, *,
           plan_factory: PlanFactory | None = None, live_reader: LiveReader | None = None) -> int:
    from provision.policy import PolicyEngine
    from provision.policy.model import PolicyReport, Status
    from provision.report import FORMATS, render

    if phase not in {p.value for p in Phase}:
        raise PolicyError(f"unknown phase '{phase}'", hint="use --phase pre or --phase post")
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    spec = _load_spec(spec_file, env)
    engine = PolicyEngine.load(policies, env=env, registry=_registry())
    if plan_file is not None:
        from provision.plan.saved import read_plan

        plan = read_plan(plan_file)
        if plan.env != env:
            raise PolicyError(f"{plan_file} is a plan for environment '{plan.env}', not '{env}'")
    else:
        factory: PlanFactory = plan_factory or plan_from_spec
        plan = factory(spec, env)
    if Phase(phase) is Phase.PRE:
        report = engine.check_plan(plan)
    else:
        reader = live_reader
        if reader is None:
            raise PolicyError("--phase post needs the live state, and no live-state reader is "
                              "configured", hint="run the pre phase, or use a provision build "
                              "whose CLI wires the engine's reader")
        live = reader(spec, env)
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
        _err().print(f"[red]error:[/red] {len(broken)} rule(s) could not be evaluated: "
                  f"{', '.join(broken)}", soft_wrap=True)
    code = EXIT_ERROR if broken else EXIT_VIOLATION if report.blocking else EXIT_OK
    from provision.cli.recording import record_policy_check

    record_policy_check(spec=spec.name, spec_file=spec_file, env=env, phase=phase,
                        results=[r.to_dict() for r in report.results], exit_code=code)
    return code


def _error(exc: ProvisionError) -> None:
    err = _err()
    if not isinstance(exc, SpecError):      # a SpecError's lines say "error:" themselves
        err.print("[red]error:[/red] ", end="")
    err.print(exc.render(), markup=False, soft_wrap=True)


def test(directory: Annotated[Path, typer.Argument(help="Policies directory or one pack.")] = Path("policies")) -> None:
    """Run the packs' Rego (*_test.rego) and Python (*_test.py) rule tests."""
    from rich.console import Console
    from rich.table import Table

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
        _err().print(f"no policy tests found in {directory}")
    raise typer.Exit(EXIT_OK if run.ok else EXIT_ERROR)


def build_app(*, plan_factory: PlanFactory | None = None,
              live_reader: LiveReader | None = None) -> typer.Typer:
    """The ``policy`` commands, checking with ``plan_factory`` / ``live_reader`` when given."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                      help="Policy packs: check a spec against them, run their tests.")

    @app.command()
    def check(spec: Annotated[str, typer.Argument(help="Spec file (YAML or HCL).")],
              env: Annotated[str, typer.Option("--env", "-e", help="Environment of the spec.")],
              phase: Annotated[str, typer.Option("--phase", help="pre (planned) | post (live)")] = Phase.PRE.value,
              fmt: Annotated[str, typer.Option("--format", help="table | json | sarif | junit")] = "table",
              output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
              policies: Annotated[Path, typer.Option("--policies", help="Policy packs directory.")] = Path("policies"),
              plan: Annotated[Optional[Path], typer.Option("--plan", help="Check this saved plan (plan --out) instead of planning the spec.")] = None) -> None:
        """Check a spec against the policy packs without applying anything."""
        try:
            code = _check(spec, env, phase, fmt, output, policies, plan,
                          plan_factory=plan_factory, live_reader=live_reader)
        except ProvisionError as exc:
            _error(exc)
            code = EXIT_ERROR
        raise typer.Exit(code)

    app.command()(test)
    return app


# The commands without the engine (no live-state reader): for embedding and tests.
app = build_app()
