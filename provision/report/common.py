"""Helpers shared by the reporters: status order, grouping per rule x resource, tool identity."""

from __future__ import annotations

from importlib import metadata

from provision.policy.model import Result, Status

TOOL_NAME = "provision-policy"

# The worst status wins when several results share a rule x resource.
STATUS_ORDER: dict[Status, int] = {
    Status.ERROR: 0, Status.FAIL: 1, Status.WARN: 2, Status.WAIVED: 3,
    Status.DEFERRED: 4, Status.PASS: 5,
}


def tool_version() -> str:
    try:
        return metadata.version("provision")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def worst(results: list[Result]) -> Status:
    return min((r.status for r in results), key=STATUS_ORDER.__getitem__)


def group_by_case(results: list[Result]) -> dict[tuple[str, str, str, str], list[Result]]:
    """Results keyed by (pack, rule id, stage, resource id), in first-seen order."""
    groups: dict[tuple[str, str, str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.pack, r.rule_id, r.stage, r.resource_id), []).append(r)
    return groups


def location(result: Result) -> str:
    if not result.file:
        return ""
    return f"{result.file}:{result.line}" if result.line else result.file
