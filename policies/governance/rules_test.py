"""Tests of the governance rules: a passing and a failing example per rule.

``provision policy test`` calls each ``test_*`` function, passing ``rules``
(the pack's rules by id) and ``params`` (the pack's default parameters).
"""

from __future__ import annotations

from typing import Any

from provision.policy import PythonRule, RuleContext, Subject


def _ctx(params: dict[str, Any], phase: str = "pre", env: str = "dev") -> RuleContext:
    return RuleContext(env=env, phase=phase, params=params)


def test_required_tags_pass(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("b", "aws:s3:Bucket", {"tags": {"owner": "a", "env": "dev", "cost-center": "42"}})
    assert rules["PRV-GOV-001"](s, _ctx(params)) == []


def test_required_labels_missing_fail(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("g", "gcp:storage:Bucket", {"labels": {"owner": "a"}})
    assert rules["PRV-GOV-001"](s, _ctx(params)) == ["labels missing: env, cost-center"]


def test_location_allowed_pass(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("rg", "azure:resources:ResourceGroup", {"location": "westeurope"})
    assert rules["PRV-GOV-002"](s, _ctx(params)) == []


def test_location_not_allowed_fail(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("g", "gcp:storage:Bucket", {"location": "asia-east1"})
    [message] = rules["PRV-GOV-002"](s, _ctx(params))
    assert "asia-east1" in message


def test_s3_region_deferred_then_decided(rules: dict[str, PythonRule],
                                         params: dict[str, Any]) -> None:
    from provision.policy.rules import Deferred
    s = Subject("b", "aws:s3:Bucket", {"bucket": "b"})
    try:
        rules["PRV-GOV-002"](s, _ctx(params, phase="pre"))
    except Deferred:
        pass
    else:
        raise AssertionError("an S3 bucket's region is only known after apply")
    live = Subject("b", "aws:s3:Bucket", {"bucket": "b", "region": "ap-south-1"})
    assert rules["PRV-GOV-002"](live, _ctx(params, phase="post")) != []


def test_naming_pass(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("st", "azure:storage:Account", {"name": "stlogs01"})
    assert rules["PRV-GOV-003"](s, _ctx(params)) == []


def test_naming_fail(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    s = Subject("st", "azure:storage:Account", {"name": "St_Logs"})
    [message] = rules["PRV-GOV-003"](s, _ctx(params))
    assert "St_Logs" in message
