"""``--no-policy``: refused on a protected environment without ``--unsafe-bypass-policy``;
otherwise warned on stderr, emitted as an event, kept in the run's detail and the audit log."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from rich.console import Console

from cli_helpers import REPO, Run
from provision.cli.policy_skip import AUDIT_ACTION, announce_skipped, refuse_unless_bypassed
from provision.errors import PolicyBypassRefusedError
from provision.history import History
from provision.spec.model import Environment
from provision.vocabulary import Operation, Outcome

SPEC = """name: app
promotion: [dev, prod]
environments:
  dev: {}
  prod: {protected: true, aws: {region: eu-west-1}}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: app-logs}
"""


def _spec(tmp_path: Path) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(SPEC)
    return str(path)


@pytest.mark.parametrize("command", [["apply", "SPEC", "--env", "prod", "--yes"],
                                     ["rollout", "SPEC", "--to", "prod", "--non-interactive"]])
def test_no_policy_on_a_protected_environment_is_refused_before_anything_runs(
        run_cli: Run, tmp_path: Path, command: list[str]) -> None:
    spec = _spec(tmp_path)
    args = [spec if a == "SPEC" else a for a in command]
    result = run_cli(*args, "--no-policy")
    assert result.code == 1, result.stdout + result.stderr
    assert "--no-policy refused: environment 'prod' is protected" in result.stderr
    assert "--unsafe-bypass-policy" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(run_cli("runs", "list", "--json").stdout)["runs"] == []   # nothing ran


def test_the_bypass_flag_alone_is_a_usage_error(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("apply", _spec(tmp_path), "--env", "prod", "--yes",
                     "--unsafe-bypass-policy")
    assert result.code == 2 and "only goes with --no-policy" in result.stderr


def test_refusal_names_only_protected_environments() -> None:
    dev, prod = Environment("dev"), Environment("prod", protected=True)
    refuse_unless_bypassed([dev], no_policy=True, bypass=False, command="apply")
    refuse_unless_bypassed([dev, prod], no_policy=True, bypass=True, command="rollout")
    refuse_unless_bypassed([prod], no_policy=False, bypass=False, command="apply")
    with pytest.raises(PolicyBypassRefusedError) as info:
        refuse_unless_bypassed([dev, prod], no_policy=True, bypass=False, command="rollout")
    assert info.value.envs == ["prod"]
    assert "provision rollout ... --no-policy --unsafe-bypass-policy" in info.value.hint


def test_skipping_is_warned_emitted_and_recorded_in_the_run_and_the_audit_log(
        run_cli: Run, provision_home: Path) -> None:
    hist = History.open(provision_home / "history.db", home=provision_home)
    record = hist.start(Operation.APPLY, spec="app", env="prod", who="ci")
    events: list[tuple[str, dict[str, Any]]] = []
    stderr = io.StringIO()
    announce_skipped(record, [Environment("prod", protected=True)], bypass=True,
                     emit=lambda event, **fields: events.append((event, fields)),
                     err=Console(file=stderr, width=200))
    record.finish(Outcome.APPLIED, exit_code=0)
    assert "warning: --no-policy: no policy is checked" in stderr.getvalue()
    assert "prod changed under --unsafe-bypass-policy" in stderr.getvalue()
    assert events == [("policy_skipped", {"envs": ["prod"], "skipped": True, "bypass": True,
                                          "protected": ["prod"]})]
    schema = json.loads((REPO / "docs" / "events.schema.json").read_text())
    Draft202012Validator(schema).validate({"event": "policy_skipped",
                                           "time": "2026-11-30T10:00:00+00:00", **events[0][1]})
    rows = hist.conn.execute("SELECT action, payload FROM audit WHERE run_id=?",
                             (record.id,)).fetchall()
    [payload] = [json.loads(r["payload"]) for r in rows if r["action"] == AUDIT_ACTION]
    assert payload["bypass"] is True and payload["envs"] == ["prod"]
    assert hist.verify().ok
    hist.close()
    shown = run_cli("runs", "show", record.id)
    assert "policies skipped (--no-policy, --unsafe-bypass-policy on protected prod)" \
        in shown.stdout, shown.stdout
    doc = json.loads(run_cli("runs", "show", record.id, "--json").stdout)
    assert doc["detail"]["policy"]["skipped"] is True
