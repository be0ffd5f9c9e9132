"""provision/engine/renames.py: which planned create and delete name one cloud resource
(the refusal itself, end to end, is in test_orchestrator.py)."""

from __future__ import annotations

from typing import Any

import providers
from provision.engine.renames import identity
from provision.plan.model import UNKNOWN, Change
from provision.vocabulary import Action


def test_a_rename_is_told_by_the_cloud_name_a_name_prefix_by_every_property() -> None:
    """The identity a rename is judged by: the properties that force a replacement, with
    defaults; for a name made from name_prefix, every property (its suffix hashes them)."""
    reg = providers.registry()

    def key(action: Action, props: dict[str, Any]) -> Any:
        values = {"after": props} if action is Action.CREATE else {"before": props}
        return identity(Change("x", "aws:sqs:Queue", action, "aws", **values), reg)

    assert key(Action.CREATE, {"name": "orders"}) == key(
        Action.DELETE, {"name": "orders", "fifo_queue": False, "delay_seconds": 5})
    assert key(Action.CREATE, {"name_prefix": "jobs-"}) == key(Action.DELETE,
                                                               {"name_prefix": "jobs-"})
    assert key(Action.CREATE, {"name_prefix": "jobs-", "delay_seconds": 5}) != key(
        Action.DELETE, {"name_prefix": "jobs-"})
    assert key(Action.CREATE, {"name": UNKNOWN}) is None
    assert identity(Change("v", "aws:ec2:Vpc", Action.CREATE, "aws",
                           after={"cidr_block": "10.0.0.0/16"}), reg) is None   # no unique name
