"""The gate engine: deferred -> decided post, enforcement per environment, errors, locations."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from policy_helpers import POLICIES, change, plan_of, write_pack
from provision.errors import PolicyError
from provision.plan.model import UNKNOWN, LiveResource
from provision.policy import Enforcement, PolicyEngine, Status
from provision.spec.model import Reference

TAGS = {"owner": "a", "env": "prod", "cost-center": "c"}
BLOCKED = dict.fromkeys(["block_public_acls", "block_public_policy", "ignore_public_acls",
                         "restrict_public_buckets"], True)


def _by_rule(report, rid: str = "b1") -> dict[str, Status]:  # type: ignore[no-untyped-def]
    return {r.rule_id: r.status for r in report.results if r.resource_id == rid}


def test_unknown_input_is_deferred_pre_and_decided_post(baseline: Callable[..., PolicyEngine]) -> None:
    engine = baseline("prod")
    planned = change("b1", "aws:s3:Bucket", {"bucket": "app-b1", "tags": TAGS,
                                             "public_access_block": BLOCKED,
                                             "server_side_encryption": UNKNOWN})
    stage, plan = plan_of(planned)
    pre = engine.check_pre(stage, plan)
    assert _by_rule(pre)["PRV-AWS-001"] is Status.DEFERRED
    assert not pre.blocking
    live = {"b1": LiveResource("aws:s3:Bucket", {"bucket": "app-b1", "tags": TAGS,
                                                 "region": "eu-west-1",
                                                 "public_access_block": BLOCKED,
                                                 "server_side_encryption": "ROT13"},
                               "stacks/app.yaml", 7)}
    post = engine.check_post("s1", live)
    [result] = [r for r in post.blocking_results()]
    assert (result.rule_id, result.status, result.phase.value) == ("PRV-AWS-001", Status.FAIL, "post")
    assert (result.file, result.line) == ("stacks/app.yaml", 7)


def test_post_results_are_located_by_their_live_records_alone(
        baseline: Callable[..., PolicyEngine]) -> None:
    engine = PolicyEngine.load(POLICIES, env="prod", waivers=[])   # no pre check before
    report = engine.check_post("s1", {
        "located": LiveResource("aws:s3:Bucket", {"bucket": "located"}, "stacks/app.yaml", 33),
        "elsewhere": LiveResource("aws:s3:Bucket", {"bucket": "elsewhere"}, "stacks/b.yaml", 4)})
    where = {r.resource_id: (r.file, r.line) for r in report.blocking_results()}
    assert where == {"located": ("stacks/app.yaml", 33), "elsewhere": ("stacks/b.yaml", 4)}
    assert not hasattr(engine, "locations")                  # no state kept between checks
    first = next(r for r in report.blocking_results() if r.resource_id == "located")
    assert first.describe().startswith(f"{first.rule_id} [fail] located (aws:s3:Bucket) at "
                                       "stacks/app.yaml:33: ")


def test_resource_reference_counts_as_unknown(baseline: Callable[..., PolicyEngine]) -> None:
    ref = Reference("resource", "kms", "arn", "${kms.arn}")
    stage, plan = plan_of(change("b1", "aws:s3:Bucket", {
        "bucket": "app-b1", "tags": TAGS, "public_access_block": BLOCKED,
        "server_side_encryption": ref}))
    assert _by_rule(baseline("prod").check_pre(stage, plan))["PRV-AWS-001"] is Status.DEFERRED


def test_pre_failure_blocks_with_rule_resource_and_line(baseline: Callable[..., PolicyEngine]) -> None:
    stage, plan = plan_of(change("b1", "aws:s3:Bucket", {"bucket": "app-b1", "tags": TAGS},
                                 line=12))
    report = baseline("prod").check_pre(stage, plan)
    assert report.blocking
    blocking = {(r.rule_id, r.resource_id, r.file, r.line) for r in report.blocking_results()}
    assert ("PRV-AWS-002", "b1", "stacks/app.yaml", 12) in blocking
    assert all(r.stage == "s1" and r.phase.value == "pre" for r in report.results)


def test_enforcement_differs_per_environment(baseline: Callable[..., PolicyEngine]) -> None:
    bad = {"name": "rg", "location": "eastus", "tags": {}}
    stage, plan = plan_of(change("rg", "azure:resources:ResourceGroup", bad))
    dev = baseline("dev").check_pre(stage, plan)
    prod = baseline("prod").check_pre(stage, plan)
    assert _by_rule(dev, "rg")["PRV-GOV-001"] is Status.WARN and not dev.blocking
    assert _by_rule(prod, "rg")["PRV-GOV-001"] is Status.FAIL and prod.blocking
    # prod narrows the location allow-list: northeurope is allowed in dev only
    nordic = change("rg", "azure:resources:ResourceGroup",
                    {"name": "rg", "location": "northeurope", "tags": TAGS})
    stage, plan = plan_of(nordic)
    assert _by_rule(baseline("dev").check_pre(stage, plan), "rg")["PRV-GOV-002"] is Status.PASS
    assert _by_rule(baseline("prod").check_pre(stage, plan), "rg")["PRV-GOV-002"] is Status.FAIL


def test_rule_override_and_disabled(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"rules.py": RULES_PY}, manifest=(
        "name: p\nversion: 1.0.0\nenforcement: advisory\nenvironments:\n"
        "  prod:\n    rules: {T-001: mandatory, T-002: disabled}\n"))
    prod = PolicyEngine.load(tmp_path, env="prod")
    dev = PolicyEngine.load(tmp_path, env="dev")
    assert prod.rules["T-001"].enforcement is Enforcement.MANDATORY
    assert dev.rules["T-001"].enforcement is Enforcement.ADVISORY
    live = {"x": ("t:a:B", {"ok": False})}
    prod_results = {r.rule_id: r.status for r in prod.check_post("s", live).results}
    dev_results = {r.rule_id: r.status for r in dev.check_post("s", live).results}
    assert "T-002" not in prod_results                  # disabled in prod: not evaluated
    assert prod_results["T-001"] is Status.FAIL         # mandatory in prod
    assert (dev_results["T-001"], dev_results["T-002"]) == (Status.WARN, Status.WARN)


def test_phase_limits_where_a_rule_runs(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"rules.py": RULES_PY})
    engine = PolicyEngine.load(tmp_path, env="dev")
    stage, plan = plan_of(change("x", "t:a:B", {"ok": False}))
    assert "T-003" not in {r.rule_id for r in engine.check_pre(stage, plan).results}
    assert "T-003" in {r.rule_id for r in engine.check_post("s", {"x": ("t:a:B", {})}).results}


def test_python_rule_exception_is_an_error_result_that_blocks(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"rules.py": RULES_PY})
    engine = PolicyEngine.load(tmp_path, env="dev")
    report = engine.check_post("s", {"boom": ("t:a:B", {"ok": True})})
    errors = [r for r in report.results if r.status is Status.ERROR]
    assert [(r.rule_id, r.resource_id) for r in errors] == [("T-004", "boom")]
    assert "ZeroDivisionError" in errors[0].message
    assert report.blocking        # T-004 is mandatory: fail closed


def test_rego_runtime_error_is_an_error_result(tmp_path: Path, rego_engine: str) -> None:
    write_pack(tmp_path, "p", {"bad.rego": BAD_OUTPUT_REGO})
    engine = PolicyEngine.load(tmp_path, env="dev")
    report = engine.check_post("s", {"x": ("t:a:B", {"n": 1})})
    assert [r.status for r in report.results] == [Status.ERROR]
    assert report.blocking


def test_a_broken_rego_rule_does_not_take_its_pack_down(tmp_path: Path, rego_engine: str) -> None:
    good = BAD_OUTPUT_REGO.replace("t.bad", "t.good").replace("T-REGO-1", "T-REGO-2").replace(
        'pick == 1\n\tv := {"resource": r.id, "message": "never"}',
        'not r.properties.ok\n\tv := {"resource": r.id, "message": "not ok"}').replace(
        "pick := 2", "other := 2")
    write_pack(tmp_path, "p", {"bad.rego": BAD_OUTPUT_REGO, "good.rego": good})
    engine = PolicyEngine.load(tmp_path, env="dev")
    report = engine.check_post("s", {"x": ("t:a:B", {"ok": True}), "y": ("t:a:B", {})})
    statuses = {(r.rule_id, r.resource_id): r.status for r in report.results}
    assert statuses == {("T-REGO-1", "x"): Status.ERROR, ("T-REGO-1", "y"): Status.ERROR,
                        ("T-REGO-2", "x"): Status.PASS, ("T-REGO-2", "y"): Status.FAIL}


def test_duplicate_rule_id_is_rejected(tmp_path: Path) -> None:
    write_pack(tmp_path, "one", {"rules.py": RULES_PY})
    write_pack(tmp_path, "two", {"rules.py": RULES_PY})
    with pytest.raises(PolicyError, match="T-001 is defined twice"):
        PolicyEngine.load(tmp_path, env="dev")


def test_rego_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"broken.rego": "package p\n\nimport rego.v1\n\ndeny contains x if {\n"})
    with pytest.raises(PolicyError, match=r"broken\.rego:\d+: Rego error"):
        PolicyEngine.load(tmp_path, env="dev")


@pytest.mark.parametrize("manifest, message", [
    ("name: p\n", "'version' is required"),
    ("name: p\nversion: 1\nenforcement: sometimes\n", "invalid enforcement 'sometimes'"),
    ("name: p\nversion: 1\nfoo: 1\n", "unknown key"),
])
def test_bad_manifest_is_a_policy_error(tmp_path: Path, manifest: str, message: str) -> None:
    write_pack(tmp_path, "p", {}, manifest=manifest)
    with pytest.raises(PolicyError, match=message):
        PolicyEngine.load(tmp_path, env="dev")


def test_rules_py_must_list_rules_explicitly(tmp_path: Path) -> None:
    write_pack(tmp_path, "p", {"rules.py": "from provision.policy import rule\n"})
    with pytest.raises(PolicyError, match=r"define RULES = \[\.\.\.\]"):
        PolicyEngine.load(tmp_path, env="dev")


def test_missing_policies_dir_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policies directory not found"):
        PolicyEngine.load(tmp_path / "nope", env="dev")


RULES_PY = '''
from provision.policy import rule


@rule(id="T-001", title="ok must be true", resource_types=["t:a:B"])
def must_be_ok(subject, ctx):
    return None if subject.get("ok") else "ok is not true"


@rule(id="T-002", title="ok again", resource_types=["t:a:B"])
def must_be_ok_again(subject, ctx):
    return None if subject.get("ok") else "still not ok"


@rule(id="T-003", title="post only", phase="post", resource_types=["t:a:B"])
def post_only(subject, ctx):
    return None


@rule(id="T-004", title="crashes on boom", enforcement="mandatory", resource_types=["t:a:B"])
def crashes(subject, ctx):
    if subject.id == "boom":
        return 1 / 0
    return None


RULES = [must_be_ok, must_be_ok_again, post_only, crashes]
'''

# rego-cpp answers this query with output that is not valid JSON (a sprintf quirk):
# the engine must turn that into an error result, not crash or pass.
BAD_OUTPUT_REGO = '''package t.bad

import rego.v1

metadata := {"id": "T-REGO-1", "title": "bad output", "resource_types": ["t:a:B"]}

# Two values for one complete rule: an evaluation error in every Rego engine.
pick := 1 if input.by_type

pick := 2 if input.by_type

deny contains v if {
	some r in input.by_type["t:a:B"]
	pick == 1
	v := {"resource": r.id, "message": "never"}
}
'''


def test_parallel_stages_get_their_own_results(baseline: Callable[..., PolicyEngine]) -> None:
    # The orchestrator checks independent stages from several threads at once.
    from concurrent.futures import ThreadPoolExecutor

    engine = baseline("prod")

    def check(i: int) -> set[tuple[str, str, Status]]:
        props = {"bucket": f"app-{i}", "tags": TAGS, "server_side_encryption": "AES256"}
        if i % 2:
            props["public_access_block"] = BLOCKED
        stage, plan = plan_of(change(f"b{i}", "aws:s3:Bucket", props, stage=f"s{i}"))
        return {(r.rule_id, r.resource_id, r.status)
                for r in engine.check_pre(stage, plan).results if r.stage == f"s{i}"}

    expected = {i: check(i) for i in range(8)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert dict(zip(range(8), pool.map(check, range(8)))) == expected
    assert ("PRV-AWS-002", "b0", Status.FAIL) in expected[0]
    assert ("PRV-AWS-002", "b1", Status.PASS) in expected[1]
