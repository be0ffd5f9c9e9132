"""Fault plans on a running sandbox, met by the real adapters over HTTP: transient
faults are retried by the SDKs without duplicates, permanent ones fail at once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from provision.errors import CloudError
from provision.provider import CloudConfig
from provision.sandbox import Sandbox
from provision.sandbox.faults import FaultPlan, parse_plan
from providers.aws.s3_bucket import S3Bucket
from providers.azure.blob_container import BlobContainer
from providers.azure.resource_group import ResourceGroup
from providers.clients import CLIENTS
from providers.gcp.project import Project
from providers.gcp.storage_bucket import StorageBucket

pytestmark = pytest.mark.sandbox


@pytest.fixture
def faults(fault_sandbox: Sandbox) -> Iterator[Any]:
    """Set a plan with ``faults(data)``; the plan is cleared after the test."""
    CLIENTS.clear()

    def set_plan(data: Any) -> None:
        fault_sandbox.up(faults=parse_plan(data))

    yield set_plan
    fault_sandbox.up(faults=FaultPlan())


def _config(box: Sandbox, cloud: str) -> CloudConfig:
    return CloudConfig(cloud, dict(box.status().cloud_settings()[cloud]), sandbox=True)


def _s3(box: Sandbox) -> Any:
    settings = box.status().cloud_settings()["aws"]
    return boto3.client("s3", endpoint_url=settings["endpoint_url"],
                        region_name=settings["region"], aws_access_key_id="direct",
                        aws_secret_access_key="direct")


def _names(box: Sandbox, prefix: str) -> list[str]:
    return [b["Name"] for b in _s3(box).list_buckets()["Buckets"] if b["Name"].startswith(prefix)]


def test_without_faults_the_proxy_is_transparent(fault_sandbox: Sandbox, faults: Any) -> None:
    name = f"prov-clear-{uuid.uuid4().hex[:8]}"
    config = _config(fault_sandbox, "aws")
    created = S3Bucket().create({"bucket": name, "tags": {"a": "b"}, "versioning": True},
                                config)
    assert created.properties["tags"] == {"a": "b"} and created.properties["versioning"]
    S3Bucket().delete(name, created.properties, config)
    gcp = _config(fault_sandbox, "gcp")
    bucket = StorageBucket().create({"name": f"prov-clear-{uuid.uuid4().hex[:8]}"}, gcp)
    StorageBucket().delete(bucket.id, bucket.properties, gcp)


def test_thirty_percent_transient_faults_on_every_cloud_are_retried_without_duplicates(
        fault_sandbox: Sandbox, faults: Any) -> None:
    faults({"seed": 5, "faults": [{"rate": 0.15, "status": 429, "retry_after": 0.05},
                                  {"rate": 0.1, "status": 500},
                                  {"rate": 0.1, "status": 503, "after": True}]})
    prefix = f"prov-flaky-{uuid.uuid4().hex[:6]}"
    aws, azure, gcp = (_config(fault_sandbox, c) for c in ("aws", "azure", "gcp"))
    for index in range(5):
        S3Bucket().create({"bucket": f"{prefix}-{index}", "tags": {"i": str(index)}}, aws)
    group = ResourceGroup().create({"name": f"rg-{prefix}", "tags": {"a": "b"}}, azure)
    container = BlobContainer().create({"name": f"{prefix}-c", "account_name": "acct"}, azure)
    bucket = StorageBucket().create({"name": f"{prefix}-g", "labels": {"a": "b"}}, gcp)
    project = Project().create({"project_id": f"{prefix}-p"}, gcp)
    faults({"faults": []})
    assert sorted(_names(fault_sandbox, prefix)) == [f"{prefix}-{i}" for i in range(5)]
    assert ResourceGroup().read(group.id, {}, azure) is not None
    assert BlobContainer().read(container.id, {}, azure) is not None
    assert StorageBucket().read(bucket.id, {}, gcp) is not None
    assert Project().read(project.id, {}, gcp) is not None


def test_a_create_whose_answer_is_lost_makes_one_bucket(fault_sandbox: Sandbox,
                                                        faults: Any) -> None:
    name = f"prov-lost-{uuid.uuid4().hex[:8]}"
    # CreateBucket is a PUT on the bucket path with no query: moto creates it, the
    # client sees a 500 and botocore sends the create again.
    faults({"faults": [{"service": "aws", "method": "PUT", "path": f"^/{name}$",
                        "status": 500, "after": True, "times": 1}]})
    created = S3Bucket().create({"bucket": name}, _config(fault_sandbox, "aws"))
    assert created.id == name
    faults({"faults": []})
    assert _names(fault_sandbox, name) == [name]


def test_a_permanent_403_fails_at_once_with_the_clouds_code(fault_sandbox: Sandbox,
                                                            faults: Any) -> None:
    faults({"faults": [{"status": 403}]})
    started = time.monotonic()
    with pytest.raises(CloudError) as info:
        S3Bucket().create({"bucket": f"prov-denied-{uuid.uuid4().hex[:8]}"},
                          _config(fault_sandbox, "aws"))
    assert time.monotonic() - started < 10
    assert "AWS error AccessDenied" in info.value.message
    # The first call is a HEAD (existence check): its answer has no body, so the
    # status is the code, as with Azure itself.
    with pytest.raises(CloudError, match="Azure error 403"):
        ResourceGroup().create({"name": "rg-denied"}, _config(fault_sandbox, "azure"))
    with pytest.raises(CloudError, match="Azure error AuthorizationFailed"):
        ResourceGroup().read("rg-denied", {}, _config(fault_sandbox, "azure"))
    with pytest.raises(CloudError, match="GCP error 403"):
        StorageBucket().create({"name": "prov-denied"}, _config(fault_sandbox, "gcp"))
    assert time.monotonic() - started < 10


def test_a_failed_read_after_create_leaves_nothing_and_the_next_create_succeeds(
        fault_sandbox: Sandbox, faults: Any) -> None:
    name = f"prov-readfail-{uuid.uuid4().hex[:8]}"
    config = _config(fault_sandbox, "aws")
    # Every attempt of the read-back's GetBucketEncryption fails: retries exhausted.
    faults({"faults": [{"service": "aws", "method": "GET", "path": f"^/{name}\\?encryption",
                        "status": 500, "times": 8}]})
    with pytest.raises(CloudError, match="InternalError"):
        S3Bucket().create({"bucket": name, "tags": {"a": "b"}}, config)
    assert _names(fault_sandbox, name) == []  # rolled back
    created = S3Bucket().create({"bucket": name, "tags": {"a": "b"}}, config)
    assert created.properties["tags"] == {"a": "b"}
    assert _names(fault_sandbox, name) == [name]


def _lost_answer_once(faults: Any, body: str) -> None:
    faults({"faults": [{"service": "aws", "method": "POST", "body": body, "status": 500,
                        "after": True, "times": 1}]})


def test_named_aws_creates_whose_answer_is_lost_make_one_resource_each(
        fault_sandbox: Sandbox, faults: Any) -> None:
    """IAM, DynamoDB and EC2 name the operation in the body; the create runs in moto, its
    answer is lost, botocore retries and meets the resource: adopted, never duplicated."""
    import json

    from providers.aws.dynamodb_table import DynamoDbTable
    from providers.aws.ec2_security_group import SecurityGroup
    from providers.aws.iam_role import IamRole

    config = _config(fault_sandbox, "aws")
    settings = fault_sandbox.status().cloud_settings()["aws"]

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=settings["endpoint_url"],
                            region_name=settings["region"], aws_access_key_id="direct",
                            aws_secret_access_key="direct")

    suffix = uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": "sts:AssumeRole"}]}
    # Control: a plain client meets the fault and fails on its own retry.
    _lost_answer_once(faults, "Action=CreateRole")
    with pytest.raises(client("iam").exceptions.EntityAlreadyExistsException):
        client("iam").create_role(RoleName=f"plain-{suffix}",
                                  AssumeRolePolicyDocument=json.dumps(trust))
    _lost_answer_once(faults, "Action=CreateRole")
    role = IamRole().create({"name": f"role-{suffix}", "assume_role_policy": json.dumps(trust)},
                            config)
    _lost_answer_once(faults, '"KeySchema"')
    table = DynamoDbTable().create({"name": f"table-{suffix}", "hash_key": "pk",
                                    "attributes": [{"name": "pk", "type": "S"}]}, config)
    vpc = client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    _lost_answer_once(faults, "Action=CreateSecurityGroup")
    group = SecurityGroup().create({"name": f"sg-{suffix}", "vpc_id": vpc,
                                    "description": "lost answer"}, config)
    faults({"faults": []})

    assert [r["RoleName"] for r in client("iam").list_roles()["Roles"]
            if r["RoleName"] == f"role-{suffix}"] == [role.id]
    assert [t for t in client("dynamodb").list_tables()["TableNames"]
            if t == f"table-{suffix}"] == [table.id]
    groups = client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"sg-{suffix}"]}])["SecurityGroups"]
    assert [g["GroupId"] for g in groups] == [group.id]

    # A name taken before the create starts is refused, never adopted.
    with pytest.raises(CloudError, match="AWS error EntityAlreadyExists: the role already"):
        IamRole().create({"name": f"role-{suffix}", "assume_role_policy": json.dumps(trust)},
                         config)
    with pytest.raises(CloudError, match="ResourceInUseException: the table already exists"):
        DynamoDbTable().create({"name": f"table-{suffix}", "hash_key": "pk",
                                "attributes": [{"name": "pk", "type": "S"}]}, config)
    with pytest.raises(CloudError, match="InvalidGroup.Duplicate: the security group already"):
        SecurityGroup().create({"name": f"sg-{suffix}", "vpc_id": vpc,
                                "description": "again"}, config)


def test_a_vpc_or_subnet_create_whose_answer_is_lost_makes_one(fault_sandbox: Sandbox,
                                                              faults: Any) -> None:
    """CreateVpc has neither token nor unique name: the adapter's token tag finds the
    copy a retried create made and deletes it. A subnet's CIDR is unique in its VPC."""
    import random

    from providers.aws.ec2_subnet import Subnet
    from providers.aws.ec2_vpc import Vpc

    config = _config(fault_sandbox, "aws")
    settings = fault_sandbox.status().cloud_settings()["aws"]
    ec2 = boto3.client("ec2", endpoint_url=settings["endpoint_url"],
                       region_name=settings["region"], aws_access_key_id="direct",
                       aws_secret_access_key="direct")
    suffix = uuid.uuid4().hex[:8]
    cidr = f"10.{random.randint(0, 255)}.0.0/16"

    def named(name: str) -> list[str]:
        return [v["VpcId"] for v in ec2.describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]]

    # Control: a plain client meets the fault and leaves two VPCs behind.
    _lost_answer_once(faults, "Action=CreateVpc")
    ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": f"plain-{suffix}"}]}])
    assert len(named(f"plain-{suffix}")) == 2

    _lost_answer_once(faults, "Action=CreateVpc")
    vpc = Vpc().create({"cidr_block": cidr, "tags": {"Name": f"vpc-{suffix}"}}, config)
    assert named(f"vpc-{suffix}") == [vpc.id]
    assert vpc.properties["tags"] == {"Name": f"vpc-{suffix}"}  # the token tag is not shown

    _lost_answer_once(faults, "Action=CreateSubnet")
    subnet_cidr = cidr.replace("0.0/16", "1.0/24")
    subnet = Subnet().create({"vpc_id": vpc.id, "cidr_block": subnet_cidr}, config)
    faults({"faults": []})
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc.id]}])["Subnets"]
    assert [s["SubnetId"] for s in subnets if s["CidrBlock"] == subnet_cidr] == [subnet.id]
    with pytest.raises(CloudError, match="InvalidSubnet.Conflict: a subnet with this CIDR"):
        Subnet().create({"vpc_id": vpc.id, "cidr_block": subnet_cidr}, config)
