"""The dynamic-provider bridge without the engine: serializer guard, diff semantics,
per-run cloud settings and structured error records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provision.engine.dynamic import (CONFIG_ENV, INPUT_KEYS, RUN_DIR_ENV, AdapterProvider,
                                      decode_cloud_config, encode_cloud_config, read_errors)
from provision.errors import CloudError
from provision.provider import CloudConfig
from providers.testing import FILE_ENV, FakeAdapter

SERIALIZE_MANY = """
import sys
import pulumi.dynamic.dynamic as d
from provision.engine.dynamic import AdapterProvider, install_serializer_guard
if sys.argv[1] == "guarded":
    install_serializer_guard()
for i in range(1500):
    d.serialize_provider(AdapterProvider("test:fake:Thing", "providers.testing:FakeThing", f"r{i}"))
print("ok")
"""


@pytest.mark.parametrize("mode, ok", [("guarded", True), ("unguarded", False)])
def test_serializer_guard_prevents_the_recursion_error(mode: str, ok: bool) -> None:
    run = subprocess.run([sys.executable, "-c", SERIALIZE_MANY, mode], capture_output=True,
                         text=True, timeout=300, check=False)
    if ok:
        assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-500:]
    else:  # the SDK's own serializer really does fail: the guard is needed
        assert run.returncode != 0 and "RecursionError" in run.stderr


def provider() -> AdapterProvider:
    return AdapterProvider("test:fake:Thing", "providers.testing:FakeThing", "a")


def test_diff_ignores_values_the_cloud_filled_in() -> None:
    olds = {"name": "a", "size": 1, "arn": "x", INPUT_KEYS: ["name"]}  # size: a default
    result = provider().diff("a", olds, {"name": "a", "__provider": "p"})
    assert result.changes is False and result.replaces == []


def test_diff_sees_a_changed_and_a_removed_property() -> None:
    olds = {"name": "a", "size": 1, "tags": {"t": "1"}, INPUT_KEYS: ["name", "size", "tags"]}
    result = provider().diff("a", olds, {"name": "a", "size": 2})
    assert result.changes is True and result.replaces == []
    assert result.delete_before_replace is False


def test_diff_replaces_on_a_force_new_property_and_on_unknown_values() -> None:
    olds = {"name": "a", INPUT_KEYS: ["name"]}
    replaced = provider().diff("a", olds, {"name": "b"})
    assert replaced.replaces == ["name"] and replaced.delete_before_replace is True
    unknown = provider().diff("a", olds, {"name": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    assert unknown.changes is True and unknown.replaces == ["name"]


def test_cloud_settings_travel_per_run_not_in_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = encode_cloud_config({"test": CloudConfig("test", {"endpoint_url": "http://x"}, True)})
    config = decode_cloud_config("test", raw)
    assert config.settings == {"endpoint_url": "http://x"} and config.sandbox
    assert decode_cloud_config("aws", raw) == CloudConfig("aws", {}, False)
    assert "http://x" not in repr(vars(provider()))


def test_failures_are_recorded_as_structured_records(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "cloud.json"))
    monkeypatch.setenv(CONFIG_ENV, encode_cloud_config({}))
    FakeAdapter.cloud.fail_next("create", "fake error Throttled: slow down")
    with pytest.raises(CloudError):
        provider().create({"name": "a", "__provider": "p"})
    records = read_errors(tmp_path)
    assert records == [{"resource": "a", "type": "test:fake:Thing", "operation": "create",
                        "error": "CloudError", "message": "fake error Throttled: slow down",
                        "hint": ""}]
    json.dumps(records)


def test_numbers_from_the_wire_meet_their_schema_types() -> None:
    """Pulumi's wire format carries 3 as 3.0: the integer property gets 3 again, and a
    number in a map of strings becomes "3", never "3.0", in check, diff and create."""
    news = {"name": "a", "size": 3.0, "tags": {"copies": 3.0, "ratio": 2.5, "on": True}}
    checked = provider().check({}, news).inputs
    assert checked["size"] == 3 and type(checked["size"]) is int
    assert checked["tags"] == {"copies": "3", "ratio": "2.5", "on": "true"}
    olds = {"name": "a", "size": 3, "tags": {"copies": "3", "ratio": "2.5", "on": "true"},
            INPUT_KEYS: ["name", "size", "tags"]}
    assert provider().diff("a", olds, news).changes is False


def test_a_type_without_a_unique_name_gets_a_fresh_create_token_at_each_check() -> None:
    """The token is in the checked inputs (so Pulumi records it with a pending create,
    for recovery's find), never a change, and only for types that ask for one."""
    from provision.provider import CREATE_TOKEN

    vpc = AdapterProvider("aws:ec2:Vpc", "providers.aws.ec2_vpc:Vpc", "net")
    news = {"cidr_block": "10.0.0.0/16", "__provider": "p"}
    first, second = vpc.check({}, news).inputs, vpc.check({}, news).inputs
    assert len(first[CREATE_TOKEN]) == 32 and first[CREATE_TOKEN] != second[CREATE_TOKEN]
    olds = {"cidr_block": "10.0.0.0/16", "instance_tenancy": "default",
            INPUT_KEYS: ["cidr_block"]}
    assert vpc.diff("vpc-1", olds, second).changes is False
    assert CREATE_TOKEN not in provider().check({}, {"name": "a"}).inputs
