"""Comparing a saved plan's change with the same change planned again."""

from __future__ import annotations

from typing import Any

from provision.engine.freshness import NO_STATE, same_as_shown, state_unchanged
from provision.engine.protocol import StackSnapshot
from provision.plan.model import UNKNOWN, Action, Change


def change(after: dict[str, Any], action: Action = Action.UPDATE,
           unknown: list[str] | None = None, before: dict[str, Any] | None = None) -> Change:
    return Change(id="a", type="t", action=action, stage="s", after=after,
                  unknown=unknown or [], before=before)


def test_values_shown_as_unknown_may_be_anything_now_others_must_match() -> None:
    saved = change({"size": 2, "members": [UNKNOWN, "x"]}, unknown=["members.0"])
    assert same_as_shown(saved, change({"size": 2, "members": ["arn:1", "x"]}))
    assert not same_as_shown(saved, change({"size": 3, "members": ["arn:1", "x"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1", "y"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1", "x"]},
                                           action=Action.REPLACE))


def test_a_resource_changed_in_the_cloud_since_the_plan_is_a_difference() -> None:
    # Planned 55 -> 56; someone set 88 meanwhile: the apply would change 88, not 55.
    saved = change({"size": 56}, before={"size": 55})
    assert same_as_shown(saved, change({"size": 56}, before={"size": 55}))
    assert not same_as_shown(saved, change({"size": 56}, before={"size": 88}))
    tagged = change({"tags": {"cc": "2"}}, before={"tags": {"cc": "1"}})
    assert not same_as_shown(tagged, change({"tags": {"cc": "2"}},
                                            before={"tags": {"cc": "1", "owner": "x"}}))
    masked = change({"password": "n"}, before={"password": {"$sensitive": True}})
    assert same_as_shown(masked, change({"password": "n"}, before={"password": "old"}))


def test_masked_secrets_are_not_compared_and_new_unknowns_are_a_difference() -> None:
    saved = change({"password": {"$sensitive": True}, "size": 1})
    assert same_as_shown(saved, change({"password": "hunter2", "size": 1}))
    assert not same_as_shown(saved, change({"password": "x", "size": UNKNOWN}, unknown=["size"]))


def test_a_stage_planned_without_a_stack_is_unchanged_while_its_stack_records_nothing() -> None:
    """A plan's preview creates a new stage's stack, empty; the plan records NO_STATE for
    it without reading the stack again."""
    assert state_unchanged(NO_STATE, None)
    assert state_unchanged(NO_STATE, StackSnapshot(outputs={}, digest="d0"))
    assert not state_unchanged(NO_STATE, StackSnapshot(outputs={"a": {"id": "x"}}, digest="d1",
                                                       recorded={"a": {"id": "x"}}))
    assert not state_unchanged(NO_STATE, StackSnapshot(outputs={"a": {"id": "x"}}, digest=""))
    assert state_unchanged("d1", StackSnapshot(outputs={}, digest="d1"))
    assert not state_unchanged("d1", StackSnapshot(outputs={}, digest="d2"))
    assert not state_unchanged("d1", None)


def test_a_saved_plan_is_refused_up_front_naming_every_stage_that_moved() -> None:
    import pytest

    from provision.engine.freshness import ensure_state_unchanged
    from provision.errors import StalePlanError
    from provision.plan.model import Plan, StagePlan

    plan = Plan("s", "dev", "s.yaml", [StagePlan(n, f"s.dev.{n}") for n in ("aws", "gcp", "new")],
                state_digests={"aws": "sha256:a", "gcp": "sha256:g", "new": NO_STATE})
    same = {"aws": StackSnapshot(outputs={}, digest="sha256:a"),
            "gcp": StackSnapshot(outputs={}, digest="sha256:g")}
    ensure_state_unchanged(plan, same)                      # nothing moved: no error
    moved = {**same, "gcp": StackSnapshot(outputs={}, digest="sha256:other"),
             "new": StackSnapshot(outputs={"b": {"id": "x"}}, digest="sha256:n")}
    with pytest.raises(StalePlanError) as raised:
        ensure_state_unchanged(plan, moved)
    assert str(raised.value).startswith("the state of stages 'gcp', 'new' changed since the "
                                        "plan was made; nothing was applied")
