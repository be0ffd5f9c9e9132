"""Comparing a saved plan's change with the same change planned again."""

from __future__ import annotations

from typing import Any

from provision.engine.freshness import same_as_shown
from provision.plan.model import UNKNOWN, Action, Change


def change(after: dict[str, Any], action: Action = Action.UPDATE,
           unknown: list[str] | None = None) -> Change:
    return Change(id="a", type="t", action=action, stage="s", after=after,
                  unknown=unknown or [])


def test_values_shown_as_unknown_may_be_anything_now_others_must_match() -> None:
    saved = change({"size": 2, "members": [UNKNOWN, "x"]}, unknown=["members.0"])
    assert same_as_shown(saved, change({"size": 2, "members": ["arn:1", "x"]}))
    assert not same_as_shown(saved, change({"size": 3, "members": ["arn:1", "x"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1", "y"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1"]}))
    assert not same_as_shown(saved, change({"size": 2, "members": ["arn:1", "x"]},
                                           action=Action.REPLACE))


def test_masked_secrets_are_not_compared_and_new_unknowns_are_a_difference() -> None:
    saved = change({"password": {"$sensitive": True}, "size": 1})
    assert same_as_shown(saved, change({"password": "hunter2", "size": 1}))
    assert not same_as_shown(saved, change({"password": "x", "size": UNKNOWN}, unknown=["size"]))
