"""``aws:ec2:Subnet``: a subnet of a VPC.

The id is the subnet id AWS assigns (``subnet-...``). ``vpc_id``, ``cidr_block``
and ``availability_zone`` force a new subnet; ``map_public_ip_on_launch`` and tags
are updated in place. Without ``availability_zone`` AWS picks one, which the read
reports (and which is then no change). The VPC and CIDR block name a subnet
(``find``, and the read before a create that makes a retried create adopt its own).

Limits: "Subnet CIDR blocks" (an IPv4 block from /16 to /28, inside the VPC's
block; validation checks the containment when both blocks are literals in the spec).
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.constraints import Cidr, CidrWithin, Pattern
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, session
from providers.aws.ec2_vpc import delete_ec2, set_tags
from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:ec2:Subnet"

SUBNET_SIZING = "https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html"
CREATE_SUBNET = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html"

NOT_FOUND = frozenset({"InvalidSubnetID.NotFound"})

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_subnet",
    description="A subnet of a VPC.",
    properties={
        "vpc_id": PropertySchema("string", required=True, force_new=True,
                                 description="the VPC, e.g. ${network.id}",
                                 constraints=(Pattern(r"vpc-[0-9a-f]+", "a VPC id (vpc-...)",
                                                      source=CREATE_SUBNET),)),
        "cidr_block": PropertySchema("string", required=True, force_new=True,
                                     description="the IPv4 range, inside the VPC's",
                                     constraints=(Cidr(4, (16, 28), source=SUBNET_SIZING),)),
        "availability_zone": PropertySchema("string", force_new=True,
                                            description="e.g. eu-west-1a; AWS picks one if unset"),
        "map_public_ip_on_launch": PropertySchema(
            "boolean", default=False, description="instances get a public IPv4 address"),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"arn": "string", "owner_id": "string", "available_ip_address_count": "integer"},
    rules=(CidrWithin("cidr_block", "vpc_id", "cidr_block", source=SUBNET_SIZING),),
)


class Subnet:
    """CRUD for subnets through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        ec2 = session.client("ec2", config)
        where = f"{values['vpc_id']}/{values['cidr_block']}"
        with session.translate(TYPE, where, config):
            params: dict[str, Any] = {"VpcId": values["vpc_id"],
                                      "CidrBlock": values["cidr_block"]}
            if values["availability_zone"]:
                params["AvailabilityZone"] = values["availability_zone"]
            if values["tags"]:
                params["TagSpecifications"] = [{"ResourceType": "subnet",
                                                "Tags": common.tag_list(values["tags"])}]
            # A retried create whose answer was lost meets its own subnet's CIDR.
            subnet_id = create_once(
                lambda: str(ec2.create_subnet(**params)["Subnet"]["SubnetId"]),
                exists=lambda: _find(ec2, values["vpc_id"], values["cidr_block"]) is not None,
                conflict=lambda exc: session.error_code(exc) == "InvalidSubnet.Conflict",
                adopt=lambda: str(_find(ec2, values["vpc_id"], values["cidr_block"])),
                refuse=lambda: name_taken(
                    "AWS error InvalidSubnet.Conflict: a subnet with this CIDR block already "
                    "exists in the VPC", what="subnet", name=where, resource_type=TYPE,
                    cloud_id=_find(ec2, values["vpc_id"], values["cidr_block"]) or ""))

        def finish() -> ReadResult:
            with session.translate(TYPE, subnet_id, config):
                ec2.get_waiter("subnet_available").wait(
                    SubnetIds=[subnet_id], WaiterConfig={"Delay": 2, "MaxAttempts": 60})
                if values["map_public_ip_on_launch"]:
                    ec2.modify_subnet_attribute(SubnetId=subnet_id,
                                                MapPublicIpOnLaunch={"Value": True})
            return common.must_exist(self.read(subnet_id, values, config), subnet_id, TYPE,
                                     "create")

        return finish_create(finish, lambda: ec2.delete_subnet(SubnetId=subnet_id),
                             resource=subnet_id, resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The subnet of the planned ``vpc_id`` with the planned ``cidr_block`` (a VPC's
        subnets never overlap, so the pair names one), if it exists."""
        vpc_id, cidr = props.get("vpc_id"), props.get("cidr_block")
        if not vpc_id or not cidr:
            return None
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, f"{vpc_id}/{cidr}", config):
            found = _find(ec2, vpc_id, cidr)
        return self.read(found, props, config) if found else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            try:
                found = ec2.describe_subnets(SubnetIds=[id])["Subnets"]
            except Exception as exc:
                if session.error_code(exc) in NOT_FOUND:
                    return None
                raise
        if not found:
            return None
        subnet = found[0]
        properties: dict[str, Any] = {
            "vpc_id": subnet["VpcId"],
            "cidr_block": subnet["CidrBlock"],
            "availability_zone": subnet.get("AvailabilityZone"),
            "map_public_ip_on_launch": bool(subnet.get("MapPublicIpOnLaunch", False)),
            "tags": common.tag_map(subnet.get("Tags")),
            "arn": subnet.get("SubnetArn", ""),
            "owner_id": subnet.get("OwnerId", ""),
            "available_ip_address_count": int(subnet.get("AvailableIpAddressCount", 0)),
        }
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, common.filled(new, old, "availability_zone"),
                                    resource=id)
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            if "map_public_ip_on_launch" in names:
                ec2.modify_subnet_attribute(
                    SubnetId=id, MapPublicIpOnLaunch={"Value": bool(values["map_public_ip_on_launch"])})
            if "tags" in names:
                set_tags(ec2, id, old.get("tags"), values["tags"])
        return common.must_exist(self.read(id, values, config), id, TYPE, "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        delete_ec2(TYPE, id, config, lambda ec2: ec2.delete_subnet(SubnetId=id), NOT_FOUND,
                   in_use="network interfaces still use the subnet; delete "
                   "the instances or endpoints in it first")


def _find(ec2: Any, vpc_id: Any, cidr: Any) -> str | None:
    """The id of the subnet of ``vpc_id`` with ``cidr``, if there is one."""
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [str(vpc_id)]},
                                          {"Name": "cidr-block", "Values": [str(cidr)]}])
    subnets = found["Subnets"]
    return str(subnets[0]["SubnetId"]) if subnets else None
