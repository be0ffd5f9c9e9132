"""Natural-key lookups used to reconcile a create a crashed run left pending: the
adapter finds the live resource from the planned inputs alone (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from provision.provider import CloudConfig, NaturalKeyLookup
from providers.aws.iam_role import IamRole
from providers.aws.s3_bucket import S3Bucket
from providers.aws.sqs_queue import SqsQueue

pytestmark = pytest.mark.sandbox

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}


@pytest.mark.parametrize("adapter,props", [
    (S3Bucket(), lambda u: {"bucket": f"find-{u}"}),
    (SqsQueue(), lambda u: {"name_prefix": f"find-{u}-"}),
    (IamRole(), lambda u: {"name_prefix": f"find-{u}-", "assume_role_policy": TRUST}),
], ids=["s3", "sqs-name-prefix", "iam-name-prefix"])
def test_find_by_the_planned_inputs(adapter: Any, props: Any, aws_config: CloudConfig,
                                    unique: str) -> None:
    assert isinstance(adapter, NaturalKeyLookup)
    planned = props(unique)
    assert adapter.find(planned, aws_config) is None
    created = adapter.create(planned, aws_config)
    found = adapter.find(planned, aws_config)
    assert found is not None and found.id == created.id
    adapter.delete(created.id, created.properties, aws_config)
    assert adapter.find(planned, aws_config) is None


@pytest.fixture
def vpc_id(aws_config: CloudConfig) -> Any:
    from providers.aws.ec2_vpc import Vpc

    created = Vpc().create({"cidr_block": "10.91.0.0/16"}, aws_config)
    yield created.id
    Vpc().delete(created.id, created.properties, aws_config)


@pytest.mark.parametrize("kind", ["subnet", "sg-name", "sg-name-prefix"])
def test_find_ec2_subnets_and_groups_by_their_natural_keys(kind: str, vpc_id: str,
                                                           aws_config: CloudConfig,
                                                           unique: str) -> None:
    from providers.aws.ec2_security_group import SecurityGroup
    from providers.aws.ec2_subnet import Subnet

    adapter: Any = Subnet() if kind == "subnet" else SecurityGroup()
    planned: dict[str, Any] = {
        "subnet": {"vpc_id": vpc_id, "cidr_block": "10.91.1.0/24"},
        "sg-name": {"name": f"find-{unique}", "description": "web", "vpc_id": vpc_id},
        "sg-name-prefix": {"name_prefix": f"find-{unique}-", "description": "web",
                           "vpc_id": vpc_id,
                           "ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443,
                                        "cidr_blocks": ["10.0.0.0/8"]}]},
    }[kind]
    assert isinstance(adapter, NaturalKeyLookup)
    assert adapter.find(planned, aws_config) is None
    created = adapter.create(planned, aws_config)
    found = adapter.find(planned, aws_config)
    assert found is not None and found.id == created.id
    assert found.properties == created.properties
    adapter.delete(created.id, created.properties, aws_config)
    assert adapter.find(planned, aws_config) is None


def test_find_a_vpc_by_the_create_token_the_engine_recorded(aws_config: CloudConfig,
                                                            aws: Any) -> None:
    """A VPC has no unique name: the token in the create's inputs names it, stays on the
    VPC as a tag, and never shows in its tags (no drift); a VPC with the same CIDR and
    tags but another token is not ours."""
    from provision.errors import ProviderError
    from provision.provider import CREATE_TOKEN
    from providers.aws.create_token import TOKEN_TAG, new_token
    from providers.aws.ec2_vpc import Vpc

    ec2, adapter = aws("ec2"), Vpc()
    spec_props = {"cidr_block": "10.92.0.0/16", "tags": {"Name": "find-net"}}
    planned = {**spec_props, CREATE_TOKEN: new_token()}
    twin = ec2.create_vpc(CidrBlock="10.92.0.0/16", TagSpecifications=[{
        "ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "find-net"}]}])["Vpc"]["VpcId"]
    assert adapter.find(planned, aws_config) is None
    created = adapter.create(planned, aws_config)
    assert created.properties["tags"] == {"Name": "find-net"}
    live = ec2.describe_vpcs(VpcIds=[created.id])["Vpcs"][0]
    assert {t["Key"]: t["Value"] for t in live["Tags"]}[TOKEN_TAG] == planned[CREATE_TOKEN]
    found = adapter.find(planned, aws_config)
    assert found is not None and found.id == created.id and found.id != twin
    assert found.properties == created.properties
    assert adapter.find({**planned, CREATE_TOKEN: new_token()}, aws_config) is None
    with pytest.raises(ProviderError, match="no create token"):
        adapter.find(spec_props, aws_config)
    # An update of the tags keeps the token tag (it is not the spec's).
    updated = adapter.update(created.id, created.properties,
                             {**spec_props, "tags": {"Name": "renamed"}}, aws_config)
    assert updated.properties["tags"] == {"Name": "renamed"}
    assert adapter.find(planned, aws_config) is not None
    adapter.delete(created.id, created.properties, aws_config)
    ec2.delete_vpc(VpcId=twin)
    assert adapter.find(planned, aws_config) is None
