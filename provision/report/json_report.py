"""The policy report as JSON: rules, results and summary, stable keys for tools."""

from __future__ import annotations

import json

from provision.policy.model import PolicyReport
from provision.report.common import TOOL_NAME, tool_version

JSON_FORMAT_VERSION = "1"


class JsonReporter:
    format = "json"

    def render(self, report: PolicyReport) -> str:
        data = {"format": "provision-policy-report", "format_version": JSON_FORMAT_VERSION,
                "tool": {"name": TOOL_NAME, "version": tool_version()},
                "ok": report.ok, **report.to_dict()}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
