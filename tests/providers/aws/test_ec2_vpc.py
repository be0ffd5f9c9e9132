"""``aws:ec2:Vpc``: schema, constraints, and the full lifecycle over HTTP against moto."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from provision.constraints import check_property
from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.aws.create_token import TOKEN_TAG
from providers.aws.ec2_vpc import SCHEMA, Vpc


def test_schema_and_constraints() -> None:
    props = SCHEMA.properties
    assert props["cidr_block"].force_new and props["instance_tenancy"].force_new
    assert not props["enable_dns_hostnames"].force_new
    cidr = props["cidr_block"].constraints
    assert check_property(cidr, "10.0.0.0/16") == []
    assert [v.message for v in check_property(cidr, "10.0.0.0/8")] == [
        "10.0.0.0/8: the prefix length must be /16 to /28"]
    assert [v.message for v in check_property(cidr, "10.0.0/16")] == [
        "'10.0.0/16' is not an IPv4 CIDR block (like 10.0.0.0/16)"]


def _attribute(ec2: Any, vpc_id: str, name: str) -> bool:
    key = name[0].upper() + name[1:]
    return bool(ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[key]["Value"])


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], unique: str) -> None:
    ec2 = aws("ec2")
    adapter = Vpc()
    props = {"cidr_block": "10.20.0.0/16", "enable_dns_hostnames": True,
             "tags": {"Name": f"net-{unique}"}}
    created = adapter.create(props, aws_config)
    vpc_id = created.id
    live = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert live["CidrBlock"] == "10.20.0.0/16"
    tags = {t["Key"]: t["Value"] for t in live["Tags"]}
    token = tags.pop(TOKEN_TAG)   # the create token stays (see create_token.py)
    assert tags == {"Name": f"net-{unique}"} and len(token) == 32
    assert _attribute(ec2, vpc_id, "enableDnsHostnames") is True
    assert _attribute(ec2, vpc_id, "enableDnsSupport") is True
    assert created.properties["arn"].endswith(f":vpc/{vpc_id}")
    again = adapter.read(vpc_id, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    new = {**props, "enable_dns_hostnames": False, "tags": {"Name": "renamed", "env": "dev"}}
    updated = adapter.update(vpc_id, created.properties, new, aws_config)
    assert updated.id == vpc_id
    assert _attribute(ec2, vpc_id, "enableDnsHostnames") is False
    live = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert {t["Key"]: t["Value"] for t in live["Tags"]} == {"Name": "renamed", "env": "dev",
                                                            TOKEN_TAG: token}

    moved = {**new, "cidr_block": "10.21.0.0/16"}
    with pytest.raises(ProviderError, match="cannot update cidr_block in place"):
        adapter.update(vpc_id, updated.properties, moved, aws_config)
    adapter.delete(vpc_id, updated.properties, aws_config)
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []
    replaced = adapter.create(moved, aws_config)
    assert replaced.id != vpc_id
    assert ec2.describe_vpcs(VpcIds=[replaced.id])["Vpcs"][0]["CidrBlock"] == "10.21.0.0/16"

    adapter.delete(replaced.id, replaced.properties, aws_config)
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [replaced.id]}])["Vpcs"] == []
    assert adapter.read(replaced.id, replaced.properties, aws_config) is None
    adapter.delete(replaced.id, replaced.properties, aws_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_deleting_a_vpc_in_use_says_what_to_do(aws_config: CloudConfig,
                                                aws: Callable[[str], Any]) -> None:
    ec2 = aws("ec2")
    created = Vpc().create({"cidr_block": "10.30.0.0/16"}, aws_config)
    subnet = ec2.create_subnet(VpcId=created.id, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(CloudError, match="AWS error DependencyViolation") as info:
        Vpc().delete(created.id, created.properties, aws_config)
    assert info.value.resource == created.id and "subnets" in info.value.hint
    ec2.delete_subnet(SubnetId=subnet)
    Vpc().delete(created.id, created.properties, aws_config)
