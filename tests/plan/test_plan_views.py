"""Human and JSON plan views."""

from __future__ import annotations

import json

from rich.console import Console

from provision.plan.model import Plan
from provision.plan.render_human import render_plan
from provision.plan.render_json import plan_to_json
from provision.provider import AdapterRegistry


def human(plan: Plan) -> str:
    console = Console(record=True, width=200, color_system=None)
    render_plan(plan, console)
    return console.export_text()


def test_human_view_groups_by_stage_and_diffs_properties(plan: Plan) -> None:
    text = human(plan)
    assert text.index("Stage aws") < text.index("Stage azure") < text.index("Stage gcp")
    assert "+ bucket:" in text and '"demo-logs"' in text
    assert '~ tags.logs:  "arn:old" -> (known after apply)' in text
    assert '~ name:         "old-name" -> "new-name"  # forces replacement' in text
    assert "+ labels.rg:    (known after apply)" in text
    assert "- bucket:  \"old\"" in text
    assert "same" not in text  # unchanged resources are not listed
    assert text.rstrip().endswith(
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged.")


def test_secrets_never_appear(plan: Plan, registry: AdapterRegistry) -> None:
    text = human(plan)
    assert "s3cr3t" not in text
    assert "~ hmac_secret:  (sensitive) -> (sensitive)" in text
    encoded = json.dumps(plan_to_json(plan, registry))
    assert "s3cr3t" not in encoded


def test_json_view_is_versioned_and_marks_unknowns(plan: Plan) -> None:
    data = plan_to_json(plan)
    assert data["format_version"] == "1.1"
    assert data["summary"] == {"create": 1, "update": 1, "replace": 1, "delete": 1, "noop": 1}
    rg = data["stages"][1]["changes"][0]
    assert rg["after"]["tags"]["logs"] == {"$unknown": True}
    assert rg["unknown"] == ["tags.logs"]
    assert rg["diffs"] == [{"path": "tags.logs", "before": "arn:old", "after": {"$unknown": True},
                            "replaces": False, "secret": False, "after_unknown": True}]
    art = data["stages"][2]["changes"][0]
    assert art["after"]["hmac_secret"] == {"$sensitive": True}
    json.dumps(data)  # plain JSON, nothing left to a default= hook
