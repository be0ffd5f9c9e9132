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
    assert message.startswith("creating it in location 'asia-east1', which is not allowed in dev")


def test_location_message_says_what_an_update_changes(rules: dict[str, PythonRule],
                                                      params: dict[str, Any]) -> None:
    allowed = params["allowed_locations"][0]
    moved = Subject("g", "gcp:storage:Bucket", {"location": "asia-east1"}, action="replace",
                    before={"location": allowed})
    [message] = rules["PRV-GOV-002"](moved, _ctx(params))
    assert message.startswith(f"changing location from '{allowed}' to 'asia-east1', "
                              "which is not allowed in dev (allowed: ")
    kept = Subject("g", "gcp:storage:Bucket", {"location": "asia-east1", "labels": {}},
                   action="update", before={"location": "asia-east1"})
    [message] = rules["PRV-GOV-002"](kept, _ctx(params))
    assert message.startswith("location 'asia-east1' (left as it is by this update) is not "
                              "allowed in dev")
    live = Subject("g", "gcp:storage:Bucket", {"location": "asia-east1"}, action="read")
    [message] = rules["PRV-GOV-002"](live, _ctx(params, phase="post"))
    assert message.startswith("location 'asia-east1' is not allowed in dev")


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


def test_required_tags_on_the_newer_types(rules: dict[str, PythonRule],
                                          params: dict[str, Any]) -> None:
    full = {"owner": "a", "env": "dev", "cost-center": "42"}
    for type_, prop in [("aws:iam:Role", "tags"), ("aws:ec2:Vpc", "tags"),
                        ("aws:ec2:Subnet", "tags"), ("aws:ec2:SecurityGroup", "tags"),
                        ("aws:dynamodb:Table", "tags"), ("aws:sqs:Queue", "tags"),
                        ("azure:network:VirtualNetwork", "tags"),
                        ("gcp:pubsub:Topic", "labels"), ("gcp:pubsub:Subscription", "labels")]:
        assert rules["PRV-GOV-001"](Subject("r", type_, {prop: full}), _ctx(params)) == []
        assert rules["PRV-GOV-001"](Subject("r", type_, {prop: {"owner": "a"}}),
                                    _ctx(params)) == [f"{prop} missing: env, cost-center"]


def test_location_of_a_vnet(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    vnet = "azure:network:VirtualNetwork"
    assert rules["PRV-GOV-002"](Subject("v", vnet, {"location": "westeurope"}),
                                _ctx(params)) == []
    [message] = rules["PRV-GOV-002"](Subject("v", vnet, {"location": "eastasia"}), _ctx(params))
    assert "eastasia" in message


def test_naming_of_the_newer_types(rules: dict[str, PythonRule], params: dict[str, Any]) -> None:
    good = [("aws:iam:Role", "app-deployer"), ("aws:dynamodb:Table", "orders_v2"),
            ("aws:sqs:Queue", "jobs.fifo"), ("aws:ec2:SecurityGroup", "web tier"),
            ("azure:network:VirtualNetwork", "vnet-app_1"), ("gcp:pubsub:Topic", "orders"),
            ("gcp:pubsub:Subscription", "orders-worker")]
    bad = [("aws:iam:Role", "app deployer"), ("aws:dynamodb:Table", "ab"),
           ("aws:sqs:Queue", "jobs.queue"), ("aws:ec2:SecurityGroup", "sg-web"),
           ("azure:network:VirtualNetwork", "-vnet"), ("gcp:pubsub:Topic", "goog-orders"),
           ("gcp:pubsub:Subscription", "1st")]
    for type_, name in good:
        assert rules["PRV-GOV-003"](Subject("r", type_, {"name": name}), _ctx(params)) == [], name
    for type_, name in bad:
        [message] = rules["PRV-GOV-003"](Subject("r", type_, {"name": name}), _ctx(params))
        assert name in message
