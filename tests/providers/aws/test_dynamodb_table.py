"""``aws:dynamodb:Table``: schema, constraints, and the full lifecycle against moto."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from provision.constraints import check_resource
from provision.errors import ProviderError
from provision.provider import CloudConfig
from providers.aws.dynamodb_table import SCHEMA, DynamoDbTable

KEYS = {"hash_key": "pk", "range_key": "sk",
        "attributes": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}]}


def _violations(props: dict[str, Any]) -> list[str]:
    constraints = {n: p.constraints for n, p in SCHEMA.properties.items()}
    return sorted(f"{v.path}: {v.message}"
                  for v in check_resource(constraints, SCHEMA.rules, props))


def test_schema_and_constraints() -> None:
    props = SCHEMA.properties
    assert props["hash_key"].force_new and props["attributes"].force_new
    assert not props["billing_mode"].force_new and not props["ttl"].force_new
    assert _violations({"name": "ab", **KEYS, "billing_mode": "PROVISIONED"}) == [
        "billing_mode: 'read_capacity' is required when billing_mode is 'PROVISIONED'",
        "billing_mode: 'write_capacity' is required when billing_mode is 'PROVISIONED'",
        "name: has 2 characters; allowed: 3 to 255",
    ]
    assert _violations({"name": "orders", **KEYS,
                        "attributes": [{"name": "pk", "type": "X"}]}) == [
        "attributes.0.type: 'X' is not one of S, N, B"]
    assert _violations({"name": "orders", **KEYS, "billing_mode": "PAY_PER_REQUEST",
                        "read_capacity": 5}) == [
        "read_capacity: 'read_capacity' must not be set when billing_mode is "
        "'PAY_PER_REQUEST'"]


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], unique: str) -> None:
    ddb = aws("dynamodb")
    adapter = DynamoDbTable()
    name = f"orders-{unique}"
    props = {"name": name, **KEYS, "ttl": {"attribute_name": "expires", "enabled": True},
             "server_side_encryption": {"enabled": True}, "tags": {"team": "core"}}
    created = adapter.create(props, aws_config)
    assert created.id == name
    table = ddb.describe_table(TableName=name)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == \
        {"pk": "HASH", "sk": "RANGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires")
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == \
        [{"Key": "team", "Value": "core"}]
    assert created.properties["server_side_encryption"] == {"enabled": True}  # key by key
    again = adapter.read(name, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    new = {**props, "billing_mode": "PROVISIONED", "read_capacity": 5, "write_capacity": 3,
           "ttl": {"attribute_name": "expires", "enabled": False},
           "point_in_time_recovery": True, "tags": {"team": "data"}}
    updated = adapter.update(name, created.properties, new, aws_config)
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert (table["ProvisionedThroughput"]["ReadCapacityUnits"],
            table["ProvisionedThroughput"]["WriteCapacityUnits"]) == (5, 3)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"][
        "TimeToLiveStatus"] == "DISABLED"
    assert ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == \
        [{"Key": "team", "Value": "data"}]
    assert updated.properties["read_capacity"] == 5

    rekeyed = {**new, "range_key": None, "attributes": [{"name": "pk", "type": "S"}]}
    with pytest.raises(ProviderError, match="cannot update range_key, attributes in place"):
        adapter.update(name, updated.properties, rekeyed, aws_config)
    adapter.delete(name, updated.properties, aws_config)
    assert name not in ddb.list_tables()["TableNames"]
    replaced = adapter.create(rekeyed, aws_config)
    assert [k["AttributeName"] for k in
            ddb.describe_table(TableName=name)["Table"]["KeySchema"]] == ["pk"]

    adapter.delete(name, replaced.properties, aws_config)
    assert name not in ddb.list_tables()["TableNames"]
    assert adapter.read(name, replaced.properties, aws_config) is None
    adapter.delete(name, replaced.properties, aws_config)
