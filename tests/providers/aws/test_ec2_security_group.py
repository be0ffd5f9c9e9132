"""``aws:ec2:SecurityGroup``: rules as a set, constraints, and the lifecycle against moto."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from provision.constraints import check_property
from provision.errors import ProviderError
from provision.provider import CloudConfig
from providers.aws.ec2_security_group import SCHEMA, SecurityGroup, grants, rules_of

HTTPS = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"],
         "description": "https"}
SSH = {"protocol": "tcp", "from_port": 22, "to_port": 22,
       "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"]}


def test_rules_are_compared_as_a_set_of_grants() -> None:
    split = [{**SSH, "cidr_blocks": ["192.168.0.0/16"]}, HTTPS,
             {**SSH, "cidr_blocks": ["10.0.0.0/8"]}]
    assert grants([HTTPS, SSH]) == grants(split)
    assert grants([HTTPS]) != grants([{**HTTPS, "description": "other"}])
    assert grants([{"protocol": "all", "from_port": 0, "to_port": 0,
                    "cidr_blocks": ["0.0.0.0/0"]}]) == \
        grants([{"protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]}])
    perms = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
              "IpRanges": [{"CidrIp": "192.168.0.0/16"}, {"CidrIp": "10.0.0.0/8"}]}]
    assert rules_of(perms) == [SSH]


def test_rule_constraints() -> None:
    ingress = SCHEMA.properties["ingress"].constraints
    bad = [{"protocol": "tcpp", "from_port": 70000, "to_port": 22, "cidr_blocks": ["10.0.0.1"],
            "colour": "red"}]
    assert sorted(f"{v.path}: {v.message}" for v in check_property(ingress, bad)) == [
        "0.cidr_blocks.0: '10.0.0.1' is not an IPv4 CIDR block (like 10.0.0.0/16)",
        "0.colour: unknown key 'colour' (allowed: protocol, from_port, to_port, cidr_blocks, "
        "ipv6_cidr_blocks, security_groups, description)",
        "0.from_port: 70000 is out of range (-1 to 65535)",
        "0.protocol: 'tcpp' is not valid: tcp, udp, icmp, icmpv6, all (-1) or an IP protocol "
        "number",
    ]
    assert [f"{v.path}: {v.message}" for v in check_property(
        ingress, [{"protocol": "tcp", "from_port": 22, "to_port": 22}])] == [
        "0: needs one of cidr_blocks, ipv6_cidr_blocks, security_groups"]
    assert [v.message for v in check_property(SCHEMA.properties["name"].constraints,
                                               "sg-web")] == [
        "'sg-web' is not allowed: the prefix sg-"]


@pytest.fixture
def vpc(aws: Callable[[str], Any]) -> Iterator[str]:
    ec2 = aws("ec2")
    vpc_id = str(ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"])
    yield vpc_id
    ec2.delete_vpc(VpcId=vpc_id)


def _live_rules(ec2: Any, group_id: str, key: str) -> list[dict[str, Any]]:
    return rules_of(ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0][key])


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], vpc: str,
                   unique: str) -> None:
    ec2 = aws("ec2")
    adapter = SecurityGroup()
    props = {"name": f"web-{unique}", "vpc_id": vpc, "ingress": [HTTPS, SSH], "egress": [],
             "tags": {"tier": "web"}}
    created = adapter.create(props, aws_config)
    group = ec2.describe_security_groups(GroupIds=[created.id])["SecurityGroups"][0]
    assert (group["GroupName"], group["VpcId"]) == (f"web-{unique}", vpc)
    assert grants(_live_rules(ec2, created.id, "IpPermissions")) == grants([HTTPS, SSH])
    assert _live_rules(ec2, created.id, "IpPermissionsEgress") == []  # default allow-all gone
    assert created.properties["ingress"] == [HTTPS, SSH]              # the spec's own order
    again = adapter.read(created.id, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    # The same rules in another order and grouping are no change at all.
    regrouped = [{**SSH, "cidr_blocks": ["192.168.0.0/16"]}, HTTPS,
                 {**SSH, "cidr_blocks": ["10.0.0.0/8"]}]
    assert grants(regrouped) == grants(created.properties["ingress"])

    new = {**props, "ingress": [HTTPS, {**SSH, "cidr_blocks": ["10.0.0.0/8"]}],
           "egress": [{"protocol": "tcp", "from_port": 443, "to_port": 443,
                       "cidr_blocks": ["0.0.0.0/0"]}],
           "tags": {"tier": "edge"}}
    updated = adapter.update(created.id, created.properties, new, aws_config)
    assert updated.id == created.id
    assert grants(_live_rules(ec2, created.id, "IpPermissions")) == grants(new["ingress"])
    assert grants(_live_rules(ec2, created.id, "IpPermissionsEgress")) == grants(new["egress"])
    group = ec2.describe_security_groups(GroupIds=[created.id])["SecurityGroups"][0]
    assert group["Tags"] == [{"Key": "tier", "Value": "edge"}]

    renamed = {**new, "name": f"edge-{unique}"}
    with pytest.raises(ProviderError, match="cannot update name in place"):
        adapter.update(created.id, updated.properties, renamed, aws_config)
    adapter.delete(created.id, updated.properties, aws_config)
    assert ec2.describe_security_groups(
        Filters=[{"Name": "group-id", "Values": [created.id]}])["SecurityGroups"] == []
    replaced = adapter.create(renamed, aws_config)
    assert ec2.describe_security_groups(GroupIds=[replaced.id])["SecurityGroups"][0][
        "GroupName"] == f"edge-{unique}"

    adapter.delete(replaced.id, replaced.properties, aws_config)
    assert adapter.read(replaced.id, replaced.properties, aws_config) is None
    adapter.delete(replaced.id, replaced.properties, aws_config)


@pytest.mark.sandbox
def test_unset_egress_is_left_as_aws_made_it(aws_config: CloudConfig, vpc: str,
                                             unique: str, aws: Callable[[str], Any]) -> None:
    created = SecurityGroup().create({"name_prefix": f"db-{unique}-", "vpc_id": vpc},
                                     aws_config)
    assert created.properties["name"].startswith(f"db-{unique}-")
    assert grants(_live_rules(aws("ec2"), created.id, "IpPermissionsEgress")) == grants(
        [{"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}])
    SecurityGroup().delete(created.id, created.properties, aws_config)
