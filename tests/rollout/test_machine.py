"""The rollout state machine on an in-memory world (tests/rollout/rollout_fakes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollout_fakes import Events, World
from provision.history import History
from provision.plan.saved import read_plan
from provision.rollout.machine import Rollout, RolloutResult
from provision.rollout.state import RolloutState, chain_to
from provision.spec.model import HealthCheck
from provision.vocabulary import ExitCode, Operation, Outcome

CHAIN = ["dev", "staging", "prod"]


class Harness:
    def __init__(self, tmp: Path, world: World) -> None:
        self.tmp, self.world = tmp, world
        self.history = History.open(tmp / "h.db", home=tmp)
        self.run_id = ""
        self.ui: Events = Events()

    def start(self, chain: list[str] = CHAIN, *, rollback: bool = False,
              ask: Any = None) -> RolloutResult:
        record = self.history.start(Operation.ROLLOUT, spec="demo", env=chain[-1])
        self.run_id = record.id
        state = RolloutState("demo.yaml", list(chain), rollback_on_failure=rollback)
        return self._go(state, record, ask)

    def resume(self, ask: Any = None) -> RolloutResult:
        run = self.history.run(self.run_id)
        state = RolloutState.from_dict(run["detail"]["rollout"], self.run_id)
        return self._go(state, self.history.resume(self.run_id), ask)

    def _go(self, state: RolloutState, record: Any, ask: Any) -> RolloutResult:
        self.ui = Events(record)
        result = Rollout(state, history=self.history, record=record, factory=self.world.driver,
                         ui=self.ui, plans_dir=self.tmp / "plans" / record.id, ask=ask).run()
        record.finish(result.outcome, exit_code=int(result.exit_code))
        return result

    def env_state(self, env: str) -> dict[str, Any]:
        return dict(self.history.run(self.run_id)["detail"]["rollout"]["envs"][env])

    def approve(self, env: str = "prod", digest: str | None = None) -> None:
        self.history.approve(self.run_id, env, who="github:carol",
                             plan_digest=digest or self.env_state(env)["plan_digest"])


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, World())


def test_protected_env_halts_then_resume_applies_exactly_the_approved_plan(h: Harness) -> None:
    result = h.start()
    assert (result.outcome, result.exit_code) == (Outcome.HALTED, ExitCode.HALTED)
    assert result.halt is not None and (result.halt.env, result.halt.gate) == ("prod", "approval")
    assert f"provision approve {h.run_id} --env prod" in result.halt.hint
    assert [e for e, _, _ in h.world.applies] == ["dev"] * 3 + ["staging"] * 3
    prod = h.env_state("prod")
    assert prod["status"] == "waiting" and prod["plan_digest"].startswith("sha256:")
    assert h.ui.named("approval_needed")[0]["plan_digest"] == prod["plan_digest"]
    stored = read_plan(Path(prod["plan_file"]))

    # Resuming without an approval halts again, on the same plan.
    again = h.resume()
    assert again.exit_code is ExitCode.HALTED and h.env_state("prod") == prod

    h.approve()
    h.world.planned.clear()
    done = h.resume()
    assert (done.outcome, done.exit_code) == (Outcome.APPLIED, ExitCode.OK)
    assert h.world.planned == []          # nothing re-planned: the stored plan was applied
    applied = {(stage, tuple(inputs.items())) for env, stage, inputs in h.world.applies
               if env == "prod"}
    assert applied == {(c.stage, tuple((c.after or {}).items()))
                       for s in stored.stages for c in s.changes}
    assert h.env_state("prod")["status"] == "applied"
    view = h.history.show(h.run_id)
    steps = [(s["env"], s["kind"], s["name"], s["status"]) for s in view.steps]
    assert ("dev", "plan", "plan", "planned") in steps
    assert ("prod", "approval", "approval", "waiting") in steps
    assert ("prod", "approval", "approval", "approved") in steps
    assert [s[3] for s in steps if s[0] == "prod" and s[1] == "stage"] == ["applied"] * 3
    assert view.run["outcome"] == "applied" and h.history.verify().ok
    assert view.run["detail"]["graph"] == {"aws": [], "azure": ["aws"], "gcp": ["azure"]}
    # Every environment it took was released, with how it ended.
    assert h.world.closed[-1] == ("prod", "applied") and ("prod", "waiting") in h.world.closed


def test_prod_only_change_after_approval_voids_it_and_still_promotes(h: Harness) -> None:
    h.start()
    old = h.env_state("prod")["plan_digest"]
    h.approve()
    h.world.spec_version = 2
    h.world.overrides["prod"] = {"gcp": {"name": "gcp-2"}}     # dev and staging resolve as before
    result = h.resume()
    assert result.exit_code is ExitCode.HALTED and result.halt is not None
    assert result.halt.gate == "approval"
    new = h.env_state("prod")["plan_digest"]
    assert new != old and result.halt.what == new
    assert [e for e, _, _ in h.world.applies if e == "prod"] == []      # prod untouched
    voided = [e for e in h.ui.named("gate") if e["status"] == "voided"]
    assert voided and "spec demo.yaml changed" in voided[0]["reason"]
    h.approve()
    assert h.resume().exit_code is ExitCode.OK
    assert h.world.state["prod"]["gcp"] == {"name": "gcp-2"}
    assert h.world.state["staging"]["gcp"] == {"name": "gcp-1"}
    assert h.env_state("prod")["resolved_digest"] != h.env_state("staging")["resolved_digest"]


def test_shared_change_after_staging_halts_the_promotion(h: Harness) -> None:
    h.start()
    h.approve()
    h.world.planned.clear()
    h.world.spec_version = 2
    h.world.desired["gcp"] = {"name": "gcp-2"}       # every environment resolves to it
    result = h.resume()
    assert (result.outcome, result.exit_code) == (Outcome.HALTED, ExitCode.HALTED)
    assert result.halt is not None
    assert (result.halt.env, result.halt.gate, result.halt.what) == (
        "prod", "promotion", "dev, staging")
    assert "dev, staging" in result.halt.reason and "'prod'" in result.halt.reason
    assert "provision rollout demo.yaml --to prod" in result.halt.hint
    assert not h.world.state.get("prod") and "prod" not in h.world.planned     # prod untouched
    prod = h.env_state("prod")
    assert prod["status"] == "blocked" and prod["plan_digest"] == ""
    [gate] = [e for e in h.ui.named("gate") if e["gate"] == "promotion"]
    assert (gate["status"], gate["changed"]) == ("failed", ["dev", "staging"])
    steps = [(s["env"], s["kind"], s["status"]) for s in h.history.show(h.run_id).steps]
    assert ("prod", "promotion", "failed") in steps

    # Resuming again (with or without approvals) halts again: only a new rollout promotes.
    for _ in range(2):
        again = h.resume()
        assert again.halt is not None and again.halt.gate == "promotion"
        assert again.exit_code is ExitCode.HALTED
    assert not h.world.state.get("prod") and "prod" not in h.world.planned
    fresh = h.start()
    assert fresh.halt is not None and fresh.halt.gate == "approval"
    assert h.world.state["staging"]["gcp"] == {"name": "gcp-2"}      # through staging first


def test_a_state_without_resolved_digests_does_not_promote(h: Harness) -> None:
    h.start()
    run = h.history.run(h.run_id)
    rollout = run["detail"]["rollout"]
    for env in ("dev", "staging"):              # as recorded before the promotion gate
        del rollout["envs"][env]["resolved_digest"]
    h.history.resume(h.run_id).update(detail={"rollout": rollout})
    h.approve()
    result = h.resume()
    assert result.halt is not None and result.halt.gate == "promotion"
    assert not h.world.state.get("prod")


def test_state_change_after_approval_voids_it(h: Harness) -> None:
    h.start()
    h.approve()
    h.world.state.setdefault("prod", {})["aws"] = {"name": "changed by hand"}
    result = h.resume()
    assert result.exit_code is ExitCode.HALTED
    voided = [e for e in h.ui.named("gate") if e["status"] == "voided"]
    assert "state of stage 'aws' changed" in voided[0]["reason"]


def test_an_approval_of_another_digest_does_not_count(h: Harness) -> None:
    h.start()
    h.approve(digest="sha256:something-else")
    assert h.resume().exit_code is ExitCode.HALTED
    assert "prod" not in h.world.state or not h.world.state["prod"]


def test_a_resume_that_fails_before_the_apply_keeps_the_approval(h: Harness) -> None:
    # The sequence of a user's report: the passphrase missing at the start, the halt,
    # the approval, a resume without the passphrase, then one with it.
    h.world.broken["prod"] = "incorrect passphrase for the state of prod"
    first = h.start()
    assert first.exit_code is ExitCode.ERROR and h.env_state("prod")["status"] == "failed"
    del h.world.broken["prod"]
    halted = h.resume()
    assert halted.halt is not None and halted.halt.gate == "approval"
    digest = h.env_state("prod")["plan_digest"]
    h.approve()
    h.world.broken["prod"] = "incorrect passphrase for the state of prod"
    failed = h.resume()
    assert (failed.outcome, failed.exit_code) == (Outcome.FAILED, ExitCode.ERROR)
    assert failed.halt is not None and "incorrect passphrase" in failed.halt.reason
    prod = h.env_state("prod")
    # Nothing was applied: the gate still stands, with its plan and its approval.
    assert (prod["status"], prod["plan_digest"]) == ("waiting", digest)
    assert "incorrect passphrase" in prod["reason"]
    del h.world.broken["prod"]
    h.world.planned.clear()
    done = h.resume()
    assert (done.outcome, done.exit_code) == (Outcome.APPLIED, ExitCode.OK)
    assert h.world.planned == [] and h.env_state("prod")["status"] == "applied"
    steps = [(s["env"], s["kind"], s["status"]) for s in h.history.show(h.run_id).steps
             if s["env"] == "prod"]
    assert steps.count(("prod", "approval", "waiting")) == 1
    assert steps.count(("prod", "error", "failed")) == 2      # each failed attempt, in order
    assert steps[-4:-3] == [("prod", "approval", "approved")]


def test_a_fresh_plan_with_an_approved_digest_needs_no_second_approval(h: Harness) -> None:
    # A state an older version left: the environment failed after its approval, before
    # anything was applied; the plan made again is the approved one.
    h.start()
    digest = h.env_state("prod")["plan_digest"]
    h.approve()
    run = h.history.run(h.run_id)
    run["detail"]["rollout"]["envs"]["prod"].update(status="failed", reason="passphrase")
    h.history.resume(h.run_id).update(detail={"rollout": run["detail"]["rollout"]})
    done = h.resume()
    assert (done.outcome, done.exit_code) == (Outcome.APPLIED, ExitCode.OK)
    approved = [e for e in h.ui.named("gate") if e["status"] == "approved"]
    assert [e["plan_digest"] for e in approved] == [digest]
    assert [a.plan_digest for a in h.history.approvals(h.run_id, "prod")] == [digest]


def test_failing_health_check_in_staging_halts_before_prod(h: Harness) -> None:
    h.world.health["staging"] = [
        HealthCheck("name ok", "output", "aws_res.name", equals="aws-1"),
        HealthCheck("wrong name", "output", "gcp_res.name", equals="nope")]
    result = h.start()
    assert (result.outcome, result.exit_code) == (Outcome.HALTED, ExitCode.HALTED)
    assert result.halt is not None
    assert (result.halt.env, result.halt.gate, result.halt.what) == ("staging", "health", "wrong name")
    assert "expected 'nope'" in result.halt.reason
    assert "prod" not in h.world.planned and "prod" not in h.world.state
    # Fix the check, resume: staging is not re-applied (unchanged), its checks pass, prod halts.
    h.world.health["staging"] = [HealthCheck("name ok", "output", "gcp_res.name", equals="gcp-1")]
    h.world.applies.clear()
    resumed = h.resume()
    assert resumed.halt is not None and resumed.halt.env == "prod"
    assert [e for e, _, _ in h.world.applies] == []
    assert h.env_state("staging")["status"] == "unchanged"


def test_policy_violation_halts_with_exit_3_naming_stage_and_rule(h: Harness) -> None:
    h.world.violate["staging"] = "azure"
    result = h.start()
    assert (result.outcome, result.exit_code) == (Outcome.POLICY_VIOLATION, ExitCode.POLICY)
    assert result.halt is not None
    assert (result.halt.env, result.halt.stage, result.halt.what) == ("staging", "azure", "PRV-TEST-001")
    assert "prod" not in h.world.planned


def test_failed_stage_rolls_back_the_environment_in_reverse(h: Harness) -> None:
    h.world.state["staging"] = {"aws": {"name": "aws-0"}, "azure": {"name": "azure-0"}}
    h.world.desired = {"aws": {"name": "aws-1"}, "azure": {"name": "azure-1"},
                       "gcp": {"name": "gcp-1"}}
    h.world.fail_stage["staging"] = "gcp"
    result = h.start(rollback=True)
    assert (result.outcome, result.exit_code) == (Outcome.FAILED, ExitCode.ERROR)
    assert result.halt is not None and result.halt.stage == "gcp"
    assert h.world.rollbacks == [("staging", "gcp"), ("staging", "azure"), ("staging", "aws")]
    assert h.world.state["staging"] == {"aws": {"name": "aws-0"}, "azure": {"name": "azure-0"}}
    rolled = [s for s in h.history.show(h.run_id).steps if s["kind"] == "rollback"]
    assert [(s["name"], s["status"]) for s in rolled] == [
        ("gcp", "rolled-back"), ("azure", "rolled-back"), ("aws", "rolled-back")]


def test_an_interrupted_environment_is_not_done(h: Harness) -> None:
    h.world.interrupt["staging"] = "azure"
    result = h.start()
    assert (result.outcome, result.exit_code) == (Outcome.INTERRUPTED, ExitCode.INTERRUPTED)
    assert h.env_state("staging")["status"] == "interrupted" and "prod" not in h.world.planned
    h.world.interrupt.clear()
    h.world.applies.clear()
    assert h.resume().halt is not None                        # on to prod's approval
    assert [(e, s) for e, s, _ in h.world.applies] == [("staging", "azure"), ("staging", "gcp")]


def test_unchanged_environments_are_recorded_and_need_no_approval(h: Harness) -> None:
    assert h.start(["dev"]).exit_code is ExitCode.OK
    for env in CHAIN:
        h.world.state[env] = {k: dict(v) for k, v in h.world.desired.items()}
    h.world.applies.clear()
    result = h.start()
    assert result.exit_code is ExitCode.OK and h.world.applies == []
    assert [e["status"] for e in h.ui.named("env_done")] == ["unchanged"] * 3


def test_terminal_approval_applies_without_halting(h: Harness) -> None:
    asked: list[str] = []

    def ask(env: str, plan: Any, digest: str) -> bool:
        asked.append(env)
        return True

    assert h.start(ask=ask).exit_code is ExitCode.OK
    assert asked == ["prod"]
    [approval] = h.history.approvals(h.run_id, "prod")
    assert approval.plan_digest == h.ui.named("plan")[-1]["plan_digest"]


def test_chain_to() -> None:
    assert chain_to(CHAIN, "staging", "s.yaml") == ["dev", "staging"]
    with pytest.raises(Exception, match="not in the promotion chain"):
        chain_to(CHAIN, "qa", "s.yaml")
    with pytest.raises(Exception, match="declares no promotion chain"):
        chain_to([], "prod", "s.yaml")
