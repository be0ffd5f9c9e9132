"""Policy gates in apply, end to end on the sandbox: a mandatory pre-stage violation
stops before the stage changes anything (a region the environment sets is known at plan
time); a rule on a value known only after apply is deferred in the plan and fails after
the stage (optionally rolled back)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from cli_helpers import REPO, Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def _mandatory_packs(tmp_path: Path, *packs: str, params: str = "") -> Path:
    """Copies of the baseline packs, mandatory in every environment."""
    root = tmp_path / "policies"
    for pack in packs:
        shutil.copytree(REPO / "policies" / pack, root / pack)
        manifest = root / pack / "pack.yaml"
        text = manifest.read_text().split("\nenvironments:")[0]
        text = text.replace("enforcement: advisory", "enforcement: mandatory")
        if params:  # merged into the pack's own parameters: a key may be written once
            data = yaml.safe_load(text)
            data.setdefault("parameters", {}).update(yaml.safe_load(params)["parameters"])
            text = yaml.safe_dump(data, sort_keys=False)
        manifest.write_text(text)
    return root


def _clients(settings: dict[str, dict[str, Any]]) -> tuple[Any, Any]:
    s3 = boto3.client("s3", endpoint_url=settings["aws"]["endpoint_url"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    gcs = storage.Client(project="provision-local", credentials=AnonymousCredentials(),
                         client_options={"api_endpoint": settings["gcp"]["storage_endpoint"]})
    return s3, gcs


def test_mandatory_pre_violation_in_second_stage(sandbox: Any, run_cli: Run, tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: gate{sfx}
environments: {{local: {{}}}}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: gate-logs-{sfx}
      server_side_encryption: AES256
      public_access_block: {{block_public_acls: true, block_public_policy: true,
                            ignore_public_acls: true, restrict_public_buckets: true}}
  site:
    type: gcp:storage:Bucket
    properties:
      name: "site-${{logs.bucket}}"
      uniform_bucket_level_access: false
""")
    policies = _mandatory_packs(tmp_path, "aws", "gcp")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    result = run_cli("apply", str(spec), "--env", "local", "--yes", "--policies", str(policies),
                     env=env)
    assert result.code == 3, result.stdout + result.stderr
    assert "mandatory policy violation at the pre gate of stage 'gcp'" in result.stderr
    assert "PRV-GCP-001" in result.stderr and "site" in result.stderr
    assert f"{spec}:11" in result.stderr                      # the resource's line
    s3, gcs = _clients(sandbox.cloud_settings())
    s3.head_bucket(Bucket=f"gate-logs-{sfx}")                 # stage one applied
    with pytest.raises(NotFound):                             # stage two untouched
        gcs.get_bucket(f"site-gate-logs-{sfx}")
    # The run is recorded: stage outcomes and every policy result, the blocking one included.
    [run] = json.loads(run_cli("runs", "list", "--json").stdout)["runs"][:1]
    assert (run["operation"], run["outcome"], run["exit_code"]) == ("apply", "policy-violation", 3)
    record = json.loads(run_cli("runs", "show", run["id"], "--json").stdout)
    stages = {s["name"]: s["status"] for s in record["steps"] if s["kind"] == "stage"}
    assert stages == {"aws": "applied", "gcp": "blocked"}
    blocked = [p for p in record["policy"] if p["stage"] == "gcp" and p["phase"] == "pre"
               and p["status"] == "fail"]
    assert [p["rule_id"] for p in blocked] == ["PRV-GCP-001"]
    assert run_cli("destroy", str(spec), "--env", "local", "--yes", env=env).code == 0


LATE_RULE = """from provision.policy.rules import Deferred, rule


@rule(id="LATE-001", title="Bucket served under .example", severity="high",
      resource_types=["aws:s3:Bucket"], reads=["bucket_domain_name"])
def domain(subject, ctx):
    value = subject.get("bucket_domain_name")
    if value is None:
        if ctx.phase == "pre":
            raise Deferred("bucket_domain_name is known only after apply")
        return "bucket_domain_name is not reported"
    return None if str(value).endswith(".example") else f"'{value}' is not under .example"


RULES = [domain]
"""


def test_post_only_rule_is_deferred_then_fails_and_rolls_back(sandbox: Any, run_cli: Run,
                                                              tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: post{sfx}
environments: {{local: {{}}}}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: post-logs-{sfx}
      tags: {{owner: me, env: local, cost-center: cc1}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    # The bucket's region is the environment's aws region (the sandbox's us-east-1):
    # known at plan time, so a region outside the allow-list fails before apply.
    governance = _mandatory_packs(tmp_path, "governance",
                                  params="parameters:\n  allowed_locations: [eu-west-1]\n")
    check = run_cli("policy", "check", str(spec), "--env", "local", "--phase", "pre",
                    "--format", "json", "--policies", str(governance), env=env)
    assert check.code == 3, check.stdout + check.stderr
    region = [r for r in json.loads(check.stdout)["results"] if r["rule_id"] == "PRV-GOV-002"]
    assert [r["status"] for r in region] == ["fail"] and "us-east-1" in region[0]["message"]
    # A value only the cloud reports is deferred in the plan and decided after the stage.
    late = tmp_path / "late"
    (late / "late").mkdir(parents=True)
    (late / "late" / "pack.yaml").write_text("name: late\nversion: 0.1.0\nenforcement: mandatory\n")
    (late / "late" / "rules.py").write_text(LATE_RULE)
    planned = run_cli("plan", str(spec), "--env", "local", "--json", "--policies", str(late),
                      env=env)
    in_plan = [r for r in json.loads(planned.stdout)["policy"]["results"]
               if r["rule_id"] == "LATE-001"]
    assert [r["status"] for r in in_plan] == ["deferred"], planned.stdout

    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--json",
                      "--rollback-on-violation", "--policies", str(late), env=env)
    assert applied.code == 3, applied.stdout + applied.stderr
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    post = [e for e in events if e["event"] == "policy" and e["phase"] == "post"]
    assert post and post[0]["blocking"] is True
    assert any(r["rule_id"] == "LATE-001" and r["status"] == "fail" for r in post[0]["results"])
    done = [e for e in events if e["event"] == "stage_done"]
    assert done[-1]["status"] == "rolled-back"
    s3, _ = _clients(sandbox.cloud_settings())
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert f"post-logs-{sfx}" not in names                       # returned to "no bucket"


def test_policy_check_post_reads_the_live_state(sandbox: Any, run_cli: Run, tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: live{sfx}
environments: {{local: {{}}}}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: live-logs-{sfx}
      public_access_block: {{block_public_acls: true, block_public_policy: true,
                            ignore_public_acls: true, restrict_public_buckets: true}}
""")
    policies = _mandatory_packs(tmp_path, "aws")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    args = ["policy", "check", str(spec), "--env", "local", "--policies", str(policies),
            "--format", "json"]
    # The spec does not ask for encryption: the planned bucket fails the rule...
    pre = run_cli(*args, "--phase", "pre", env=env)
    assert pre.code == 3, pre.stdout + pre.stderr
    skipped = run_cli("apply", str(spec), "--env", "local", "--yes", "--no-policy", env=env)
    assert skipped.code == 0, skipped.stdout + skipped.stderr
    assert "warning: --no-policy: no policy is checked" in skipped.stderr
    # ...but the live bucket has the cloud's default encryption: read back, it passes.
    post = run_cli(*args, "--phase", "post", env=env)
    assert post.code == 0, post.stdout + post.stderr
    results = {r["rule_id"]: r for r in json.loads(post.stdout)["results"]}
    assert results["PRV-AWS-001"]["status"] == "pass"
    assert results["PRV-AWS-001"]["resource_id"] == "logs"
    # The spec still asks for no encryption: the unchanged bucket keeps a later plan and
    # apply from going green (what the environment keeps is judged, not only changes).
    plan = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode", "--policies",
                   str(policies), env=env)
    assert plan.code == 3 and "PRV-AWS-001" in plan.stdout, plan.stdout + plan.stderr
    again = run_cli("apply", str(spec), "--env", "local", "--yes", "--policies", str(policies),
                    env=env)
    assert again.code == 3, again.stdout + again.stderr
    assert "PRV-AWS-001 [fail] logs" in again.stderr
    [run] = json.loads(run_cli("runs", "list", "--json").stdout)["runs"][:1]
    assert (run["outcome"], run["exit_code"]) == ("policy-violation", 3)
    shown = run_cli("runs", "show", run["id"], "--json").stdout
    assert json.loads(shown)["detail"].get("policy") is None          # not skipped this time
    assert run_cli("destroy", str(spec), "--env", "local", "--yes", env=env).code == 0


def test_plan_exits_3_when_a_mandatory_rule_fails(sandbox: Any, run_cli: Run,
                                                  tmp_path: Path) -> None:
    """"plan, then apply if 2" never walks into a blocked apply: 3 wins over 2."""
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: plan3{sfx}
environments: {{local: {{}}}}
resources:
  site:
    type: gcp:storage:Bucket
    properties:
      name: "site-{sfx}"
      uniform_bucket_level_access: false
""")
    policies = _mandatory_packs(tmp_path, "gcp")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    for extra in ((), ("--detailed-exitcode",)):
        result = run_cli("plan", str(spec), "--env", "local", "--policies", str(policies),
                         *extra, env=env)
        assert result.code == 3, result.stdout + result.stderr
        assert "PRV-GCP-001" in result.stdout
        assert "mandatory policy result(s) block this plan" in result.stderr
    # Without the violation the same plan exits 2 (changes) under --detailed-exitcode.
    spec.write_text(spec.read_text().replace("access: false", "access: true"))
    clean = run_cli("plan", str(spec), "--env", "local", "--policies", str(policies),
                    "--detailed-exitcode", env=env)
    assert clean.code == 2, clean.stdout + clean.stderr
