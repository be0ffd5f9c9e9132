"""``provision policy check|test`` exit codes, outputs and error messages.

The spec goes through the real validated loader (``session.load``); the planner and
the live-state reader are test doubles passed in the command's ``Wiring`` (the real
ones, on the engine and the sandbox, are tested in tests/cli/test_policy_gates.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policy_helpers import POLICIES
from provision.cli import policy_cmd, session
from provision.cli.policy_cmd import Wiring
from provision.errors import PolicyError
from provision.plan.model import Action, Change, Live, LiveResource, Plan, StagePlan

SPEC = """name: app
environments:
  dev: {}
  prod:
    aws: {region: eu-west-1}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: app-logs
      server_side_encryption: AES256
      tags: {owner: team-a, env: prod, cost-center: cc-1}
      public_access_block:
        block_public_acls: true
        block_public_policy: true
        ignore_public_acls: true
        restrict_public_buckets: %s
"""

runner = CliRunner()


def create_plan(loaded: session.Loaded) -> Plan:
    """A stand-in for the engine's planner: every resource created, in its stage."""
    stages: dict[str, StagePlan] = {}
    for stage in loaded.stages.stages:
        sp = stages.setdefault(stage.name, StagePlan(name=stage.name, stack=stage.name))
        for rid in stage.resources:
            res = loaded.spec.resources[rid]
            loc = res.location
            sp.changes.append(Change(id=rid, type=res.type, action=Action.CREATE,
                                     stage=stage.name, before=None, after=dict(res.properties),
                                     file=loc.file if loc else "", line=loc.line if loc else 0))
    return Plan(spec=loaded.spec.name, env=loaded.env.name, spec_file=loaded.spec.path,
                stages=list(stages.values()))


def no_live(loaded: session.Loaded) -> Live:
    raise AssertionError("the pre phase must not read live state")


def wiring(plan: Any = create_plan, live: Any = no_live) -> Wiring:
    return Wiring(load=lambda spec, env: session.load(spec, env), plan=plan, live=live,
                  settings=lambda loaded: session.cloud_settings(loaded.env))


def _spec(tmp_path: Path, restrict: str = "true") -> str:
    path = tmp_path / "app.yaml"
    path.write_text(SPEC % restrict)
    return str(path)


def _check(*args: str, wired: Wiring | None = None) -> Any:
    return runner.invoke(policy_cmd.build_app(wired or wiring()),
                         ["check", *args, "--policies", str(POLICIES)])


def test_clean_spec_exits_0(tmp_path: Path) -> None:
    result = _check(_spec(tmp_path), "--env", "prod")
    assert result.exit_code == 0, result.output
    assert "no mandatory violation" in result.output


def test_mandatory_violation_exits_3_naming_rule_resource_and_line(tmp_path: Path) -> None:
    spec = _spec(tmp_path, restrict="false")
    result = _check(spec, "--env", "prod", "--format", "json")
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    [blocking] = [r for r in report["results"] if r["status"] == "fail"]
    assert (blocking["rule_id"], blocking["resource_id"]) == ("PRV-AWS-002", "logs")
    assert blocking["file"] == spec and blocking["line"] == 7       # the resource's line
    assert report["blocking"] == 1


def unchanged_plan(loaded: session.Loaded) -> Plan:
    """A stand-in planner for a second run: every resource recorded as the spec says."""
    plan = create_plan(loaded)
    for stage in plan.stages:
        for c in stage.changes:
            c.action, c.before = Action.NOOP, c.after
    return plan


def test_a_kept_resource_in_a_region_the_environment_sets_fails_the_pre_check(
        tmp_path: Path) -> None:
    """The bucket's region is no property: it is the environment's aws region, known at
    plan time. Unchanged, the bucket is still judged (a second run is no greener)."""
    spec = _spec(tmp_path)
    Path(spec).write_text(Path(spec).read_text().replace("eu-west-1", "ap-southeast-2"))
    result = _check(spec, "--env", "prod", "--format", "json", wired=wiring(plan=unchanged_plan))
    assert result.exit_code == 3, result.output
    [blocking] = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert (blocking["rule_id"], blocking["resource_id"]) == ("PRV-GOV-002", "logs")
    assert "region 'ap-southeast-2' is not allowed in prod" in blocking["message"]


def test_output_file_gets_the_format_and_stdout_the_table(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "policy.sarif"
    result = _check(_spec(tmp_path, "false"), "--env", "prod", "--format", "sarif",
                    "--output", str(out))
    assert result.exit_code == 3
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert "PRV-AWS-002" in result.stdout and "BLOCKED" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["missing.yaml", "--env", "prod"], "spec file not found"),
    (["SPEC", "--env", "staging"], "unknown environment 'staging'"),
])
def test_errors_exit_1_with_a_message_and_no_traceback(tmp_path: Path, args: list[str],
                                                       message: str) -> None:
    spec = _spec(tmp_path)
    result = _check(*[spec if a == "SPEC" else a for a in args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["--format", "xml"], "Invalid value for '--format': 'xml' is not one of"),
    (["--phase", "during"], "Invalid value for '--phase': 'during' is not one of"),
])
def test_bad_option_values_are_usage_errors(tmp_path: Path, args: list[str],
                                            message: str) -> None:
    result = _check(_spec(tmp_path), "--env", "prod", *args)
    assert result.exit_code == 2 and message in result.output


def test_a_spec_error_exits_1_with_the_validate_diagnostic_never_clean(tmp_path: Path) -> None:
    """A misspelt type: the same diagnostic as `validate`/`plan`, never 0 "no violations"."""
    spec = _spec(tmp_path).replace("app.yaml", "typo.yaml")
    Path(spec).write_text((SPEC % "true").replace("aws:s3:Bucket", "aws:s3:Buckett"))
    result = _check(spec, "--env", "prod")
    assert result.exit_code == 1, result.output
    assert f"{spec}:8:5: resource 'logs': unknown resource type 'aws:s3:Buckett' " \
           "(did you mean 'aws:s3:Bucket'?)" in result.output
    assert "no mandatory violation" not in result.output


def test_broken_policies_dir_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(policy_cmd.build_app(wiring()), ["check", _spec(tmp_path), "--env",
                           "prod", "--policies", str(tmp_path / "none")])
    assert result.exit_code == 1 and "policies directory not found" in result.output


def test_rule_that_cannot_be_evaluated_exits_1_after_the_report(tmp_path: Path) -> None:
    pack = tmp_path / "policies" / "p"
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: p\nversion: 1\nenforcement: advisory\n")
    (pack / "rules.py").write_text(
        "from provision.policy import rule\n\n"
        "@rule(id='T-ERR', title='broken', resource_types=['aws:s3:Bucket'])\n"
        "def broken(subject, ctx):\n    return subject.properties['nope']\n\nRULES = [broken]\n")
    result = runner.invoke(policy_cmd.build_app(wiring()), ["check", _spec(tmp_path), "--env",
                           "prod", "--policies", str(tmp_path / "policies")])
    assert result.exit_code == 1
    assert "ERROR" in result.output and "KeyError" in result.output
    assert "1 rule(s) could not be evaluated: T-ERR" in result.output


def test_post_phase_uses_the_wired_live_reader(tmp_path: Path) -> None:
    seen: list[str] = []

    def reader(loaded: session.Loaded) -> Live:
        seen.append(loaded.env.name)
        where = loaded.spec.resources["logs"].location
        assert where is not None
        props = {"bucket": "app-logs", "region": "ap-south-1", "server_side_encryption": "AES256",
                 "tags": {"owner": "a", "env": "prod", "cost-center": "c"},
                 "public_access_block": dict.fromkeys(
                     ["block_public_acls", "block_public_policy", "ignore_public_acls",
                      "restrict_public_buckets"], True)}
        return {"logs": LiveResource("aws:s3:Bucket", props, where.file, where.line)}

    result = _check(_spec(tmp_path), "--env", "prod", "--phase", "post", "--format", "json",
                    wired=wiring(live=reader))
    assert seen == ["prod"]
    assert result.exit_code == 3, result.output
    [fail] = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert fail["rule_id"] == "PRV-GOV-002" and "ap-south-1" in fail["message"]
    assert fail["phase"] == "post" and fail["line"] == 7


def test_pre_phase_checks_the_plan_of_the_validated_resolved_spec(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []

    def planner(loaded: session.Loaded) -> Plan:
        calls.append((loaded.spec.name, loaded.env.name))
        return create_plan(loaded)

    assert _check(_spec(tmp_path), "--env", "prod", wired=wiring(plan=planner)).exit_code == 0
    assert calls == [("app", "prod")]


def test_policy_test_command(tmp_path: Path) -> None:
    ok = runner.invoke(policy_cmd.build_app(wiring()), ["test", str(POLICIES)])
    assert ok.exit_code == 0, ok.output
    assert " 0 failed" in ok.output
    bad = tmp_path / "p"
    bad.mkdir()
    (bad / "pack.yaml").write_text("name: p\nversion: 1\n")
    (bad / "t_test.rego").write_text("package p_test\n\ntest_no if {\n\t1 == 2\n}\n")
    failing = runner.invoke(policy_cmd.build_app(wiring()), ["test", str(bad)])
    assert failing.exit_code == 1
    assert "FAIL" in failing.output


def test_check_a_saved_plan(tmp_path: Path) -> None:
    from provision.plan.saved import write_plan

    spec = _spec(tmp_path)
    plan = create_plan(session.load(spec, "prod"))
    plan.stages[0].changes[0].after["public_access_block"] = {}      # the saved plan differs
    saved = tmp_path / "plan.json"
    write_plan(plan, saved)
    result = _check(spec, "--env", "prod", "--plan", str(saved), "--format", "json")
    assert result.exit_code == 3, result.output
    [fail] = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert fail["rule_id"] == "PRV-AWS-002"
    other_env = _check(spec, "--env", "dev", "--plan", str(saved))
    assert other_env.exit_code == 1
    assert "a plan for environment 'prod', not 'dev'" in other_env.output


def test_a_broken_waiver_file_exits_1_naming_the_entry(tmp_path: Path) -> None:
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "waivers.yaml").write_text(
        "waivers:\n  - {rule: PRV-AWS-002, resource: logs, reason: r, approver: a,\n"
        "     expires: 2027-02-30}\n")
    result = runner.invoke(policy_cmd.build_app(wiring()), ["check", _spec(tmp_path), "--env",
                           "prod", "--policies", str(policies)])
    assert result.exit_code == 1, result.output
    assert "waivers.yaml:3:6: waiver #1: 'expires': 2027-02-30 is not a date that exists" in \
        " ".join(result.output.split())
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_a_check_is_recorded_in_the_run_history(tmp_path: Path) -> None:
    from provision.history import History

    result = _check(_spec(tmp_path, restrict="false"), "--env", "prod")
    assert result.exit_code == 3
    hist = History.open()
    [run] = hist.runs()
    assert (run["operation"], run["outcome"], run["exit_code"], run["env"]) == (
        "policy-check", "policy-violation", 3, "prod")
    failed = [p for p in hist.show(run["id"]).policy if p["status"] == "fail"]
    assert failed and failed[0]["phase"] == "pre"


def test_a_recorded_check_lasts_as_long_as_the_check_and_a_failed_one_is_recorded(
        tmp_path: Path) -> None:
    import time

    from provision.history import History

    def slow_plan(loaded: session.Loaded) -> Plan:
        time.sleep(0.3)   # the planner is the bulk of a real check
        return create_plan(loaded)

    def broken_plan(loaded: session.Loaded) -> Plan:
        raise PolicyError("the planner failed")

    assert _check(_spec(tmp_path), "--env", "prod", wired=wiring(plan=slow_plan)).exit_code == 0
    assert _check(_spec(tmp_path), "--env", "prod", wired=wiring(plan=broken_plan)).exit_code == 1
    hist = History.open()
    failed, passed = hist.runs()
    assert (passed["outcome"], passed["exit_code"]) == ("passed", 0)
    assert passed["duration_s"] >= 0.3, passed["duration_s"]
    assert (failed["operation"], failed["outcome"], failed["exit_code"]) == (
        "policy-check", "failed", 1)
