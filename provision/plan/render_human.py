"""The human plan view: stages in execution order, a per-property diff for every change.

    Stage aws  (stack demo-local-aws)
      + logs  aws:s3:Bucket  stacks/demo.yaml:41
          + bucket:      "provision-demo-logs"
          + tags.owner:  "platform-team"
    Stage azure  (stack demo-local-azure, after aws)
      ~ platform  azure:resources:ResourceGroup  stacks/demo.yaml:33
          ~ tags.logs_bucket:  "arn:...:old" -> (known after apply)

    Plan: 1 to create, 1 to update, 0 to replace, 0 to delete, 1 unchanged.

Secret values show as ``(sensitive)``; values known only after an upstream stage
is applied show as ``(known after apply)``, never as a made-up value.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.text import Text

from provision.plan.diff import flatten, is_unknown, property_diffs
from provision.plan.model import Action, Change, Plan, PropertyDiff
from provision.plan.render_json import secret_names

SENSITIVE = "(sensitive)"
KNOWN_AFTER_APPLY = "(known after apply)"

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+",
           Action.DELETE: "-", Action.NOOP: " "}
_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "magenta",
          Action.DELETE: "red", Action.NOOP: "dim"}


def show_value(value: Any, secret: bool = False) -> str:
    if is_unknown(value):
        return KNOWN_AFTER_APPLY
    if secret and value is not None:
        return SENSITIVE
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {show_value(v)}"
                               for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _property_lines(change: Change) -> list[tuple[str, str, str]]:
    """(symbol, path, text) for each property line of a change."""
    secrets = secret_names(change)
    lines: list[tuple[str, str, str]] = []
    if change.diffs:
        for diff in change.diffs:
            lines.extend(_diff_line(change.action, leaf) for leaf in _leaves(diff))
        return lines
    if change.action is Action.CREATE:
        for path, value in flatten(change.after or {}).items():
            secret = path.split(".", 1)[0] in secrets
            shown = KNOWN_AFTER_APPLY if path in change.unknown else show_value(value, secret)
            lines.append(("+", path, shown))
    elif change.action is Action.DELETE:
        for path, value in flatten(change.before or {}).items():
            lines.append(("-", path, show_value(value, path.split(".", 1)[0] in secrets)))
    return lines


def _leaves(diff: PropertyDiff) -> list[PropertyDiff]:
    """A diff of maps as one diff per changed leaf (``tags`` -> ``tags.ref``)."""
    if diff.secret or not (isinstance(diff.before, dict) or isinstance(diff.after, dict)):
        return [diff]
    before = {diff.path: diff.before} if diff.before is not None else None
    after = {diff.path: diff.after} if diff.after is not None else None
    leaves = property_diffs(before, after)
    return [PropertyDiff(d.path, d.before, d.after, diff.replaces, False)
            for d in leaves] or [diff]


def _diff_line(action: Action, diff: PropertyDiff) -> tuple[str, str, str]:
    after = diff.after
    if action is Action.DELETE:
        return "-", diff.path, show_value(diff.before, diff.secret)
    if diff.before is None and action is not Action.UPDATE and action is not Action.REPLACE:
        return "+", diff.path, show_value(after, diff.secret)
    if diff.before is None:
        text, symbol = show_value(after, diff.secret), "+"
    elif after is None:
        text, symbol = f"{show_value(diff.before, diff.secret)} -> null", "-"
    else:
        text = f"{show_value(diff.before, diff.secret)} -> {show_value(after, diff.secret)}"
        symbol = "~"
    if diff.replaces:
        text += "  # forces replacement"
    return symbol, diff.path, text


def summary_line(plan: Plan) -> str:
    counts = plan.summary()
    if not plan.has_changes():
        return f"No changes. {counts['noop']} resource(s) up to date."
    return (f"Plan: {counts['create']} to create, {counts['update']} to update, "
            f"{counts['replace']} to replace, {counts['delete']} to delete, "
            f"{counts['noop']} unchanged.")


def plan_text(plan: Plan, *, show_unchanged: bool = False) -> Text:
    """The whole view as rich Text (no markup parsing of user values)."""
    out = Text()
    out.append(f"Plan for {plan.spec} / {plan.env}", style="bold")
    out.append(f"  ({plan.spec_file})\n\n" if plan.spec_file else "\n\n")
    for stage in plan.stages:
        after = f", after {', '.join(stage.depends_on)}" if stage.depends_on else ""
        out.append(f"Stage {stage.name}", style="bold cyan")
        out.append(f"  (stack {stage.stack}{after})\n")
        shown = [c for c in stage.changes if show_unchanged or c.action is not Action.NOOP]
        if not shown:
            out.append("    no changes\n", style="dim")
        for change in shown:
            style = _STYLE[change.action]
            out.append(f"  {_SYMBOL[change.action]:>3} {change.id}", style=f"bold {style}")
            out.append(f"  {change.type}")
            if change.file:
                where = f"{change.file}:{change.line}" if change.line else change.file
                out.append(f"  {where}", style="dim")
            if change.action is Action.REPLACE:
                out.append("  (replace)", style=style)
            out.append("\n")
            lines = _property_lines(change)
            width = max((len(p) for _, p, _ in lines), default=0) + 1
            for symbol, path, text in lines:
                out.append(f"        {symbol:>1} {(path + ':').ljust(width)}  ",
                           style=_STYLE.get(_ACTION_OF.get(symbol, Action.NOOP), ""))
                out.append(text + "\n")
        out.append("\n")
    out.append(summary_line(plan), style="bold")
    out.append("\n")
    return out


_ACTION_OF = {"+": Action.CREATE, "~": Action.UPDATE, "-": Action.DELETE}


def render_plan(plan: Plan, console: Console | None = None, *,
                show_unchanged: bool = False) -> None:
    """Print the plan to ``console`` (stdout by default)."""
    (console or Console(highlight=False)).print(plan_text(plan, show_unchanged=show_unchanged))
