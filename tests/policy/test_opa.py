"""OPA as the Rego engine: found by version, same results as regopy, errors located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import providers
from policy_helpers import POLICIES, TODAY, change, plan_of
from provision.errors import PolicyError
from provision.policy import PolicyEngine
from provision.policy.opa import OPA_VERSION, OpaBundle, choose_engine, find_opa, opa_version
from test_policy_baseline import EXAMPLES


@pytest.fixture(scope="module")
def opa() -> Path:
    binary = find_opa()
    assert binary is not None, "OPA is not built: run `make setup` (.ci/build-opa.sh)"
    return binary


def test_the_pinned_opa_is_found(opa: Path) -> None:
    assert opa_version(opa) == OPA_VERSION


def test_engine_choice(opa: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROVISION_REGO_ENGINE", raising=False)
    assert choose_engine() == opa
    monkeypatch.setenv("PROVISION_REGO_ENGINE", "regopy")
    assert choose_engine() is None
    monkeypatch.setenv("PROVISION_REGO_ENGINE", "wasm")
    with pytest.raises(PolicyError, match="not a Rego engine"):
        choose_engine()
    monkeypatch.setenv("PROVISION_REGO_ENGINE", "opa")
    monkeypatch.setenv("PROVISION_OPA_BIN", str(tmp_path / "none"))
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PolicyError, match=f"OPA v{OPA_VERSION} was not found"):
        choose_engine()


def _results(engine_name: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    monkeypatch.setenv("PROVISION_REGO_ENGINE", engine_name)
    engine = PolicyEngine.load(POLICIES, env="prod", registry=providers.registry(),
                               waivers=[], today=TODAY)
    live: dict[str, tuple[str, dict[str, Any]]] = {}
    for rule_id, (type_name, good, bad, _) in EXAMPLES.items():
        live[f"ok-{rule_id}"] = (type_name, good)
        live[f"bad-{rule_id}"] = (type_name, bad)
    stage, plan = plan_of(*(change(rid, t, props) for rid, (t, props) in live.items()))
    reports = [engine.check_pre(stage, plan), engine.check_post("s1", live)]
    return sorted((r.phase.value, r.rule_id, r.resource_id, r.status.value, r.message)
                  for report in reports for r in report.results)


def test_opa_and_regopy_give_the_same_results(opa: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_opa = _results("opa", monkeypatch)
    assert with_opa == _results("regopy", monkeypatch)
    statuses = {status for _, _, _, status, _ in with_opa}
    assert {"pass", "fail"} <= statuses       # the examples do exercise both outcomes


V0_MODULE = """package tf.old

deny[msg] {
  input.x == 1
  msg := "x is one"
}
"""
V1_MODULE = """package tf.new

deny contains msg if {
  input.x == 1
  msg := "x is one"
}
"""


def test_v0_and_v1_modules_share_a_bundle(opa: Path, tmp_path: Path) -> None:
    bundle = OpaBundle(opa, [(tmp_path / "old.rego", V0_MODULE), (tmp_path / "new.rego", V1_MODULE)],
                       {"params": {}})
    try:
        assert bundle.query("[data.tf.old.deny, data.tf.new.deny]", {"x": 1}) == \
            (True, [["x is one"], ["x is one"]])
        assert bundle.query("data.tf.old.deny", {"x": 2}) == (True, [])
        assert bundle.query("data.tf.nothing", {"x": 2}) == (False, None)
    finally:
        bundle.close()


def test_a_syntax_error_names_the_module_and_line(opa: Path, tmp_path: Path) -> None:
    bad = tmp_path / "policy" / "broken.rego"
    with pytest.raises(PolicyError, match=rf"{bad}:6: Rego error: unexpected eof"):
        OpaBundle(opa, [(bad, "package p\n\nimport rego.v1\n\ndeny contains x if {\n")], {})


def test_an_evaluation_error_names_the_module_and_line(opa: Path, tmp_path: Path) -> None:
    module = tmp_path / "conflict.rego"
    source = "package c\n\nimport rego.v1\n\nv := 1 if input.a\n\nv := 2 if input.a\n"
    bundle = OpaBundle(opa, [(module, source)], {})
    try:
        with pytest.raises(PolicyError, match=rf"{module}:\d+: .*conflicting values"):
            bundle.query("data.c.v", {"a": True})
    finally:
        bundle.close()
