"""``provision worker`` rebuilds a rollout for each of its workflow's steps from the run
history (provision/cli/worker_cmd.py ``Rollouts``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.cli.worker_cmd import Rollouts
from provision.history import History
from provision.rollout.state import RolloutState
from provision.vocabulary import Operation


def test_a_worker_rebuilds_a_rollout_from_the_run_history(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    hist = History.open(provision_home / "history.db", home=provision_home)
    state = RolloutState(str(tmp_path / "demo.yaml"), ["dev", "prod"], policies="")
    state.envs["dev"].status = "applied"
    record = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    record.update(detail={"rollout": state.to_dict()})
    hist.close()

    context = Rollouts(lambda text: None, "temporal://127.0.0.1:7233")(record.id)
    try:
        rollout = context.rollout
        assert (rollout.run_id, rollout.state.to_dict()) == (record.id, state.to_dict())
        assert rollout.plans_dir == provision_home / "rollouts" / record.id
        assert rollout.step("dev") is None            # done earlier: not redone
        assert context.history.path == provision_home / "history.db"
    finally:
        context.close()


def test_a_worker_s_steps_after_the_client_s_ending_keep_the_audit_log_verifying(
        tmp_path: Path, provision_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a cluster the rollout's workflow may go on (an approval arrived) after the client
    recorded the run halted: what the worker records then is a continuation in the audit
    log, not an edit of the ended run."""
    from provision.vocabulary import Outcome

    monkeypatch.setenv("PROVISION_HOME", str(provision_home))
    hist = History.open(provision_home / "history.db", home=provision_home)
    state = RolloutState(str(tmp_path / "demo.yaml"), ["dev", "prod"], policies="")
    record = hist.start(Operation.ROLLOUT, spec="demo", env="prod")
    record.update(detail={"rollout": state.to_dict()})
    record.finish(Outcome.HALTED, exit_code=4)

    context = Rollouts(lambda text: None, "temporal://127.0.0.1:7233")(record.id)
    try:
        context.rollout.record.update(plan_digest="sha256:next")
        context.rollout.save()
    finally:
        context.close()
    report = hist.verify()
    hist.close()
    assert report.ok, report.problem
