"""Shared adapter helpers: defaults, diffs of updatable properties, secret redaction."""

from __future__ import annotations

import pytest

from provision.errors import ProviderError
from provision.provider import PropertySchema, ResourceSchema
from providers.base import (
    changed, one_line, plan_update, redact, updatable_changes, with_defaults,
)

SCHEMA = ResourceSchema(
    type_name="test:x:Y", cloud="test", terraform_type="x_y",
    properties={
        "name": PropertySchema("string", required=True, force_new=True),
        "location": PropertySchema("string", required=True, force_new=True),
        "size": PropertySchema("integer", default=3),
        "tags": PropertySchema("map"),
        "enabled": PropertySchema("boolean", default=False),
    },
    outputs={"arn": "string"},
)


def test_defaults_fill_schema_and_config_values() -> None:
    values = with_defaults(SCHEMA, {"name": "a"}, {"location": "westeurope"})
    assert values == {"name": "a", "location": "westeurope", "size": 3, "tags": None,
                      "enabled": False}


def test_explicit_value_beats_config_default() -> None:
    values = with_defaults(SCHEMA, {"name": "a", "location": "eastus"}, {"location": "westeurope"})
    assert values["location"] == "eastus"


def test_missing_required_property_is_an_error() -> None:
    with pytest.raises(ProviderError, match="property 'location' is required"):
        with_defaults(SCHEMA, {"name": "a"})


def test_property_defaulted_from_config_is_required_after_defaulting() -> None:
    schema = ResourceSchema(type_name="test:x:Z", cloud="azure", terraform_type="x_z",
                            properties={"region": PropertySchema("string")})
    assert with_defaults(schema, {}) == {"region": None}
    with pytest.raises(ProviderError, match="property 'region' is required") as info:
        with_defaults(schema, {}, {"region": None})
    assert "'region' in the environment's azure settings" in info.value.hint


def test_unknown_property_is_rejected_with_the_accepted_names() -> None:
    with pytest.raises(ProviderError, match="unknown property sise") as info:
        with_defaults(SCHEMA, {"name": "a", "location": "l", "sise": 1})
    assert "size" in info.value.hint


def test_recorded_state_with_outputs_and_id_is_accepted() -> None:
    values = with_defaults(SCHEMA, {"id": "a", "name": "a", "location": "l", "arn": "arn:a"})
    assert "arn" not in values and "id" not in values


def test_defaults_are_copies_not_shared() -> None:
    props = {"name": "a", "location": "l", "tags": {"k": "v"}}
    values = with_defaults(SCHEMA, props)
    values["tags"]["k"] = "changed"
    assert props["tags"] == {"k": "v"}


def test_changed_treats_missing_and_empty_alike() -> None:
    old = {"name": "a", "tags": None, "enabled": None}
    assert changed(SCHEMA, old, {"name": "a", "tags": {}, "enabled": False}) == []
    assert changed(SCHEMA, old, {"name": "a", "tags": {"k": "v"}}) == ["tags"]


def test_updatable_changes_lists_in_place_changes() -> None:
    old = {"name": "a", "location": "l", "size": 1, "tags": {}}
    new = {"name": "a", "location": "l", "size": 2, "tags": {"k": "v"}}
    assert updatable_changes(SCHEMA, old, new) == ["size", "tags"]


def test_updatable_changes_refuses_force_new_properties() -> None:
    with pytest.raises(ProviderError, match="cannot update location in place") as info:
        updatable_changes(SCHEMA, {"name": "a", "location": "l"}, {"name": "a", "location": "m"},
                          resource="res")
    assert "replace" in info.value.hint
    assert info.value.resource == "res"


def test_plan_update_reads_recorded_state_leniently() -> None:
    # Recorded state may carry bookkeeping keys or properties an older adapter had.
    old = {"name": "a", "location": "l", "size": 1, "__inputs": ["name"], "retired": True}
    values, names = plan_update(SCHEMA, old, {"name": "a", "location": "l", "size": 4})
    assert names == ["size"] and values["size"] == 4


def test_plan_update_checks_desired_inputs_strictly() -> None:
    with pytest.raises(ProviderError, match="unknown property retired"):
        plan_update(SCHEMA, {"name": "a", "location": "l"},
                    {"name": "a", "location": "l", "retired": True})
    with pytest.raises(ProviderError, match="property 'location' is required"):
        plan_update(SCHEMA, {"name": "a", "location": "l"}, {"name": "a"}, {"location": None})


def test_plan_update_applies_config_defaults_to_both_sides() -> None:
    values, names = plan_update(SCHEMA, {"name": "a"}, {"name": "a", "tags": {"k": "v"}},
                                {"location": "westeurope"})
    assert names == ["tags"] and values["location"] == "westeurope"


@pytest.mark.parametrize("text, secret", [
    ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5==;", "c2VjcmV0a2V5=="),
    ("GET https://a.blob.core.windows.net/c?sv=2021&sig=AbCdEf%2Bg123 failed", "AbCdEf%2Bg123"),
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "eyJhbGciOiJSUzI1NiJ9"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
])
def test_redact_removes_secret_patterns(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_removes_secret_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sup3r-s3cret-value")
    assert redact("signed with sup3r-s3cret-value here") == "signed with *** here"


def test_redact_removes_extra_secrets_and_keeps_plain_text() -> None:
    assert redact("key abcdefgh123 used", ("abcdefgh123",)) == "key *** used"
    assert redact("The specified bucket does not exist") == "The specified bucket does not exist"


def test_one_line_collapses_and_bounds() -> None:
    assert one_line("Parameter validation failed:\n  Invalid bucket name") == \
        "Parameter validation failed: Invalid bucket name"
    assert len(one_line("x" * 2000)) == 500


def test_finish_create_returns_the_result_without_rolling_back() -> None:
    from providers.base import finish_create

    undone: list[str] = []
    assert finish_create(lambda: 42, lambda: undone.append("x"), resource="r",
                         resource_type="t") == 42
    assert undone == []


def test_finish_create_rolls_back_and_raises_the_original_error() -> None:
    from providers.base import finish_create

    undone: list[str] = []

    def fail() -> int:
        raise ProviderError("read failed", resource="r", resource_type="t")

    with pytest.raises(ProviderError, match="read failed") as info:
        finish_create(fail, lambda: undone.append("deleted"), resource="r", resource_type="t")
    assert undone == ["deleted"]
    assert info.value.hint == ""


def test_finish_create_names_what_is_left_when_the_rollback_fails() -> None:
    from providers.base import finish_create

    def fail() -> int:
        raise ProviderError("read failed", resource="r", resource_type="t", hint="retry")

    def undo() -> None:
        raise RuntimeError("delete refused")

    with pytest.raises(ProviderError, match="read failed") as info:
        finish_create(fail, undo, resource="bucket-1", resource_type="t")
    assert info.value.hint.startswith("retry; bucket-1 was created but could not be deleted "
                                      "again (delete refused)")


def test_create_once_refuses_a_name_taken_before_it_starts() -> None:
    from providers.base import create_once

    created: list[str] = []
    with pytest.raises(ProviderError, match="taken"):
        create_once(lambda: created.append("x"), exists=lambda: True,
                    conflict=lambda exc: True, adopt=lambda: None,
                    refuse=lambda: ProviderError("taken"))
    assert created == []


def test_create_once_adopts_its_own_resource_after_a_retried_create_conflicts() -> None:
    from providers.base import create_once

    class AlreadyExists(Exception):
        pass

    def create() -> str:
        raise AlreadyExists()

    assert create_once(create, exists=lambda: False,
                       conflict=lambda exc: isinstance(exc, AlreadyExists),
                       adopt=lambda: "id-1", refuse=lambda: ProviderError("taken")) == "id-1"

    def fail() -> str:
        raise ValueError("invalid")

    with pytest.raises(ValueError):  # any other error is the create's failure
        create_once(fail, exists=lambda: False,
                    conflict=lambda exc: isinstance(exc, AlreadyExists),
                    adopt=lambda: "id-1", refuse=lambda: ProviderError("taken"))
