"""The HTML run report: one self-contained page, parsed back to check its content."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from provision.history import History
from provision.history.html import COLOURS, render_html
from provision.vocabulary import GateStatus, Operation, Outcome, StageStatus, StepKind


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_has_graph_timeline_and_policy(tmp_path: Path) -> None:
    hist = History.open(tmp_path / "h.db", home=tmp_path)
    run = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    run.update(detail={"graph": {"aws": [], "azure": ["aws"], "gcp": ["azure"]},
                       "envs": ["dev", "prod"]})
    for stage, status in (("aws", StageStatus.APPLIED), ("azure", StageStatus.FAILED),
                          ("gcp", StageStatus.SKIPPED)):
        run.stage_started(stage, env="dev")
        run.stage(stage, status, env="dev")
    run.step(StepKind.HEALTH, "health", GateStatus.FAILED, env="dev",
             detail={"reason": "<script>alert(1)</script>"})
    run.policy("aws", "pre", [{"rule_id": "PRV-AWS-001", "status": "fail", "resource_id": "logs",
                               "message": "public bucket"}], env="dev")
    run.finish(Outcome.HALTED, exit_code=4)
    page = render_html(hist.show(run.id))
    parser = _Collect()
    parser.feed(page)
    tags = parser.tags
    stages = {(a["data-env"], a["data-stage"]): a["data-status"]
              for t, a in tags if t == "g" and "data-stage" in a}
    assert stages == {("dev", "aws"): "applied", ("dev", "azure"): "failed",
                      ("dev", "gcp"): "skipped", ("prod", "aws"): "pending",
                      ("prod", "azure"): "pending", ("prod", "gcp"): "pending"}
    fills = [a["fill"] for t, a in tags if t == "rect"]
    assert COLOURS["failed"] in fills and COLOURS["applied"] in fills
    edges = {(a["data-from"], a["data-to"]) for t, a in tags if t == "line"}
    assert edges == {("aws", "azure"), ("azure", "gcp")}            # per environment
    assert sum(1 for t, _ in tags if t == "line") == 4
    assert sum(1 for t, a in tags if t == "g" and "data-step" in a) == 3   # timed stage steps
    assert "PRV-AWS-001" in parser.text and "public bucket" in parser.text
    # Self-contained: no scripts, no external references; user text escaped.
    assert not any(t == "script" for t, _ in tags)
    assert not any(v and ("http://" in v or "https://" in v) and k in ("src", "href")
                   for _, a in tags for k, v in a.items())
    assert "<script>alert(1)</script>" not in page
