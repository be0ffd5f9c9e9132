"""A hand-built plan over test schemas: views need no engine and no cloud."""

from __future__ import annotations

from typing import Any

import pytest

from provision.plan.diff import property_diffs
from provision.plan.model import UNKNOWN, Action, Change, Plan, StagePlan
from provision.provider import PropertySchema, ResourceSchema
from schema_registry import SchemaOnly, StaticRegistry


SCHEMAS = [
    ResourceSchema("aws:s3:Bucket", "aws", "aws_s3_bucket",
                   {"bucket": PropertySchema("string", required=True, force_new=True),
                    "tags": PropertySchema("map"), "versioning": PropertySchema("boolean")},
                   {"arn": "string"}),
    ResourceSchema("azure:resources:ResourceGroup", "azure", "azurerm_resource_group",
                   {"name": PropertySchema("string", force_new=True),
                    "location": PropertySchema("string"), "tags": PropertySchema("map")}),
    ResourceSchema("gcp:storage:Bucket", "gcp", "google_storage_bucket",
                   {"name": PropertySchema("string", force_new=True),
                    "location": PropertySchema("string"), "labels": PropertySchema("map"),
                    "hmac_secret": PropertySchema("string", secret=True)}),
]


@pytest.fixture
def registry() -> StaticRegistry:
    return StaticRegistry({s.type_name: SchemaOnly(s) for s in SCHEMAS})


def change(rid: str, type_: str, action: Action, stage: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None, *, secrets: tuple[str, ...] = (),
           force_new: tuple[str, ...] = (), unknown: tuple[str, ...] = (),
           line: int = 1) -> Change:
    return Change(rid, type_, action, stage, before, after,
                  property_diffs(before, after, secrets=secrets, force_new=force_new),
                  list(unknown), "stacks/demo.yaml", line)


@pytest.fixture
def plan() -> Plan:
    logs = {"bucket": "demo-logs", "tags": {"owner": "me"}}
    rg_before = {"name": "rg-demo", "location": "westeurope", "tags": {"logs": "arn:old"}}
    rg_after = {"name": "rg-demo", "location": "westeurope", "tags": {"logs": UNKNOWN}}
    gcs_before = {"name": "old-name", "location": "EU", "hmac_secret": "s3cr3t-old"}
    gcs_after = {"name": "new-name", "location": "EU", "hmac_secret": "s3cr3t-new",
                 "labels": {"rg": UNKNOWN}}
    return Plan(spec="demo", env="local", spec_file="stacks/demo.yaml", spec_digest="abc",
                state_digests={"aws": "d1"}, stages=[
        StagePlan("aws", "demo-local-aws", [], [
            change("logs", "aws:s3:Bucket", Action.CREATE, "aws", None, logs, line=41),
            change("old", "aws:s3:Bucket", Action.DELETE, "aws", {"bucket": "old"}, None),
        ]),
        StagePlan("azure", "demo-local-azure", ["aws"], [
            change("rg", "azure:resources:ResourceGroup", Action.UPDATE, "azure", rg_before,
                   rg_after, unknown=("tags.logs",), line=33),
            change("same", "azure:resources:ResourceGroup", Action.NOOP, "azure",
                   {"name": "x"}, {"name": "x"}),
        ]),
        StagePlan("gcp", "demo-local-gcp", ["azure"], [
            change("art", "gcp:storage:Bucket", Action.REPLACE, "gcp", gcs_before, gcs_after,
                   secrets=("hmac_secret",), force_new=("name",), unknown=("labels.rg",),
                   line=25),
        ]),
    ])
