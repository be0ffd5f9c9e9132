"""Fault plans: parsing with clear errors, and the per-request decisions of the injector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.errors import SandboxError
from provision.sandbox.faults import (FaultInjector, FaultPlan, error_body, load_plan,
                                      parse_plan, write_plan)


def _injector(tmp_path: Path, data: object, service: str = "aws") -> FaultInjector:
    write_plan(parse_plan(data), tmp_path / "faults.json")
    return FaultInjector(tmp_path / "faults.json", service)


def test_a_yaml_plan_round_trips_through_the_json_the_services_read(tmp_path: Path) -> None:
    source = tmp_path / "plan.yaml"
    source.write_text("seed: 3\nfaults:\n  - {rate: 0.3, status: 429, retry_after: 0.1}\n"
                      "  - {service: aws, method: get, path: '[?&]tagging', status: 500, "
                      "times: 2, after: true}\n  - {delay: 0.5}\n")
    plan = load_plan(source)
    assert plan.seed == 3 and len(plan.rules) == 3
    assert plan.rules[1].method == "GET" and plan.rules[1].times == 2
    write_plan(plan, tmp_path / "faults.json")
    assert parse_plan(json.loads((tmp_path / "faults.json").read_text())) == plan


@pytest.mark.parametrize("data, message", [
    ([1], "a fault plan is a mapping"),
    ({"faults": [{"rate": 1.5, "status": 500}]}, "fault 1: rate must be a number from 0 to 1"),
    ({"faults": [{"status": 200}]}, "fault 1: status must be a number from 400 to 599"),
    ({"faults": [{"rate": 0.5}]}, "fault 1: a rule needs a status, a delay or both"),
    ({"faults": [{"status": 500, "sevice": "aws"}]}, "fault 1: unknown key sevice"),
    ({"faults": [{"status": 500, "service": "s3"}]}, "service must be one of aws, gcs"),
    ({"faults": [{"status": 500, "path": "("}]}, "path is not a regular expression"),
    ({"faults": [{"delay": 1, "after": True}]}, "after needs a status"),
    ({"seed": "x"}, "seed must be a whole number"),
])
def test_malformed_plans_name_the_rule_and_key(data: object, message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        parse_plan(data, "plan.yaml")


def test_an_unreadable_plan_file_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="cannot read fault plan"):
        load_plan(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults: [\n")
    with pytest.raises(SandboxError, match=r"bad.yaml:\d+: not valid YAML"):
        load_plan(bad)


def test_no_plan_file_means_no_faults(tmp_path: Path) -> None:
    assert FaultInjector(tmp_path / "none.json", "aws").decide("GET", "/") is None


def test_rules_filter_by_service_method_and_path_and_stop_after_times(tmp_path: Path) -> None:
    injector = _injector(tmp_path, {"faults": [
        {"service": "aws", "method": "GET", "path": "[?&]tagging", "status": 500, "times": 2}]})
    assert injector.decide("PUT", "/b?tagging") is None
    assert injector.decide("GET", "/b?versioning") is None
    first = injector.decide("GET", "/b?tagging")
    assert first is not None and first.status == 500 and not first.after
    assert injector.decide("GET", "/b?tagging") is not None
    assert injector.decide("GET", "/b?tagging") is None  # spent
    assert _injector(tmp_path, {"faults": [{"service": "gcs", "status": 500}]}).decide(
        "GET", "/") is None


def test_a_rate_hits_about_that_share_and_a_seed_repeats_the_same_choices(tmp_path: Path) -> None:
    plan = {"seed": 11, "faults": [{"rate": 0.3, "status": 503}]}
    injector = _injector(tmp_path, plan)
    hits = [injector.decide("GET", "/") is not None for _ in range(2000)]
    assert 0.25 < sum(hits) / len(hits) < 0.35
    (tmp_path / "again").mkdir()
    again = _injector(tmp_path / "again", plan)
    assert [again.decide("GET", "/") is not None for _ in range(2000)] == hits


def test_a_changed_plan_file_is_read_again(tmp_path: Path) -> None:
    injector = _injector(tmp_path, {"faults": [{"status": 500}]})
    assert injector.decide("GET", "/") is not None
    write_plan(FaultPlan(), tmp_path / "faults.json")
    assert injector.decide("GET", "/") is None


def test_status_answers_carry_the_clouds_error_format(tmp_path: Path) -> None:
    fault = _injector(tmp_path, {"faults": [{"status": 429, "retry_after": 0.2}]},
                      "azure_arm").decide("PUT", "/x")
    assert fault is not None and fault.headers["Retry-After"] == "0.2"
    assert json.loads(fault.body) == {"error": {"code": "TooManyRequests",
                                                "message": "Injected fault: HTTP 429"}}
    body, content_type, _ = error_body("aws", 403)
    assert b"<Code>AccessDenied</Code>" in body and content_type == "application/xml"
    body, _, headers = error_body("azure_blob", 503)
    assert headers == {"x-ms-error-code": "ServerBusy"}
    google = json.loads(error_body("google", 429)[0])
    assert google["error"]["code"] == 429
    assert google["error"]["errors"][0]["reason"] == "rateLimitExceeded"


def test_throttling_on_azure_storage_is_its_503_server_busy(tmp_path: Path) -> None:
    fault = _injector(tmp_path, {"faults": [{"status": 429}]}, "azure_blob").decide("PUT", "/")
    assert fault is not None and fault.status == 503
    assert fault.headers["x-ms-error-code"] == "ServerBusy"
