"""A rollout through ``--executor temporal-local``: the rollout is a Temporal workflow on
the dev server the CLI starts and stops, each environment a child workflow; the approval
halt leaves prod's workflow waiting for the approval, ``approve`` sends it as an update,
and the resume follows the workflow to the end (the rollout's state lives in the run
history and its workflows in the dev server's SQLite file, so no server runs while the
rollout waits)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import Run
from test_rollout_sandbox import _demo, _events, _exists, _s3
from test_temporal_executor_sandbox import _temporal_processes

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]


def test_rollout_halts_for_approval_and_resumes_through_temporal_local(
        sandbox: Any, run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    sfx = uuid.uuid4().hex[:6]
    spec = tmp_path / "demo.yaml"
    _demo(spec, sfx, failing_check=False)
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home), "PROVISION_EXECUTOR": "temporal-local"}
    s3 = _s3(sandbox.cloud_settings())

    first = run_cli("rollout", str(spec), "--to", "prod", "--json", "--non-interactive", env=env)
    assert first.code == 4, first.stdout + first.stderr
    events = _events(first)
    run_id = events[0]["run_id"]
    [needed] = [e for e in events if e["event"] == "approval_needed"]
    assert needed["env"] == "prod"
    assert _exists(s3, f"pdl{sfx}-dev") and _exists(s3, f"pdl{sfx}-staging")
    assert not _exists(s3, f"pdl{sfx}-prod")
    assert _temporal_processes(provision_home) == []        # no server while it waits
    halted = json.loads(run_cli("runs", "show", run_id, "--json", env=env).stdout)
    assert halted["detail"]["approval_gate"]["id"] == f"provision/rollout/{run_id}/prod"
    assert halted["detail"]["approval_gate"]["plan_digest"] == needed["plan_digest"]
    # The rollout is a workflow; prod's child workflow (the gate) waits in the SQLite file.
    assert halted["detail"]["workflow"]["id"] == f"provision/rollout/{run_id}"

    assert run_cli("approve", run_id, "--env", "prod", "--non-interactive", "--yes", env=env).code == 0
    last = run_cli("rollout", "--resume", run_id, "--json", env=env)
    assert last.code == 0, last.stdout + last.stderr
    assert _events(last)[-1]["outcome"] == "applied"
    # prod's apply was its environment workflow, on the server the rollout's client started.
    notices = [e["message"] for e in _events(last) if e["event"] == "notice"]
    assert any(f"workflow provision/demo{sfx}/prod on the Temporal dev server" in n
               for n in notices), notices
    assert _exists(s3, f"pdl{sfx}-prod")

    shown = json.loads(run_cli("runs", "show", run_id, "--json", env=env).stdout)
    steps = [(s["env"], s["kind"], s["name"], s["status"]) for s in shown["steps"]]
    for e in ("dev", "staging", "prod"):
        assert [s[2:] for s in steps if s[0] == e and s[1] == "stage"][-3:] == [
            ("aws", "applied"), ("azure", "applied"), ("gcp", "applied")]
    assert [s[3] for s in steps if s[:2] == ("prod", "approval")] == ["waiting", "approved"]
    assert _temporal_processes(provision_home) == []
