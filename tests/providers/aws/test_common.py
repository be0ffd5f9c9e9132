"""Helpers shared by the AWS adapters: names, tags, numbers from the engine, forms."""

from __future__ import annotations

import pytest

from provision.errors import ProviderError
from providers.aws import common


def test_physical_name_is_the_name_or_a_stable_prefixed_one() -> None:
    assert common.physical_name({"name": "orders"}, "t") == "orders"
    one = common.physical_name({"name_prefix": "orders-", "size": 1}, "t")
    assert one == common.physical_name({"name_prefix": "orders-", "size": 1}, "t")
    assert one.startswith("orders-") and len(one) == len("orders-") + common.SUFFIX_LENGTH
    assert one != common.physical_name({"name_prefix": "orders-", "size": 2}, "t")
    assert common.physical_name({"name_prefix": "q-"}, "t", keep=".fifo").endswith(".fifo")
    with pytest.raises(ProviderError, match="set 'name' or 'name_prefix'"):
        common.physical_name({}, "t")


def test_numbers_from_the_engine_become_integers_again() -> None:
    assert common.plain({"maxReceiveCount": 5.0, "ratio": 0.5, "l": [1.0, "x"]}) == \
        {"maxReceiveCount": 5, "ratio": 0.5, "l": [1, "x"]}
    assert common.tag_list({"cost": 1234.0, "a": "b"}) == [
        {"Key": "a", "Value": "b"}, {"Key": "cost", "Value": "1234"}]
    assert common.tag_changes({"a": 1.0, "b": "x"}, {"a": 1, "c": "y"}) == ({"c": "y"}, ["b"])


def test_as_recorded_keeps_the_spec_form_only_while_it_means_the_same() -> None:
    assert common.as_recorded([2, 1], [1, 2], sorted) == [1, 2]
    assert common.as_recorded([3, 1], [1, 2], sorted) == [3, 1]
    assert common.as_recorded({"a": 1}, None, sorted) == {"a": 1}
