"""``provision runs show RUN_ID --html FILE``: one self-contained HTML page per run.

The page has no scripts and fetches nothing (inline CSS and SVG only): the stage
graph per environment coloured by outcome (edges from the run's recorded stage
graph, ``detail.graph``: {stage: [stages it depends on]}), a timeline of every
timed step, the policy results and the approvals.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from provision.history.store import RunView

COLOURS = {"applied": "#2e7d32", "unchanged": "#66bb6a", "destroyed": "#2e7d32",
           "passed": "#2e7d32", "approved": "#2e7d32", "no-changes": "#66bb6a",
           "planned": "#0277bd", "waiting": "#f9a825", "halted": "#f9a825", "drifted": "#f9a825", "voided": "#f9a825",
           "skipped": "#9e9e9e", "pending": "#bdbdbd", "running": "#f9a825",
           "blocked": "#c62828", "failed": "#c62828", "abandoned": "#c62828",
           "rolled-back": "#ad1457",
           "policy-violation": "#c62828", "interrupted": "#6d4c41"}

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#212121}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:.9em}
.badge{color:#fff;padding:2px 8px;border-radius:4px}
code{font-size:.85em}
"""


def _colour(status: str) -> str:
    return COLOURS.get(status, "#757575")


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{_colour(status)}">{escape(status)}</span>'


def _levels(graph: dict[str, list[str]], names: list[str]) -> list[list[str]]:
    """Stages by dependency depth (stages missing from the graph go to level 0)."""
    depth: dict[str, int] = {}

    def level(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            deps = [d for d in graph.get(name, []) if d not in seen]
            depth[name] = 1 + max((level(d, seen | {name}) for d in deps), default=-1)
        return depth[name]

    for name in names:
        level(name)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in names:
        out[depth[name]].append(name)
    return out


def stage_graph_svg(env: str, statuses: dict[str, str], graph: dict[str, list[str]]) -> str:
    """One environment's stages as an SVG: boxes by dependency level, coloured by status."""
    names = list(dict.fromkeys([*graph, *statuses]))
    levels = _levels(graph, names)
    w, h, gap_x, gap_y = 150, 40, 60, 20
    pos = {n: (20 + i * (w + gap_x), 30 + j * (h + gap_y))
           for i, lvl in enumerate(levels) for j, n in enumerate(lvl)}
    width = 40 + len(levels) * (w + gap_x)
    height = 50 + max((len(lvl) for lvl in levels), default=1) * (h + gap_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="stages of {escape(env)}">',
             f'<text x="20" y="18" font-size="13" font-weight="bold">{escape(env or "stages")}</text>']
    for name, deps in graph.items():
        for dep in deps:
            if dep in pos and name in pos:
                (x1, y1), (x2, y2) = pos[dep], pos[name]
                parts.append(f'<line class="edge" data-from="{escape(dep)}" data-to="{escape(name)}" '
                             f'x1="{x1 + w}" y1="{y1 + h // 2}" x2="{x2}" y2="{y2 + h // 2}" '
                             'stroke="#616161" stroke-width="1.5"/>')
    for name, (x, y) in pos.items():
        status = statuses.get(name, "pending")
        parts.append(f'<g class="stage" data-env="{escape(env)}" data-stage="{escape(name)}" data-status="{escape(status)}">'
                     f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{_colour(status)}"/>'
                     f'<text x="{x + 8}" y="{y + 17}" fill="#fff" font-size="13">{escape(name)}</text>'
                     f'<text x="{x + 8}" y="{y + 33}" fill="#fff" font-size="11">{escape(status)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _ts(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() if text else None
    except ValueError:
        return None


def timeline_svg(steps: list[dict[str, Any]]) -> str:
    """Every step with a start and end time as a bar on one time axis."""
    timed = [(s, _ts(s["started_at"]), _ts(s["finished_at"])) for s in steps]
    bars = [(s, a, b) for s, a, b in timed if a is not None and b is not None]
    if not bars:
        return "<p>No timed steps.</p>"
    t0 = min(a for _, a, _ in bars)
    span = max(max(b for _, _, b in bars) - t0, 0.001)
    label_w, plot_w, row_h = 220, 600, 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 80}" '
             f'height="{20 + row_h * len(bars)}" role="img" aria-label="timeline">']
    for i, (s, a, b) in enumerate(bars):
        y = 10 + i * row_h
        x = label_w + (a - t0) / span * plot_w
        bw = max((b - a) / span * plot_w, 2)
        label = f"{s['env']} {s['kind']} {s['name']}".strip()
        parts.append(f'<g class="bar" data-step="{escape(label)}">'
                     f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>'
                     f'<rect x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{row_h - 6}" '
                     f'fill="{_colour(s["status"])}"/>'
                     f'<text x="{x + bw + 4:.1f}" y="{y + 13}" font-size="11">{b - a:.1f}s</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(view: RunView) -> str:
    """The whole page as one string (UTF-8, no external references)."""
    r = view.run
    graph = {k: list(v) for k, v in dict(r["detail"].get("graph", {})).items()}
    by_env: dict[str, dict[str, str]] = {}
    for s in view.steps:
        if s["kind"] == "stage":
            by_env.setdefault(s["env"], {})[s["name"]] = s["status"]
    for env in r["detail"].get("envs", []):
        by_env.setdefault(env, {})
    if not by_env and graph:
        by_env[r["env"]] = {}
    rows = "".join(
        f"<tr><td>{escape(s['env'])}</td><td>{escape(s['kind'])}</td><td>{escape(s['name'])}</td>"
        f"<td>{_badge(s['status'])}</td><td>{'' if s['duration_s'] is None else s['duration_s']}</td>"
        f"<td>{escape(_note(s['detail']))}</td></tr>" for s in view.steps)
    policy = "".join(
        f"<tr><td>{escape(p['env'])}</td><td>{escape(p['stage'])}</td><td>{escape(p['phase'])}</td>"
        f"<td>{escape(p['rule_id'])}</td><td>{_badge(p['status'])}</td><td>{escape(p['resource'])}</td>"
        f"<td>{escape(p['location'])}</td><td>{escape(p['message'])}</td></tr>" for p in view.policy)
    approvals = "".join(
        f"<li>{escape(a.env)}: approved by {escape(a.who)} at {escape(a.at)} — "
        f"<code>{escape(a.plan_digest)}</code> {escape(a.comment)}</li>" for a in view.approvals)
    graphs = "".join(f'<div class="graph">{stage_graph_svg(env, st, graph)}</div>'
                     for env, st in by_env.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>provision run {escape(r['id'])}</title><style>{_CSS}</style></head>
<body>
<h1>Run {escape(r['id'])}: {escape(r['operation'])} {escape(r['spec'])} {_badge(r['outcome'])}</h1>
<table id="summary">
<tr><th>environment</th><td>{escape(r['env'])}</td></tr>
<tr><th>who</th><td>{escape(r['who'])}</td></tr>
<tr><th>started</th><td>{escape(r['started_at'])}</td></tr>
<tr><th>finished</th><td>{escape(r['finished_at'] or '')}</td></tr>
<tr><th>duration (s)</th><td>{'' if r['duration_s'] is None else r['duration_s']}</td></tr>
<tr><th>exit code</th><td>{'' if r['exit_code'] is None else r['exit_code']}</td></tr>
<tr><th>spec digest</th><td><code>{escape(r['spec_digest'])}</code></td></tr>
<tr><th>plan digest</th><td><code>{escape(r['plan_digest'])}</code></td></tr>
</table>
<h2>Stage graph</h2>
<div id="graph">{graphs or '<p>No stages recorded.</p>'}</div>
<h2>Timeline</h2>
<div id="timeline">{timeline_svg(view.steps)}</div>
<h2>Steps</h2>
<table id="steps"><tr><th>env</th><th>kind</th><th>name</th><th>status</th><th>seconds</th><th>detail</th></tr>
{rows}</table>
<h2>Policy results</h2>
<table id="policy"><tr><th>env</th><th>stage</th><th>phase</th><th>rule</th><th>status</th><th>resource</th><th>where</th><th>message</th></tr>
{policy}</table>
<h2>Approvals</h2>
<ul id="approvals">{approvals or '<li>none</li>'}</ul>
</body></html>
"""


def _note(detail: dict[str, Any]) -> str:
    notes = []
    if detail.get("changes"):
        notes.append(", ".join(f"{n} {k}" for k, n in detail["changes"].items() if n))
    for key in ("plan_digest", "reason", "error", "check"):
        if detail.get(key):
            notes.append(str(detail[key]))
    return "; ".join(n for n in notes if n)
