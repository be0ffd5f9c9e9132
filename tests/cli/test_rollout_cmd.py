"""``provision rollout`` checks what every environment of its chain needs before the
first one is applied (no engine, no cloud: it stops before either)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import Run

SPEC = """
name: chain
promotion: [dev, prod]
environments:
  dev:
    sandbox: true
    aws: {region: us-east-1}
  prod:
    protected: true
    aws: {region: eu-west-1}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "chain-logs-${env.name}"}
"""


def test_a_missing_prod_passphrase_stops_the_rollout_before_dev_is_applied(
        run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    result = run_cli("rollout", "spec.yaml", "--to", "prod", "--non-interactive")
    assert result.code == 1, result.stdout + result.stderr
    assert "no state passphrase for environment 'prod'" in result.stderr
    assert "PROVISION_PASSPHRASE" in result.stderr and "Traceback" not in result.stderr
    assert "stage" not in result.stdout and "apply" not in result.stdout    # dev untouched
    runs = run_cli("runs", "list")
    assert runs.code == 0 and "rollout" not in runs.stdout                 # nothing started


def test_a_second_approval_of_the_same_plan_is_refused(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``approve`` twice: the second is refused naming the first approver (as the rollout's
    workflow refuses it on a temporal executor), and only one approval is recorded.
    Where it cannot ask (a pipe, --json, --non-interactive), approve needs --yes."""
    import io

    from provision.cli import rollout_cmd
    from provision.cli.recording import open_history
    from provision.errors import PlanError
    from provision.plan.digest import file_digest
    from provision.rollout.state import EnvState, RolloutState
    from provision.vocabulary import GateStatus, Operation

    plan = tmp_path / "prod.plan.json"
    plan.write_text("{}")
    state = RolloutState(str(tmp_path / "spec.yaml"), ["dev", "prod"])
    state.envs["prod"] = EnvState(GateStatus.WAITING.value, file_digest(plan), str(plan))
    run_id = _recorded(state)

    def approve() -> int:
        return rollout_cmd.approve(run_id, "prod", comment="ok", as_json=True, yes=True,
                                   non_interactive=True)

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))     # `echo yes | provision approve`
    for as_json, non_interactive in ((False, False), (True, False), (False, True)):
        with pytest.raises(PlanError, match="approve needs --yes when it cannot ask") as info:
            rollout_cmd.approve(run_id, "prod", comment="ok", as_json=as_json, yes=False,
                                non_interactive=non_interactive)
        assert f"provision approve {run_id} --env prod --yes" in info.value.hint
    assert approve() == 0
    with pytest.raises(PlanError, match="prod in rollout .* is approved already"):
        approve()
    history = open_history()
    try:
        assert len(history.approvals(run_id, "prod")) == 1
    finally:
        history.close()


def test_approve_after_a_halt_no_approval_passes_says_why_it_stopped(tmp_path: Path) -> None:
    """A rollout stopped at prod's promotion gate (or a health check) is not waiting for an
    approval: approve is refused with where and why it stopped, not a generic hint."""
    import pytest

    from provision.cli import rollout_cmd
    from provision.cli.recording import open_history
    from provision.errors import PlanError
    from provision.rollout.state import EnvState, RolloutState
    from provision.vocabulary import Operation, StageStatus

    state = RolloutState(str(tmp_path / "spec.yaml"), ["dev", "prod"])
    state.envs["dev"] = EnvState(StageStatus.APPLIED.value)
    state.envs["prod"] = EnvState(StageStatus.BLOCKED.value,
                                  reason="the spec as resolved for dev changed")
    run_id = _recorded(state)
    with pytest.raises(PlanError) as refused:
        rollout_cmd.approve(run_id, "prod", comment="", as_json=True, yes=True,
                            non_interactive=True)
    assert "is not waiting for an approval of 'prod' (prod: blocked)" in str(refused.value)
    assert refused.value.hint == ("it stopped at 'prod': the spec as resolved for dev changed; "
                                  f"see provision runs show {run_id}")


def _recorded(state: object) -> str:
    """A rollout run holding ``state`` in the run history (as a halted rollout leaves it)."""
    from provision.cli.recording import open_history
    from provision.rollout.state import RolloutState
    from provision.vocabulary import Operation

    assert isinstance(state, RolloutState)
    history = open_history()
    try:
        record = history.start(Operation.ROLLOUT, spec="chain", env="prod")
        record.update(detail={"rollout": state.to_dict()})
        return record.id
    finally:
        history.close()
