"""``aws:dynamodb:Table``: a DynamoDB table with its keys, billing mode, TTL, SSE and tags.

The id is the table name. ``hash_key``, ``range_key`` and ``attributes`` (the key
attributes' types, Terraform's ``attribute`` blocks as a list of ``{name, type}``)
force a new table; the billing mode and capacities, ``ttl`` (``{attribute_name,
enabled}``), ``point_in_time_recovery``, ``server_side_encryption``
(``{enabled, kms_key_arn}``: ``enabled`` means a KMS key, AWS-managed unless an ARN
is given; without it DynamoDB encrypts with an AWS-owned key) and tags are updated
in place, each waiting for the table to be ACTIVE again. Delete waits until the
table is gone, so a replacement can reuse the name.

Limits: "Naming rules" (table and attribute names: 3-255 and 1-255 characters of
``[a-zA-Z0-9_.-]``), AttributeDefinition (types S, N, B), CreateTable (BillingMode
PROVISIONED or PAY_PER_REQUEST; ProvisionedThroughput required with PROVISIONED and
refused with PAY_PER_REQUEST; capacity units at least 1).
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.constraints import Each, Fields, Length, OneOf, Pattern, Range, When
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, session
from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:dynamodb:Table"

NAMING = ("https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
          "HowItWorks.NamingRulesDataTypes.html")
CREATE_TABLE = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html"
ATTRIBUTE = ("https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/"
             "API_AttributeDefinition.html")
TTL_SPEC = ("https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/"
            "API_TimeToLiveSpecification.html")

NOT_FOUND = frozenset({"ResourceNotFoundException"})

_NAME_TEXT = Pattern(r"[a-zA-Z0-9_.-]+", "letters, digits and _ . -", source=NAMING)
_TABLE_NAME = (Length(3, 255, source=NAMING), _NAME_TEXT)
_ATTRIBUTE_NAME = (Length(1, 255, source=NAMING),)
_CAPACITY = (Range(1, None, source=CREATE_TABLE),)

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_dynamodb_table",
    description="A DynamoDB table.",
    properties={
        **common.name_properties("table", 255, _TABLE_NAME, NAMING),
        "hash_key": PropertySchema("string", required=True, force_new=True,
                                   description="the partition key attribute",
                                   constraints=_ATTRIBUTE_NAME),
        "range_key": PropertySchema("string", force_new=True,
                                    description="the sort key attribute",
                                    constraints=_ATTRIBUTE_NAME),
        "attributes": PropertySchema(
            "list", required=True, force_new=True,
            description="the key attributes: [{name, type}], type S, N or B",
            constraints=(Each((Fields({"name": _ATTRIBUTE_NAME,
                                       "type": (OneOf(("S", "N", "B"), source=ATTRIBUTE),)},
                                      required=("name", "type"), source=ATTRIBUTE),)),)),
        "billing_mode": PropertySchema(
            "string", default="PAY_PER_REQUEST",
            description="PAY_PER_REQUEST or PROVISIONED",
            constraints=(OneOf(("PAY_PER_REQUEST", "PROVISIONED"), source=CREATE_TABLE),)),
        "read_capacity": PropertySchema("integer", description="with PROVISIONED",
                                        constraints=_CAPACITY),
        "write_capacity": PropertySchema("integer", description="with PROVISIONED",
                                         constraints=_CAPACITY),
        "ttl": PropertySchema(
            "map", description="{attribute_name, enabled}: expire items by an epoch attribute",
            constraints=(Fields({"attribute_name": _ATTRIBUTE_NAME, "enabled": ()},
                                source=TTL_SPEC),)),
        "point_in_time_recovery": PropertySchema("boolean", default=False,
                                                 description="continuous backups"),
        "server_side_encryption": PropertySchema(
            "map", description="{enabled, kms_key_arn}: encrypt with a KMS key",
            constraints=(Fields({"enabled": (), "kms_key_arn": (limits.ARN,)},
                                source=CREATE_TABLE),)),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"arn": "string"},
    rules=(*common.NAME_RULES,
           When("billing_mode", "PROVISIONED", requires=("read_capacity", "write_capacity"),
                source=CREATE_TABLE),
           When("billing_mode", "PAY_PER_REQUEST", forbids=("read_capacity", "write_capacity"),
                source=CREATE_TABLE)),
)


def _table_exists(ddb: Any, name: str) -> bool:
    try:
        ddb.describe_table(TableName=name)
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return False
        raise
    return True


def _wait_active(ddb: Any, name: str) -> None:
    ddb.get_waiter("table_exists").wait(TableName=name,
                                        WaiterConfig={"Delay": 2, "MaxAttempts": 150})


def _sse(value: Mapping[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"Enabled": bool((value or {}).get("enabled"))}
    if spec["Enabled"]:
        spec["SSEType"] = "KMS"
        if (value or {}).get("kms_key_arn"):
            spec["KMSMasterKeyId"] = str((value or {})["kms_key_arn"])
    return spec


def _partial(recorded: Any, live: Mapping[str, Any]) -> Any:
    """Compare a map key by key: only the keys the spec gave (see S3's public access block)."""
    if not isinstance(recorded, dict):
        return dict(live)
    return {k: live.get(k) for k in recorded}


class DynamoDbTable:
    """CRUD for DynamoDB tables through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        name = common.physical_name(values, TYPE)
        ddb = session.client("dynamodb", config)
        with session.translate(TYPE, name, config):
            keys = [{"AttributeName": values["hash_key"], "KeyType": "HASH"}]
            if values["range_key"]:
                keys.append({"AttributeName": values["range_key"], "KeyType": "RANGE"})
            params: dict[str, Any] = {
                "TableName": name, "KeySchema": keys, "BillingMode": values["billing_mode"],
                "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]}
                                         for a in values["attributes"]],
            }
            if values["billing_mode"] == "PROVISIONED":
                params["ProvisionedThroughput"] = {
                    "ReadCapacityUnits": int(values["read_capacity"] or 1),
                    "WriteCapacityUnits": int(values["write_capacity"] or 1)}
            if (values["server_side_encryption"] or {}).get("enabled"):
                params["SSESpecification"] = _sse(values["server_side_encryption"])
            if values["tags"]:
                params["Tags"] = common.tag_list(values["tags"])
            create_once(lambda: ddb.create_table(**params),
                        exists=lambda: _table_exists(ddb, name),
                        conflict=lambda exc: session.error_code(exc) == "ResourceInUseException",
                        adopt=lambda: None,
                        refuse=lambda: name_taken(
                            "AWS error ResourceInUseException: the table already exists",
                            what="table", name=name, resource_type=TYPE, cloud_id=name))

        def finish() -> ReadResult:
            with session.translate(TYPE, name, config):
                _wait_active(ddb, name)
                if (values["ttl"] or {}).get("enabled"):
                    _set_ttl(ddb, name, {}, values["ttl"])
                if values["point_in_time_recovery"]:
                    _set_pitr(ddb, name, True)
            return common.must_exist(self.read(name, {**values, "name": name}, config),
                                     name, TYPE, "create")

        return finish_create(finish, lambda: _delete(ddb, name), resource=name,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The table with the physical name the planned inputs give (its natural key)."""
        values = with_defaults(SCHEMA, props)
        return self.read(common.physical_name(values, TYPE), values, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        ddb = session.client("dynamodb", config)
        with session.translate(TYPE, id, config):
            try:
                table = ddb.describe_table(TableName=id)["Table"]
            except Exception as exc:
                if session.error_code(exc) in NOT_FOUND:
                    return None
                raise
            ttl = ddb.describe_time_to_live(TableName=id)["TimeToLiveDescription"]
            backups = ddb.describe_continuous_backups(TableName=id)["ContinuousBackupsDescription"]
            tags = [t for page in ddb.get_paginator("list_tags_of_resource").paginate(
                ResourceArn=table["TableArn"]) for t in page["Tags"]]
        keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        throughput = table.get("ProvisionedThroughput", {})
        sse = table.get("SSEDescription") or {}
        live_sse: dict[str, Any] = {"enabled": sse.get("Status") == "ENABLED"}
        if sse.get("KMSMasterKeyArn"):
            live_sse["kms_key_arn"] = sse["KMSMasterKeyArn"]
        live_ttl = {"attribute_name": ttl.get("AttributeName"),
                    "enabled": ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")}
        attributes = [{"name": a["AttributeName"], "type": a["AttributeType"]}
                      for a in table.get("AttributeDefinitions", [])]
        properties: dict[str, Any] = {
            "name": id,
            "name_prefix": props.get("name_prefix"),
            "hash_key": keys.get("HASH"),
            "range_key": keys.get("RANGE"),
            "attributes": common.as_recorded(
                attributes, props.get("attributes"),
                lambda v: sorted((a["name"], a["type"]) for a in v)),
            "billing_mode": mode,
            "read_capacity": (int(throughput.get("ReadCapacityUnits", 0))
                              if mode == "PROVISIONED" else None),
            "write_capacity": (int(throughput.get("WriteCapacityUnits", 0))
                               if mode == "PROVISIONED" else None),
            "ttl": (_partial(props.get("ttl"), live_ttl) if live_ttl["enabled"]
                    or props.get("ttl") else None),
            "point_in_time_recovery": backups.get("PointInTimeRecoveryDescription", {})
            .get("PointInTimeRecoveryStatus") == "ENABLED",
            "server_side_encryption": _partial(props.get("server_side_encryption"), live_sse),
            "tags": common.tag_map(tags),
            "arn": table["TableArn"],
        }
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, common.named(new, id), resource=id)
        ddb = session.client("dynamodb", config)
        with session.translate(TYPE, id, config):
            if {"billing_mode", "read_capacity", "write_capacity"} & set(names):
                params: dict[str, Any] = {"TableName": id, "BillingMode": values["billing_mode"]}
                if values["billing_mode"] == "PROVISIONED":
                    params["ProvisionedThroughput"] = {
                        "ReadCapacityUnits": int(values["read_capacity"] or 1),
                        "WriteCapacityUnits": int(values["write_capacity"] or 1)}
                ddb.update_table(**params)
                _wait_active(ddb, id)
            if "server_side_encryption" in names:
                ddb.update_table(TableName=id,
                                 SSESpecification=_sse(values["server_side_encryption"]))
                _wait_active(ddb, id)
            if "ttl" in names:
                _set_ttl(ddb, id, old.get("ttl") or {}, values["ttl"] or {})
            if "point_in_time_recovery" in names:
                _set_pitr(ddb, id, bool(values["point_in_time_recovery"]))
            if "tags" in names:
                arn = ddb.describe_table(TableName=id)["Table"]["TableArn"]
                put, remove = common.tag_changes(old.get("tags"), values["tags"])
                # Changed keys are removed first too: TagResource is documented to
                # overwrite, but some endpoints (moto) append a second value.
                if remove or put:
                    ddb.untag_resource(ResourceArn=arn, TagKeys=sorted({*remove, *put}))
                if put:
                    ddb.tag_resource(ResourceArn=arn, Tags=common.tag_list(put))
        return common.must_exist(self.read(id, {**values, "name": id}, config), id, TYPE,
                                 "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        ddb = session.client("dynamodb", config)
        with session.translate(TYPE, id, config):
            _delete(ddb, id)


def _set_ttl(ddb: Any, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Enable TTL on ``new``'s attribute, or disable the one ``old`` enabled."""
    if new.get("enabled"):
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": str(new["attribute_name"])})
    elif old.get("enabled") and old.get("attribute_name"):
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": False, "AttributeName": str(old["attribute_name"])})


def _set_pitr(ddb: Any, name: str, enabled: bool) -> None:
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": enabled})


def _delete(ddb: Any, name: str) -> None:
    """Delete the table and wait until it is gone; succeed if it already is."""
    try:
        ddb.delete_table(TableName=name)
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return
        raise
    ddb.get_waiter("table_not_exists").wait(TableName=name,
                                            WaiterConfig={"Delay": 2, "MaxAttempts": 150})
