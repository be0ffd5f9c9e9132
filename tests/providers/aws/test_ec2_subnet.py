"""``aws:ec2:Subnet``: schema, the VPC containment rule, and the lifecycle against moto."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import providers
from provision.errors import CloudError, ProviderError, SpecError
from provision.provider import CloudConfig
from provision.spec import loads, validate
from providers.aws.ec2_subnet import SCHEMA, Subnet


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["vpc_id"].force_new and props["cidr_block"].force_new
    assert props["availability_zone"].force_new
    assert not props["map_public_ip_on_launch"].force_new


def test_a_subnet_outside_its_vpc_is_a_validate_error() -> None:
    spec = loads("""name: net
resources:
  vpc:
    type: aws:ec2:Vpc
    properties: {cidr_block: 10.0.0.0/16}
  inside:
    type: aws:ec2:Subnet
    properties: {vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24}
  outside:
    type: aws:ec2:Subnet
    properties:
      vpc_id: "${vpc.id}"
      cidr_block: 10.1.0.0/24
""", "net.yaml")
    with pytest.raises(SpecError) as info:
        validate(spec, providers.registry())
    [found] = info.value.diagnostics
    assert (found.line, found.resource) == (13, "outside")
    assert found.message == ("property 'cidr_block' 10.1.0.0/24 is not inside 10.0.0.0/16, "
                             "the cidr_block of the resource vpc_id refers to")
    assert "subnet-sizing" in found.hint


@pytest.fixture
def vpc(aws: Callable[[str], Any]) -> Iterator[str]:
    ec2 = aws("ec2")
    vpc_id = str(ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"])
    yield vpc_id
    ec2.delete_vpc(VpcId=vpc_id)


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], vpc: str) -> None:
    ec2 = aws("ec2")
    adapter = Subnet()
    props = {"vpc_id": vpc, "cidr_block": "10.40.1.0/24", "tags": {"tier": "app"}}
    created = adapter.create(props, aws_config)
    live = ec2.describe_subnets(SubnetIds=[created.id])["Subnets"][0]
    assert (live["VpcId"], live["CidrBlock"]) == (vpc, "10.40.1.0/24")
    assert live["MapPublicIpOnLaunch"] is False
    assert created.properties["availability_zone"] == live["AvailabilityZone"]  # AWS chose it
    again = adapter.read(created.id, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    # In place; the zone AWS chose is not a change although the spec leaves it unset.
    new = {**props, "map_public_ip_on_launch": True, "tags": {"tier": "web"}}
    updated = adapter.update(created.id, created.properties, new, aws_config)
    live = ec2.describe_subnets(SubnetIds=[created.id])["Subnets"][0]
    assert live["MapPublicIpOnLaunch"] is True
    assert {t["Key"]: t["Value"] for t in live["Tags"]} == {"tier": "web"}

    moved = {**new, "cidr_block": "10.40.2.0/24"}
    with pytest.raises(ProviderError, match="cannot update cidr_block in place"):
        adapter.update(created.id, updated.properties, moved, aws_config)
    adapter.delete(created.id, updated.properties, aws_config)
    assert ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [created.id]}])[
        "Subnets"] == []
    replaced = adapter.create(moved, aws_config)
    assert ec2.describe_subnets(SubnetIds=[replaced.id])["Subnets"][0]["CidrBlock"] == \
        "10.40.2.0/24"

    adapter.delete(replaced.id, replaced.properties, aws_config)
    assert adapter.read(replaced.id, replaced.properties, aws_config) is None
    adapter.delete(replaced.id, replaced.properties, aws_config)


@pytest.mark.sandbox
def test_a_block_outside_the_vpc_is_reported_with_the_aws_code(
        aws_config: CloudConfig, vpc: str) -> None:
    with pytest.raises(CloudError) as info:
        Subnet().create({"vpc_id": vpc, "cidr_block": "10.99.0.0/24"}, aws_config)
    assert "AWS error InvalidSubnet.Range" in info.value.message
    assert info.value.resource == f"{vpc}/10.99.0.0/24"
