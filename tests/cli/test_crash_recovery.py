"""Killed, interrupted and concurrent runs through the real CLI on the sandbox (issue 9):
one apply per environment at a time, no process outlives a SIGKILLed run, SIGINT
stops cleanly with exit 130, repair reconciles what a crash left, and a wrong
passphrase stops before any cloud call. Every effect is checked with the SDKs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from provision.engine.supervise import processes_with_env

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def _spec(suffix: str) -> str:
    return f"""
name: rec{suffix}
environments:
  local:
    aws: {{region: us-east-1}}
resources:
  a:
    type: aws:s3:Bucket
    properties: {{bucket: rec-a-{suffix}}}
  b:
    type: aws:s3:Bucket
    properties: {{bucket: rec-b-{suffix}, tags: {{peer: "${{a.arn}}"}}}}
  group:
    type: azure:resources:ResourceGroup
    properties:
      name: rg-rec-{suffix}
      tags: {{logs: "${{b.arn}}"}}
"""


def _s3(sandbox: Any) -> Any:
    aws = sandbox.cloud_settings()["aws"]
    return boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _buckets(s3: Any, suffix: str) -> list[str]:
    return sorted(b["Name"] for b in s3.list_buckets()["Buckets"] if suffix in b["Name"])


Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start(tmp_path: Path, provision_home: Path, sandbox: Any) -> Start:
    """Start ``provision ARGS`` in the background (stdout/stderr to files under tmp_path)."""
    count = iter(range(1000))

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
            ) -> subprocess.Popen[str]:
        full_env = {**os.environ, "PROVISION_HOME": str(provision_home),
                    "PROVISION_SANDBOX_DIR": str(sandbox.home), **(env or {})}
        full_env.pop("PROVISION_PASSPHRASE", None)
        n = next(count)
        out = open(tmp_path / f"bg{n}.out", "w")
        errf = open(tmp_path / f"bg{n}.err", "w")
        proc = subprocess.Popen([sys.executable, "-m", "provision.cli.main", *args],
                                cwd=cwd or tmp_path, env=full_env, stdout=out, stderr=errf,
                                text=True)
        proc.out_path = tmp_path / f"bg{n}.out"  # type: ignore[attr-defined]
        proc.err_path = tmp_path / f"bg{n}.err"  # type: ignore[attr-defined]
        return proc

    return run


def _err(proc: subprocess.Popen[str]) -> str:
    return Path(proc.err_path).read_text()  # type: ignore[attr-defined]


def _wait_for(proc: subprocess.Popen[str], text: str, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in _err(proc):
            return
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} before '{text}':\n{_err(proc)}")
        time.sleep(0.1)
    pytest.fail(f"'{text}' never appeared:\n{_err(proc)}")


def _marked(mark: str) -> list[int]:
    """Running processes (other than this one) whose environment holds PROVISION_TEST_MARK=mark."""
    return processes_with_env("PROVISION_TEST_MARK", mark)


@pytest.mark.parametrize("clones", [1, 2], ids=["one-clone", "two-clones-one-backend"])
def test_two_applies_at_once_exactly_one_runs(sandbox: Any, start: Start, run_cli: Run,
                                              tmp_path: Path, clones: int) -> None:
    suffix = uuid.uuid4().hex[:8]
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    dirs = []
    for i in range(clones):
        clone = tmp_path / f"clone{i}"
        clone.mkdir()
        (clone / "spec.yaml").write_text(_spec(suffix))
        dirs.append(clone)
    if clones == 2:   # two checkouts, two homes, one shared state backend and passphrase
        env |= {"PROVISION_BACKEND_URL": f"file://{tmp_path / 'shared-state'}",
                "PULUMI_CONFIG_PASSPHRASE": "shared-test-passphrase"}
    homes = [{"PROVISION_HOME": str(d / ".provision")} if clones == 2 else {} for d in dirs]
    procs = [start("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy",
                   cwd=dirs[i % clones], env={**env, **homes[i % clones]}) for i in range(2)]
    codes = [p.wait(timeout=600) for p in procs]
    assert sorted(codes) == [0, 1], [_err(p) for p in procs]
    loser = procs[codes.index(1)]
    text = _err(loser)
    assert f"environment 'local' of spec 'rec{suffix}' is locked by run" in text
    assert "pid" in text and "since" in text and "provision unlock spec.yaml --env local" in text
    assert "Traceback" not in text
    again = run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode",
                    cwd=dirs[-1], env={**env, **homes[-1]})
    assert again.code == 0, again.stderr + again.stdout
    assert _buckets(_s3(sandbox), suffix) == [f"rec-a-{suffix}", f"rec-b-{suffix}"]


def test_sigkill_leaves_no_process_and_a_plain_apply_converges(
        sandbox: Any, start: Start, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / "spec.yaml").write_text(_spec(suffix))
    mark = uuid.uuid4().hex
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home), "PROVISION_TEST_MARK": mark}
    proc = start("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    _wait_for(proc, "apply stage")
    time.sleep(1.0)
    assert len(_marked(mark)) >= 3          # provision, its watchdog, Pulumi and its plugins
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    end = time.monotonic() + 30
    while _marked(mark) and time.monotonic() < end:
        time.sleep(0.2)
    assert _marked(mark) == [], "processes of the killed run still running"

    again = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert again.code == 0, again.stderr
    assert "took over the lock" in again.stderr
    # The history no longer shows the killed run as running: it was found dead.
    from provision.history import History
    from provision.vocabulary import Operation

    hist = History.open(provision_home / "history.db", home=provision_home)
    latest, killed = hist.runs(operation=Operation.APPLY)[:2]
    hist.close()
    assert (killed["outcome"], latest["outcome"]) == ("abandoned", "applied")
    assert killed["detail"]["abandoned"]["found_by"] == latest["id"]
    assert "no longer running" in killed["detail"]["abandoned"]["reason"]
    plan = run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", env=env)
    assert plan.code == 0, plan.stdout + plan.stderr
    assert _buckets(_s3(sandbox), suffix) == [f"rec-a-{suffix}", f"rec-b-{suffix}"]


def test_sigint_stops_cleanly_with_130_and_the_next_apply_finishes(
        sandbox: Any, start: Start, run_cli: Run, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / "spec.yaml").write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    proc = start("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    _wait_for(proc, "apply stage aws")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=300) == 130, _err(proc)
    text = _err(proc)
    assert "SIGINT received: stopping after the running stage" in text
    assert "interrupted at stage" in text and "Traceback" not in text
    run_id = text.rsplit("(run ", 1)[1].split(")", 1)[0]
    shown = run_cli("runs", "show", run_id, "--json", env=env)
    record = json.loads(shown.stdout)
    assert record["outcome"] == "interrupted" and record["exit_code"] == 130
    stopped = record["detail"]["stopped_at"]
    assert stopped and set(stopped) <= {"aws", "azure"}
    assert "group" not in {s.get("name") for s in record["steps"]}

    again = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert again.code == 0, again.stderr
    plan = run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", env=env)
    assert plan.code == 0, plan.stdout + plan.stderr
    assert _buckets(_s3(sandbox), suffix) == [f"rec-a-{suffix}", f"rec-b-{suffix}"]


def _checkpoint(home: Path, project: str, stack: str) -> Path:
    return home / "state" / ".pulumi" / "stacks" / project / f"{stack}.json"


def test_repair_reconciles_a_crashed_state_and_a_wrong_passphrase_stops_first(
        sandbox: Any, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / "spec.yaml").write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    s3 = _s3(sandbox)
    first = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert first.code == 0, first.stderr

    # What a SIGKILL during the aws stage leaves: both creates pending (b reached the
    # cloud, a did not), and the Pulumi lock of a process that is gone.
    project, stack = f"rec{suffix}", f"rec{suffix}.local.aws"
    path = _checkpoint(provision_home, project, stack)
    doc = json.loads(path.read_text())
    latest = doc["checkpoint"]["latest"]
    pending = [r for r in latest["resources"] if r["urn"].rsplit("::", 1)[-1] in ("a", "b")]
    latest["resources"] = [r for r in latest["resources"] if r not in pending]
    latest["pending_operations"] = [
        {"resource": {k: v for k, v in r.items() if k not in ("id", "outputs")},
         "type": "creating"} for r in pending]
    path.write_text(json.dumps(doc))
    s3.delete_bucket(Bucket=f"rec-a-{suffix}")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_dir = provision_home / "state" / ".pulumi" / "locks" / "organization" / project / stack
    lock_dir.mkdir(parents=True, exist_ok=True)
    (lock_dir / "0d0d.json").write_text(json.dumps(
        {"pid": dead.pid, "username": "ci", "hostname": os.uname().nodename,
         "timestamp": "2026-01-01T00:00:00Z"}))

    dry = run_cli("repair", "spec.yaml", "--env", "local", "--dry-run", env=env)
    assert dry.code == 0, dry.stderr
    assert f"stage aws ({stack}): would" in dry.stdout
    assert f"creating b: import (exists in the cloud as rec-b-{suffix})" in dry.stdout
    assert "creating a: drop (not found in the cloud)" in dry.stdout
    assert f"no longer running" in dry.stdout and "0d0d.json" in dry.stdout
    assert "pending_operations" in path.read_text() and (lock_dir / "0d0d.json").exists()

    fixed = run_cli("repair", "spec.yaml", "--env", "local", env=env)
    assert fixed.code == 0, fixed.stderr
    assert f"stage aws ({stack}): did" in fixed.stdout
    assert not (lock_dir / "0d0d.json").exists()
    assert "pending_operations" not in json.loads(path.read_text())["checkpoint"]["latest"]
    plan = run_cli("plan", "spec.yaml", "--env", "local", "--json", env=env)
    changes = [(c["id"], c["action"]) for s in json.loads(plan.stdout)["stages"]
               for c in s["changes"] if c["action"] != "noop"]
    assert ("a", "create") in changes and ("b", "create") not in changes

    again = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert again.code == 0, again.stderr
    assert run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode",
                   env=env).code == 0
    assert _buckets(s3, suffix) == [f"rec-a-{suffix}", f"rec-b-{suffix}"]

    # A wrong passphrase on existing state: exit 1 before any cloud call.
    s3.delete_bucket(Bucket=f"rec-a-{suffix}")
    wrong = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy",
                    env={**env, "PULUMI_CONFIG_PASSPHRASE": "not-the-passphrase"})
    assert wrong.code == 1
    # (local's stacks were made with the generated file: the error names the variable)
    assert "the stacks of 'local' were made with the generated passphrase" in wrong.stderr
    assert "PULUMI_CONFIG_PASSPHRASE is set and takes precedence" in wrong.stderr
    assert "not-the-passphrase" not in wrong.stderr + wrong.stdout
    assert "apply stage" not in wrong.stderr and "Traceback" not in wrong.stderr
    assert _buckets(s3, suffix) == [f"rec-b-{suffix}"]     # nothing was re-created
    # The generated local passphrase is never regenerated while stacks exist.
    (provision_home / "passphrase").unlink()
    missing = run_cli("plan", "spec.yaml", "--env", "local", env=env)
    assert missing.code == 1
    assert "passphrase file" in missing.stderr and "is missing" in missing.stderr
    assert not (provision_home / "passphrase").exists()


def test_a_stack_locked_by_a_live_process_says_so(sandbox: Any, run_cli: Run, tmp_path: Path,
                                                   provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / "spec.yaml").write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    # The aws stage's stack exists (a plan of a stage without state creates none).
    assert run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy",
                   "--target", "a", env=env).code == 0
    project, stack = f"rec{suffix}", f"rec{suffix}.local.aws"
    lock_dir = provision_home / "state" / ".pulumi" / "locks" / "organization" / project / stack
    lock_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (lock_dir / "live.json").write_text(json.dumps(
            {"pid": holder.pid, "username": "ci", "hostname": os.uname().nodename,
             "timestamp": datetime.now(timezone.utc).isoformat()}))
        result = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 1
    assert "stage 'aws' is locked" in result.stderr and "live.json" in result.stderr
    assert f"pid {holder.pid}" in result.stderr and "still running" in result.stderr
    assert "provision repair spec.yaml --env local" in result.stderr
    assert "code: 1" not in result.stderr and "Traceback" not in result.stderr
    assert _buckets(_s3(sandbox), suffix) == [f"rec-a-{suffix}"]     # nothing more


def test_creates_of_a_vpc_subnet_and_group_left_pending_are_adopted_not_orphaned(
        sandbox: Any, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    """EC2 networks have no unique name: a VPC is found by the create token the engine
    records in its inputs, a subnet by VPC and CIDR, a group by name and VPC."""
    import random

    suffix = uuid.uuid4().hex[:8]
    cidr = f"10.{random.randint(0, 255)}.0.0/16"
    (tmp_path / "spec.yaml").write_text(f"""
name: net{suffix}
environments:
  local: {{aws: {{region: us-east-1}}}}
resources:
  vpc: {{type: aws:ec2:Vpc, properties: {{cidr_block: {cidr}, tags: {{Name: net-{suffix}}}}}}}
  subnet:
    type: aws:ec2:Subnet
    properties: {{vpc_id: "${{vpc.id}}", cidr_block: {cidr.replace(".0.0/16", ".1.0/24")}}}
  web:
    type: aws:ec2:SecurityGroup
    properties: {{name_prefix: web-{suffix}-, description: web, vpc_id: "${{vpc.id}}"}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    first = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert first.code == 0, first.stderr
    # The fresh token each plan checks with is never a change.
    assert run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", "--no-policy",
                   env=env).code == 0

    # What a SIGKILL right after the three creates reached the cloud leaves.
    path = _checkpoint(provision_home, f"net{suffix}", f"net{suffix}.local.aws")
    doc = json.loads(path.read_text())
    latest = doc["checkpoint"]["latest"]
    pending = [r for r in latest["resources"]
               if r["urn"].rsplit("::", 1)[-1] in ("vpc", "subnet", "web")]
    assert len(pending) == 3
    assert len(next(r for r in pending if r["urn"].endswith("::vpc"))["inputs"]
               ["__create_token"]) == 32
    latest["resources"] = [r for r in latest["resources"] if r not in pending]
    latest["pending_operations"] = [
        {"resource": {k: v for k, v in r.items() if k not in ("id", "outputs")},
         "type": "creating"} for r in pending]
    path.write_text(json.dumps(doc))

    fixed = run_cli("repair", "spec.yaml", "--env", "local", env=env)
    assert fixed.code == 0, fixed.stderr
    for rid in ("vpc", "subnet", "web"):
        assert f"creating {rid}: import (exists in the cloud as " in fixed.stdout, fixed.stdout
    again = run_cli("apply", "spec.yaml", "--env", "local", "--yes", "--no-policy", env=env)
    assert again.code == 0, again.stderr
    assert run_cli("plan", "spec.yaml", "--env", "local", "--detailed-exitcode", "--no-policy",
                   env=env).code == 0
    aws = sandbox.cloud_settings()["aws"]
    ec2 = boto3.client("ec2", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"net-{suffix}"]}])["Vpcs"]
    assert len(vpcs) == 1, vpcs
    vpc_id = vpcs[0]["VpcId"]
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
               ["Subnets"]) == 1
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert [g["GroupName"] for g in groups["SecurityGroups"]
            if g["GroupName"] != "default"][0].startswith(f"web-{suffix}-")
    assert len(groups["SecurityGroups"]) == 2          # ours and the VPC's default group
    assert run_cli("destroy", "spec.yaml", "--env", "local", "--yes", env=env).code == 0
