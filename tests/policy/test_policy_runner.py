"""``provision policy test``'s runner: it passes good tests and catches bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_helpers import write_pack
from provision.policy.testing import run_tests

RULE = '''package t.r

import rego.v1

metadata := {"id": "T-1", "title": "x set", "resource_types": ["t:a:B"]}

deny contains v if {
	some r in input.by_type["t:a:B"]
	msg := violation(r.properties, data.params)
	v := {"resource": r.id, "message": msg}
}

violation(props, _) := "x is not set" if not props.x
'''

REGO_TESTS = '''package t.r_test

import rego.v1

import data.t.r

test_good if {
	not r.violation({"x": 1}, {})
}

test_wrong_expectation if {
	not r.violation({}, {})
}
'''

PY_RULES = '''
from provision.policy import rule

@rule(id="T-2", title="y", resource_types=["t:a:B"])
def y_rule(subject, ctx):
    return None if subject.get("y") else "no y"

RULES = [y_rule]
'''

PY_TESTS = '''
from provision.policy import Subject, RuleContext


def test_passes(rules):
    assert rules["T-2"](Subject("a", "t:a:B", {"y": 1}), RuleContext("dev", "pre")) == []


def test_fails(rules):
    assert rules["T-2"](Subject("a", "t:a:B", {}), RuleContext("dev", "pre")) == []


def test_breaks(params):
    raise RuntimeError("boom")
'''


def test_runner_reports_pass_fail_and_error(tmp_path: Path, rego_engine: str) -> None:
    write_pack(tmp_path, "p", {"r.rego": RULE, "r_test.rego": REGO_TESTS,
                               "rules.py": PY_RULES, "rules_test.py": PY_TESTS})
    run = run_tests(tmp_path)
    outcomes = {(o.kind, o.name): o for o in run.outcomes}
    assert outcomes[("rego", "test_good")].status == "pass"
    assert outcomes[("rego", "test_wrong_expectation")].status == "fail"
    assert "undefined" in outcomes[("rego", "test_wrong_expectation")].message
    assert outcomes[("python", "test_passes")].status == "pass"
    assert outcomes[("python", "test_fails")].status == "fail"
    assert outcomes[("python", "test_breaks")].status == "error"
    assert "RuntimeError: boom" in outcomes[("python", "test_breaks")].message
    assert not run.ok


CRASHING = REGO_TESTS.replace("test_wrong_expectation if {\n\tnot r.violation({}, {})\n}",
                              'test_crash if {\n\tcount(r.deny) == 1 with input as '
                              '{"by_type": {"t:a:B": [{"id": "a", "properties": {}}]}}\n}')


def test_interpreter_crash_is_an_error_naming_the_test(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # rego-cpp 1.5.2 segfaults on `with input as` over a rule that calls a function:
    # the runner must survive it and name the test.
    monkeypatch.setenv("PROVISION_REGO_ENGINE", "regopy")
    write_pack(tmp_path, "p", {"r.rego": RULE, "r_test.rego": CRASHING})
    run = run_tests(tmp_path)
    statuses = {o.name: o.status for o in run.outcomes}
    assert statuses == {"test_good": "pass", "test_crash": "error"}
    [crash] = [o for o in run.outcomes if o.name == "test_crash"]
    assert "crashed" in crash.message


def test_the_same_test_passes_in_opa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_REGO_ENGINE", "opa")
    write_pack(tmp_path, "p", {"r.rego": RULE, "r_test.rego": CRASHING})
    assert {o.name: o.status for o in run_tests(tmp_path).outcomes} == {
        "test_good": "pass", "test_crash": "pass"}


def test_no_tests_is_not_ok(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"r.rego": RULE})
    assert not run_tests(tmp_path).ok
