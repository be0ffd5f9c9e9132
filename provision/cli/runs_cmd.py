"""``provision runs list|show|verify``: the run history and its audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from provision.cli.params import Command
from provision.vocabulary import Operation, Outcome

if TYPE_CHECKING:   # imported where used: `provision --help` loads this module (see main.py)
    from rich.console import Console

    from provision.executor.status import WorkflowStatus
    from provision.history import History, RunView

app = typer.Typer(no_args_is_help=True, help="Run history: list, show, verify the audit log.")


def _consoles() -> "tuple[Console, Console]":
    """(stdout, stderr) consoles."""
    from rich.console import Console

    return (Console(highlight=False, soft_wrap=True),
            Console(stderr=True, highlight=False, soft_wrap=True))

DbOpt = Annotated[Optional[Path], typer.Option(
    "--db", help="History database (default: $PROVISION_HISTORY_DB or .provision/history.db).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

_COLOUR = {"applied": "green", "no-changes": "green", "destroyed": "green", "passed": "green",
           "approved": "green", "unchanged": "green", "planned": "cyan", "waiting": "yellow",
           "halted": "yellow", "drifted": "yellow", "running": "yellow", "skipped": "yellow", "voided": "yellow",
           "failed": "red", "abandoned": "red", "blocked": "red", "policy-violation": "red", "rolled-back": "red"}


def _open(db: Path | None) -> History:
    from provision.history import History

    return History.open(db.absolute() if db else None)


def _c(word: str) -> str:
    colour = _COLOUR.get(word, "white")
    return f"[{colour}]{word}[/{colour}]"


@app.command("list", cls=Command)
def list_runs(env: Annotated[str, typer.Option("--env", "-e", help="Only this environment.")] = "",
              limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many runs.")] = 50,
              json_out: JsonOpt = False, db: DbOpt = None) -> None:
    """The latest runs, newest first."""
    from rich.table import Table

    out, err = _consoles()
    hist = _open(db)
    try:
        runs = hist.runs(env=env or None, limit=limit)
    finally:
        hist.close()
    if json_out:
        print(json.dumps({"runs": runs}, indent=2, default=str))
        return
    if not runs:
        err.print("no runs recorded yet")
        return
    header = ("run", "operation", "spec", "env", "who", "started", "duration", "outcome", "exit")
    rows = [(r["id"], r["operation"], r["spec"], r["env"], r["who"],
             r["started_at"][:19].replace("T", " "),
             f"{r['duration_s']:.1f}s" if r["duration_s"] is not None else "",
             r["outcome"], "" if r["exit_code"] is None else str(r["exit_code"])) for r in runs]
    if not out.is_terminal:          # plain columns for pipes and logs: nothing truncated
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
        return
    table = Table(box=None, pad_edge=False)
    for col in header:
        table.add_column(col, no_wrap=True)
    for row in rows:
        table.add_row(*row[:7], _c(row[7]), row[8])
    out.print(table)


@app.command("show", cls=Command)
def show(run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="Run id (or a unique prefix of it).")],
         json_out: JsonOpt = False,
         html: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained HTML report to FILE.")] = None,
         db: DbOpt = None) -> None:
    """One run: its steps with outcomes and timings, policy results, approvals."""
    out, err = _consoles()
    hist = _open(db)
    try:
        view = hist.show(run_id)
    finally:
        hist.close()
    if html is not None:
        from provision.history.html import render_html

        html.write_text(render_html(view), encoding="utf-8")
        err.print(f"report written to {html}", markup=False)
        return
    status = _workflow_status(view)
    if json_out:
        shown = view.to_dict()
        if status is not None:
            shown["workflow_status"] = status.to_dict()
        print(json.dumps(shown, indent=2, default=str))
        return
    _print_view(view, status)


def _workflow_status(view: RunView) -> "WorkflowStatus | None":
    """The run's workflow (an apply's or destroy's, or a rollout's approval gate) as its
    server reports it now; None for a run of no workflow (temporalio is imported only then)."""
    detail = view.run["detail"]
    workflow = detail.get("workflow") or detail.get("approval_gate")   # a rollout's gate
    if not isinstance(workflow, dict):
        return None
    from provision.executor.status import describe

    return describe(workflow)


def _print_view(view: RunView, status: "WorkflowStatus | None" = None) -> None:
    out, _ = _consoles()
    r = view.run
    where = "to" if r["operation"] == Operation.ROLLOUT.value else "env"
    out.print(f"run {r['id']}: {r['operation']} {r['spec']} {where} {r['env'] or '-'} "
              f"by {r['who'] or '?'}", markup=False)
    out.print(f"  started {r['started_at']}  " + _ending(r), markup=False)
    exit_code = "-" if r["exit_code"] is None else r["exit_code"]
    out.print(f"  outcome {_c(r['outcome'])}  exit {exit_code}")
    for key in ("spec_digest", "plan_digest"):
        if r[key]:
            out.print(f"  {key.replace('_', ' ')} {r[key]}", markup=False)
    if r["detail"].get("error"):
        out.print(f"  error: {r['detail']['error']}", markup=False)
    skipped = r["detail"].get("policy")
    if isinstance(skipped, dict) and skipped.get("skipped"):
        protected = ", ".join(skipped.get("protected") or [])
        out.print("  policies skipped (--no-policy"
                  + (f", --unsafe-bypass-policy on protected {protected}"
                     if skipped.get("bypass") and protected else "") + ")", markup=False)
    for a in r["detail"].get("attempts", []):      # a resumed run's earlier endings
        out.print(f"  earlier attempt: {a.get('outcome')} exit {a.get('exit_code')} at "
                  f"{a.get('finished_at')}" + (f": {a['error']}" if a.get("error") else ""),
                  markup=False)
    if workflow := r["detail"].get("workflow"):
        out.print(f"  workflow {workflow.get('id')} (run {workflow.get('run_id')}) on Temporal "
                  f"{workflow.get('address')}, namespace {workflow.get('namespace')}", markup=False)
    if (gate := r["detail"].get("approval_gate")) and not workflow:
        out.print(f"  approval gate {gate.get('id')} (run {gate.get('run_id')}) on Temporal "
                  f"{gate.get('address')}, namespace {gate.get('namespace')}", markup=False)
    if status is not None:
        closed = f", closed {status.closed_at}" if status.closed_at else ""
        out.print(f"  workflow status {status.state.value}{closed}"
                  + (f": {status.detail}" if status.detail else ""), markup=False)
    if view.steps:
        out.print("\nsteps:")
        for s in view.steps:
            took = f" ({s['duration_s']:.1f}s)" if s["duration_s"] is not None else ""
            env = f"{s['env']}: " if s["env"] else ""
            what = s["kind"] if s["name"] in ("", s["kind"]) else f"{s['kind']} {s['name']}"
            out.print(f"  {env}{what}: {_c(s['status'])}{took}"
                      + _step_note(s["detail"]))
    failing = [p for p in view.policy if p["status"] != "pass"]
    if view.policy:
        out.print(f"\npolicy: {len(view.policy)} results, {len(failing)} not passing")
        for p in failing:
            out.print(f"  {p['env']} {p['stage'] or '(plan)'} {p['phase']}: {p['status']} "
                      f"{p['rule_id']} {p['resource']} ({p['location']}): {p['message']}",
                      markup=False)
    for a in view.approvals:
        out.print(f"\napproved {a.env} by {a.who} at {a.at}: {a.plan_digest}"
                  + (f" — {a.comment}" if a.comment else ""), markup=False)


def _ending(run: dict[str, Any]) -> str:
    """When and how the run ended, as far as anyone saw it."""
    dead = run["detail"].get("abandoned")
    if run["outcome"] == Outcome.ABANDONED.value and isinstance(dead, dict):
        return (f"never finished: found dead at {dead.get('found_at')} by run "
                f"{dead.get('found_by')} ({dead.get('reason')})")
    if run["finished_at"] is None:
        return "not finished (running, or died unseen)"
    took = f"  duration {run['duration_s']}s" if run["duration_s"] is not None else ""
    return f"finished {run['finished_at']}{took}"


def _step_note(detail: dict[str, Any]) -> str:
    from rich.markup import escape

    notes = []
    if detail.get("changes"):
        notes.append(", ".join(f"{n} {k}" for k, n in detail["changes"].items() if n))
    for key in ("plan_digest", "reason", "error"):
        if detail.get(key):
            notes.append(str(detail[key]))
    return ("  " + escape("; ".join(n for n in notes if n))) if notes else ""


@app.command("verify", cls=Command)
def verify(json_out: JsonOpt = False, db: DbOpt = None) -> None:
    """Check the audit log's hash chain; exit 1 naming the first row that does not hold."""
    _, err = _consoles()
    hist = _open(db)
    try:
        report = hist.verify()
        path = hist.path
    finally:
        hist.close()
    problem = report.problem
    if json_out:
        print(json.dumps({"ok": report.ok, "rows": report.rows, "head": report.head,
                          "runs": report.runs,
                          "first_bad_row": problem.seq if problem else None,
                          "run_id": problem.run_id or None if problem else None,
                          "problem": str(problem) if problem else None}))
    elif problem is None:
        err.print(f"audit log intact: {report.rows} rows, head {report.head} ({path}); "
                  f"{report.runs} run(s) match it", markup=False)
    else:
        err.print(f"error: {path}: {problem}", markup=False)
        held = (f"the chain's {report.rows} rows hold, but run {problem.run_id}'s record "
                "was changed after it" if problem.run_id
                else f"the first {report.rows} rows hold")
        err.print(f"  {held}; restore the database from a backup and investigate who "
                  "changed it", markup=False)
    raise typer.Exit(0 if report.ok else 1)
