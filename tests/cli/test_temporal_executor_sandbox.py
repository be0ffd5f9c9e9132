"""The three-cloud walking skeleton through ``--executor temporal-local``: the real CLI,
the real Pulumi engine, a Temporal dev server the CLI starts itself (SQLite under the
provision home) and an in-process worker. Every effect is verified with each cloud's
own SDK; the run record matches a local run's, and no server process is left behind."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import NotFound

from cli_helpers import Run
from test_e2e_sandbox import _clients, _spec

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def _temporal_processes(home: Path) -> list[int]:
    """Dev servers whose SQLite file is under ``home`` (this test's only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in argv and any(str(home).encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def _stages(stdout: str) -> tuple[str, dict[str, str]]:
    events = [json.loads(line) for line in stdout.splitlines()]
    [summary] = [e for e in events if e["event"] == "summary"]
    done = {e["stage"]: e["status"] for e in events if e["event"] == "stage_done"}
    return summary["status"], done


def _record(run_cli: Run, stdout: str, env: dict[str, str]) -> tuple[Any, ...]:
    """The run record of the run whose events are ``stdout``, less ids and times."""
    run_id = json.loads(stdout.splitlines()[0])["run_id"]
    shown = json.loads(run_cli("runs", "show", run_id, "--json", env=env).stdout)
    return (shown["operation"], shown["outcome"], shown["exit_code"],
            sorted((s["kind"], s["name"], s["status"]) for s in shown["steps"]))


def test_apply_replan_destroy_through_temporal_local_match_local(
        sandbox: Any, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(suffix))
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home), "PROVISION_EXECUTOR": "temporal-local"}
    s3, arm, gcs = _clients(sandbox.cloud_settings())

    applied = run_cli("apply", str(spec), "--env", "local", "--yes", "--json", env=env)
    assert applied.code == 0, applied.stderr
    assert _stages(applied.stdout) == ("applied", {"aws": "applied", "azure": "applied",
                                                   "gcp": "applied"})
    assert any("Temporal dev server" in json.loads(line).get("message", "")
               for line in applied.stdout.splitlines())
    assert (provision_home / "temporal" / "dev.sqlite").exists()
    assert _temporal_processes(provision_home) == []

    assert s3.head_bucket(Bucket=f"logs-e2e-{suffix}")["ResponseMetadata"]["HTTPStatusCode"] == 200
    group = arm.resource_groups.get(f"rg-e2e-{suffix}")
    assert group.tags["logs"] == f"arn:aws:s3:::logs-e2e-{suffix}"     # cross-cloud value
    assert gcs.get_bucket(f"art-rg-e2e-{suffix}").labels == {"owner": "e2e"}

    # The run record is the one a local apply of the same spec makes.
    other = tmp_path / "other.yaml"
    other_suffix = uuid.uuid4().hex[:8]
    other.write_text(_spec(other_suffix))
    local = run_cli("apply", str(other), "--env", "local", "--yes", "--json",
                    env={**env, "PROVISION_EXECUTOR": "local"})
    assert local.code == 0, local.stderr
    assert _stages(local.stdout) == _stages(applied.stdout)
    assert _record(run_cli, applied.stdout, env) == _record(run_cli, local.stdout, env)
    run_id = json.loads(applied.stdout.splitlines()[0])["run_id"]
    shown = json.loads(run_cli("runs", "show", run_id, "--json", env=env).stdout)
    assert shown["detail"]["workflow"]["id"] == f"provision/e2e{suffix}/local"
    human = run_cli("runs", "show", run_id, env=env).stdout
    assert f"workflow provision/e2e{suffix}/local (run " in human
    assert run_cli("destroy", str(other), "--env", "local", "--yes", env=env).code == 0

    # The local executor sees exactly the state the Temporal run left: no changes.
    again = run_cli("plan", str(spec), "--env", "local", "--detailed-exitcode",
                    env={**env, "PROVISION_EXECUTOR": "local"})
    assert again.code == 0, again.stdout + again.stderr

    destroyed = run_cli("destroy", str(spec), "--env", "local", "--yes", "--json", env=env)
    assert destroyed.code == 0, destroyed.stderr
    assert _stages(destroyed.stdout) == ("destroyed", {"aws": "destroyed", "azure": "destroyed",
                                                       "gcp": "destroyed"})
    assert f"logs-e2e-{suffix}" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not arm.resource_groups.check_existence(f"rg-e2e-{suffix}")
    with pytest.raises(NotFound):
        gcs.get_bucket(f"art-rg-e2e-{suffix}")
    assert _temporal_processes(provision_home) == []
