"""The 3-cloud demo rolled through dev, staging and prod on the sandbox, through the
real CLI and Pulumi engine; effects verified with each cloud's SDK.

One broad scenario (each environment's apply costs seconds of engine time):
a failing health check in staging halts before prod is touched; fixed, the resume
halts at prod for an approval (exit 4); a spec change after the approval voids it; a
change dev and staging share is not promoted (the promotion gate); the new plan,
approved, is applied exactly; ``runs show`` lists every step.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from jsonschema import Draft202012Validator, FormatChecker

from cli_helpers import REPO, Result, Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]

VALIDATOR = Draft202012Validator(json.loads((REPO / "docs" / "events.schema.json").read_text()),
                                 format_checker=FormatChecker())


def _demo(path: Path, sfx: str, *, failing_check: bool, prod_tier: str = "") -> None:
    """stacks/demo.yaml with unique names, prod on the sandbox too."""
    text = (REPO / "stacks" / "demo.yaml").read_text()
    text = text.replace("provision-demo-logs", f"pdl{sfx}").replace("rg-provision-demo", f"rg-pd{sfx}")
    text = text.replace("provision-demo-events", f"pde{sfx}")
    doc = yaml.safe_load(text)
    doc["name"] = f"demo{sfx}"
    envs = doc["environments"]
    envs["prod"] = {"protected": True, "sandbox": True, **{k: envs["dev"][k] for k in ("aws", "azure", "gcp")}}
    if prod_tier:
        envs["prod"]["overrides"] = {"logs": {"tags": {"tier": prod_tier}}}
    if failing_check:
        envs["staging"]["health_checks"].append(
            {"name": "bucket name", "output": "logs.bucket", "equals": "not-the-bucket"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _events(result: Result) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    for event in events:
        errors = [e.message for e in VALIDATOR.iter_errors(event)]
        assert not errors, (event, errors)
    return events


def _s3(settings: dict[str, dict[str, Any]]) -> Any:
    return boto3.client("s3", endpoint_url=settings["aws"]["endpoint_url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


def test_demo_rollout_dev_staging_prod(sandbox: Any, run_cli: Run, tmp_path: Path,
                                       provision_home: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sfx = uuid.uuid4().hex[:6]
    spec = tmp_path / "demo.yaml"
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    settings = sandbox.cloud_settings()
    s3 = _s3(settings)
    gcs = storage.Client(project="provision-local", credentials=AnonymousCredentials(),
                         client_options={"api_endpoint": settings["gcp"]["storage_endpoint"]})
    bucket = {e: f"pdl{sfx}-{e}" for e in ("dev", "staging", "prod")}

    # 1. A failing health check in staging halts before prod is touched.
    _demo(spec, sfx, failing_check=True)
    first = run_cli("rollout", str(spec), "--to", "prod", "--json", "--non-interactive", env=env)
    assert first.code == 4, first.stdout + first.stderr
    events = _events(first)
    run_id = events[0]["run_id"]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert events[-1]["exit_code"] == 4 and events[-1]["halt"]["env"] == "staging"
    assert events[-1]["halt"]["gate"] == "health" and "bucket name" in events[-1]["halt"]["what"]
    assert "rollout halted at environment 'staging'" in first.stderr
    assert "bucket name" in first.stderr and f"rollout --resume {run_id}" in first.stderr
    assert _exists(s3, bucket["dev"]) and _exists(s3, bucket["staging"])
    assert not _exists(s3, bucket["prod"])
    with pytest.raises(NotFound):
        gcs.get_bucket(f"artifacts-rg-pd{sfx}-prod")
    assert not any(e.get("env") == "prod" for e in events[1:])     # only the target named

    # 2. Fixed: staging is not re-applied; prod halts for an approval (exit 4).
    _demo(spec, sfx, failing_check=False)
    second = run_cli("rollout", "--resume", run_id, "--json", "--non-interactive", env=env)
    assert second.code == 4, second.stdout + second.stderr
    events = _events(second)
    assert not [e for e in events if e["event"] == "stage_done" and e.get("env") == "staging"
                and e["status"] == "applied"]
    assert {"event": "env_done", "env": "staging", "status": "unchanged"}.items() <= \
        [e for e in events if e["event"] == "env_done"][0].items()
    [needed] = [e for e in events if e["event"] == "approval_needed"]
    assert needed["env"] == "prod" and f"provision approve {run_id} --env prod" == needed["approve"]
    assert not _exists(s3, bucket["prod"])

    # 3. Approved, then the spec changes: the approval is void, prod still untouched.
    approved = run_cli("approve", run_id, "--env", "prod", "-m", "first look", "--json", "--yes",
                       env=env)
    assert approved.code == 0, approved.stderr
    [approval] = _events(approved)
    assert approval["plan_digest"] == needed["plan_digest"]
    _demo(spec, sfx, failing_check=False, prod_tier="gold")
    third = run_cli("rollout", "--resume", run_id, "--json", "--non-interactive", env=env)
    assert third.code == 4, third.stdout + third.stderr
    events = _events(third)
    voided = [e for e in events if e["event"] == "gate" and e["status"] == "voided"]
    assert voided and "changed since the plan was made" in voided[0]["reason"]
    [renewed] = [e for e in events if e["event"] == "approval_needed"]
    assert renewed["plan_digest"] != needed["plan_digest"]
    assert not _exists(s3, bucket["prod"])
    stale = run_cli("approve", run_id, "--env", "staging", env=env)
    assert stale.code == 1 and "not waiting for an approval of 'staging'" in stale.stderr

    # 3b. A change dev and staging share (not only prod's override) is not promoted: the
    # rollout halts before prod (the promotion gate); back to what they ran, it goes on.
    doc = yaml.safe_load(spec.read_text())
    doc["resources"]["logs"]["properties"]["tags"]["team"] = "shared"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    blocked = run_cli("rollout", "--resume", run_id, "--json", "--non-interactive", env=env)
    assert blocked.code == 4, blocked.stdout + blocked.stderr
    halt = _events(blocked)[-1]["halt"]
    assert (halt["env"], halt["gate"], halt["what"]) == ("prod", "promotion", "dev, staging")
    assert f"provision rollout {spec} --to prod" in halt["hint"]
    assert not _exists(s3, bucket["prod"])
    _demo(spec, sfx, failing_check=False, prod_tier="gold")
    again = run_cli("rollout", "--resume", run_id, "--json", "--non-interactive", env=env)
    assert again.code == 4, again.stdout + again.stderr
    [renewed] = [e for e in _events(again) if e["event"] == "approval_needed"]

    # 4. The new plan, approved, is applied exactly; a resume that fails before the apply
    # (prod's lock held by another live run, as a wrong passphrase would) changes nothing:
    # the approval stands and the next resume applies it.
    assert run_cli("approve", run_id, "--env", "prod", "--non-interactive", "--yes",
                   env=env).code == 0
    from provision.cli import session
    from provision.engine.lock import EnvironmentLock
    from provision.vocabulary import Operation

    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    monkeypatch.setenv("PROVISION_SANDBOX_DIR", str(sandbox.home))
    loaded = session.load(str(spec), "prod")
    with EnvironmentLock(session.state_store(loaded), loaded.spec.name, "prod", "other-run",
                         Operation.APPLY):
        held = run_cli("rollout", "--resume", run_id, "--json", env=env)
    assert held.code == 1 and "is locked by run other-run" in held.stderr, held.stderr
    held_events = [e["event"] for e in _events(held)]
    assert held_events.count("error") == 1 and held_events[-1] == "run_finished", held_events
    assert not _exists(s3, bucket["prod"])
    again_approve = run_cli("approve", run_id, "--env", "prod", "--yes", env=env)
    assert again_approve.code == 1 and "approved already" in again_approve.stderr
    last = run_cli("rollout", "--resume", run_id, "--json", env=env)
    assert last.code == 0, last.stdout + last.stderr
    events = _events(last)
    assert not [e for e in events if e["event"] == "plan"]           # no re-plan: the stored one
    assert events[-1]["outcome"] == "applied"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket["prod"])["TagSet"]}
    assert tags["tier"] == "gold" and tags["env"] == "prod"
    assert gcs.get_bucket(f"artifacts-rg-pd{sfx}-prod").labels["env"] == "prod"

    # 5. runs show lists every step with its outcome.
    shown = json.loads(run_cli("runs", "show", run_id, "--json", env=env).stdout)
    assert (shown["operation"], shown["outcome"], shown["exit_code"]) == ("rollout", "applied", 0)
    steps = [(s["env"], s["kind"], s["name"], s["status"]) for s in shown["steps"]]
    for e in ("dev", "staging", "prod"):
        assert [s[2:] for s in steps if s[0] == e and s[1] == "stage"][-3:] == [
            ("aws", "applied"), ("azure", "applied"), ("gcp", "applied")] or e == "staging"
    assert [s[3] for s in steps if s[:2] == ("staging", "health")] == ["failed", "passed"]
    assert [s[3] for s in steps if s[:2] == ("prod", "approval")] == [
        "waiting", "voided", "waiting", "waiting", "approved"]
    assert [s[3] for s in steps if s[:2] == ("prod", "promotion")] == ["failed"]
    assert [s[3] for s in steps if s[:2] == ("prod", "error")] == ["failed"]
    assert "error" not in shown["detail"]                # no stale error on success
    assert [a["outcome"] for a in shown["detail"]["attempts"]][-1] == "failed"
    assert [a["plan_digest"] for a in shown["approvals"]] == [needed["plan_digest"],
                                                             renewed["plan_digest"]]
    human = run_cli("runs", "show", run_id, env=env)
    assert "prod: approval: approved" in human.stdout
    assert run_cli("runs", "verify", env=env).code == 0


def test_rollout_usage_and_errors(run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("rollout").code == 2
    assert run_cli("rollout", "x.yaml", "--to", "prod", "--resume", "r").code == 2
    missing = run_cli("rollout", "--resume", "nope")
    assert missing.code == 1 and "no run 'nope'" in missing.stderr
    no_chain = tmp_path / "s.yaml"
    no_chain.write_text("name: s\nenvironments: {dev: {}}\nresources: {}\n")
    result = run_cli("rollout", str(no_chain), "--to", "dev")
    assert result.code == 1 and "declares no promotion chain" in result.stderr
    assert "Traceback" not in result.stderr
