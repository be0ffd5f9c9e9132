"""``provision policy check|test`` exit codes, outputs and error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policy_helpers import POLICIES
from provision.cli import policy_cmd
from provision.plan.model import LiveResource

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


def _spec(tmp_path: Path, restrict: str = "true") -> str:
    path = tmp_path / "app.yaml"
    path.write_text(SPEC % restrict)
    return str(path)


def _check(*args: str, app: Any = policy_cmd.app) -> Any:
    """Run ``policy check`` of ``app`` (by default built without a planner or reader; the
    real command line builds it with the engine's reader)."""
    return runner.invoke(app, ["check", *args, "--policies", str(POLICIES)])


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
    (["SPEC", "--env", "prod", "--format", "xml"], "unknown format 'xml'"),
    (["SPEC", "--env", "prod", "--phase", "during"], "unknown phase 'during'"),
    (["SPEC", "--env", "prod", "--phase", "post"], "no live-state reader is configured"),
])
def test_errors_exit_1_with_a_message_and_no_traceback(tmp_path: Path, args: list[str],
                                                       message: str) -> None:
    spec = _spec(tmp_path)
    result = _check(*[spec if a == "SPEC" else a for a in args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_broken_policies_dir_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(policy_cmd.app, ["check", _spec(tmp_path), "--env", "prod",
                                            "--policies", str(tmp_path / "none")])
    assert result.exit_code == 1 and "policies directory not found" in result.output


def test_rule_that_cannot_be_evaluated_exits_1_after_the_report(tmp_path: Path) -> None:
    pack = tmp_path / "policies" / "p"
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: p\nversion: 1\nenforcement: advisory\n")
    (pack / "rules.py").write_text(
        "from provision.policy import rule\n\n"
        "@rule(id='T-ERR', title='broken', resource_types=['aws:s3:Bucket'])\n"
        "def broken(subject, ctx):\n    return subject.properties['nope']\n\nRULES = [broken]\n")
    result = runner.invoke(policy_cmd.app, ["check", _spec(tmp_path), "--env", "prod",
                                            "--policies", str(tmp_path / "policies")])
    assert result.exit_code == 1
    assert "ERROR" in result.output and "KeyError" in result.output
    assert "1 rule(s) could not be evaluated: T-ERR" in result.output


def test_post_phase_uses_the_injected_live_reader(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def reader(spec: Any, env: str) -> dict[str, LiveResource]:
        seen.append(env)
        where = spec.resources["logs"].location
        props = {"bucket": "app-logs", "region": "ap-south-1", "server_side_encryption": "AES256",
                 "tags": {"owner": "a", "env": "prod", "cost-center": "c"},
                 "public_access_block": dict.fromkeys(
                     ["block_public_acls", "block_public_policy", "ignore_public_acls",
                      "restrict_public_buckets"], True)}
        return {"logs": LiveResource("aws:s3:Bucket", props, where.file, where.line)}

    result = _check(_spec(tmp_path), "--env", "prod", "--phase", "post", "--format", "json",
                    app=policy_cmd.build_app(live_reader=reader))
    assert seen == ["prod"]
    assert result.exit_code == 3, result.output
    [fail] = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert fail["rule_id"] == "PRV-GOV-002" and "ap-south-1" in fail["message"]
    assert fail["phase"] == "post" and fail["line"] == 7


def test_pre_phase_uses_an_injected_plan_factory(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def factory(spec: Any, env: str) -> Any:
        calls.append(spec.name)
        return policy_cmd.plan_from_spec(spec, env)

    assert _check(_spec(tmp_path), "--env", "prod",
                  app=policy_cmd.build_app(plan_factory=factory)).exit_code == 0
    assert calls == ["app"]


def test_policy_test_command(tmp_path: Path) -> None:
    ok = runner.invoke(policy_cmd.app, ["test", str(POLICIES)])
    assert ok.exit_code == 0, ok.output
    assert " 0 failed" in ok.output
    bad = tmp_path / "p"
    bad.mkdir()
    (bad / "pack.yaml").write_text("name: p\nversion: 1\n")
    (bad / "t_test.rego").write_text("package p_test\n\ntest_no if {\n\t1 == 2\n}\n")
    failing = runner.invoke(policy_cmd.app, ["test", str(bad)])
    assert failing.exit_code == 1
    assert "FAIL" in failing.output


def test_check_a_saved_plan(tmp_path: Path) -> None:
    from provision.plan.saved import write_plan
    from provision.spec import load, resolve

    spec = _spec(tmp_path)
    plan = policy_cmd.plan_from_spec(resolve(load(spec), "prod"), "prod")
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
