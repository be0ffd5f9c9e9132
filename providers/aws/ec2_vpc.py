"""``aws:ec2:Vpc``: a VPC with its DNS attributes and tags.

The id is the VPC id AWS assigns (``vpc-...``). ``cidr_block`` and
``instance_tenancy`` force a new VPC; the DNS switches and tags are updated in
place (ModifyVpcAttribute takes one attribute per call). A ``Name`` tag is how the
console names a VPC. Delete fails clearly while subnets, gateways or interfaces
still use the VPC.

A VPC has no unique name, so each create carries a token tag (see
providers.aws.create_token): it removes the copies a retried CreateVpc made, and
``find`` adopts the VPC of a create a crashed run left pending. The tag counts
towards AWS's 50, so a VPC takes at most 49 tags of its own.

Limits: "VPC CIDR blocks" (an IPv4 block from /16 to /28), CreateVpc
(InstanceTenancy ``default`` or ``dedicated``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from provision.constraints import Cidr, Length, OneOf
from provision.errors import CloudError, ProviderError
from provision.provider import CREATE_TOKEN, CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, create_token, limits, session
from providers.base import finish_create, plan_update, with_defaults

TYPE = "aws:ec2:Vpc"

CIDR_BLOCKS = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html"
CREATE_VPC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html"

NOT_FOUND = frozenset({"InvalidVpcID.NotFound"})

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_vpc",
    description="A virtual private cloud.",
    properties={
        "cidr_block": PropertySchema("string", required=True, force_new=True,
                                     description="the IPv4 range, e.g. 10.0.0.0/16",
                                     constraints=(Cidr(4, (16, 28), source=CIDR_BLOCKS),)),
        "instance_tenancy": PropertySchema(
            "string", default="default", force_new=True,
            description="default or dedicated",
            constraints=(OneOf(("default", "dedicated"), source=CREATE_VPC),)),
        "enable_dns_support": PropertySchema("boolean", default=True,
                                             description="the Amazon DNS server answers"),
        "enable_dns_hostnames": PropertySchema(
            "boolean", default=False, description="instances get public DNS hostnames"),
        "tags": PropertySchema("map", items="string", description="resource tags (Name names it)",
                               constraints=(Length(0, 49, source=limits.TAGGING),
                                            *limits.TAGS[1:])),
    },
    outputs={"arn": "string", "owner_id": "string"},
    create_token=True,
)

_ATTRIBUTES = {"enable_dns_support": "EnableDnsSupport",
               "enable_dns_hostnames": "EnableDnsHostnames"}


class Vpc:
    """CRUD for VPCs through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        given, token = create_token.split(props)
        values = with_defaults(SCHEMA, given)
        ec2 = session.client("ec2", config)
        cidr = str(values["cidr_block"])
        with session.translate(TYPE, cidr, config):
            params: dict[str, Any] = {"CidrBlock": cidr,
                                      "InstanceTenancy": values["instance_tenancy"]}
            # No client token, no unique name: a token tag finds a retried create's
            # copies, and (recorded with a pending create) the VPC itself after a crash.
            params["TagSpecifications"] = create_token.tag_specifications(
                "vpc", common.tag_list(values["tags"]), token)
            vpc_id = str(ec2.create_vpc(**params)["Vpc"]["VpcId"])

        def finish() -> ReadResult:
            with session.translate(TYPE, vpc_id, config):
                create_token.drop_copies(_describer(ec2), "VpcId", vpc_id, token,
                                         lambda copy: ec2.delete_vpc(VpcId=copy))
                ec2.get_waiter("vpc_available").wait(
                    VpcIds=[vpc_id], WaiterConfig={"Delay": 2, "MaxAttempts": 60})
                for prop, api in _ATTRIBUTES.items():
                    if values[prop] != SCHEMA.properties[prop].default:
                        ec2.modify_vpc_attribute(VpcId=vpc_id, **{api: {"Value": values[prop]}})
            return common.must_exist(self.read(vpc_id, values, config), vpc_id, TYPE, "create")

        return finish_create(finish, lambda: ec2.delete_vpc(VpcId=vpc_id), resource=vpc_id,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The VPC a create with these planned inputs made: the one carrying the create
        token the engine recorded in them (the lowest id, should a retried create have left
        a copy). Inputs without a token (recorded before tokens existed) cannot name a
        VPC: a ProviderError, so that recovery stops instead of guessing."""
        token = props.get(CREATE_TOKEN)
        if not token:
            raise ProviderError("a VPC has no unique name, and these inputs carry no create "
                                "token to look it up by", resource_type=TYPE,
                                hint=f"look for a VPC with cidr_block {props.get('cidr_block')} "
                                     "and the spec's tags; delete it or import it "
                                     "(provision import)")
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, str(props.get("cidr_block") or ""), config):
            found = create_token.tagged(_describer(ec2), "VpcId", str(token))
        return self.read(found[0], props, config) if found else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            try:
                found = ec2.describe_vpcs(VpcIds=[id])["Vpcs"]
            except Exception as exc:
                if session.error_code(exc) in NOT_FOUND:
                    return None
                raise
            if not found:
                return None
            vpc = found[0]
            attributes = {
                prop: bool(ec2.describe_vpc_attribute(VpcId=id, Attribute=api[0].lower() + api[1:])
                           [api]["Value"])
                for prop, api in _ATTRIBUTES.items()}
        region = session.region(config) or ec2.meta.region_name
        properties: dict[str, Any] = {
            "cidr_block": vpc["CidrBlock"],
            "instance_tenancy": vpc.get("InstanceTenancy", "default"),
            **attributes,
            "tags": create_token.without_token(common.tag_map(vpc.get("Tags"))),
            "arn": f"arn:aws:ec2:{region}:{vpc.get('OwnerId', '')}:vpc/{id}",
            "owner_id": vpc.get("OwnerId", ""),
        }
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, new, resource=id)
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            for prop, api in _ATTRIBUTES.items():
                if prop in names:
                    ec2.modify_vpc_attribute(VpcId=id, **{api: {"Value": bool(values[prop])}})
            if "tags" in names:
                set_tags(ec2, id, old.get("tags"), values["tags"])
        return common.must_exist(self.read(id, values, config), id, TYPE, "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        delete_ec2(TYPE, id, config, lambda ec2: ec2.delete_vpc(VpcId=id), NOT_FOUND,
                   in_use="subnets, gateways or interfaces still use the VPC; "
                   "delete them first")


def _describer(ec2: Any) -> create_token.Describe:
    return lambda **kw: list(ec2.describe_vpcs(**kw)["Vpcs"])


def delete_ec2(resource_type: str, id: str, config: CloudConfig, delete: Callable[[Any], Any],
               not_found: frozenset[str], *, in_use: str) -> None:
    """Delete one EC2 resource with ``delete(ec2_client)``; succeed if it is already gone
    (an error code in ``not_found``). EC2 answers ``DependencyViolation`` while something
    still uses the resource: a :class:`CloudError` whose hint (``in_use``) says what."""
    ec2 = session.client("ec2", config)
    with session.translate(resource_type, id, config):
        try:
            delete(ec2)
        except Exception as exc:
            if session.error_code(exc) in not_found:
                return
            if session.error_code(exc) == "DependencyViolation":
                raise CloudError(f"AWS error DependencyViolation: {common.error_message(exc)}",
                                 resource=id, resource_type=resource_type, hint=in_use) from exc
            raise


def set_tags(ec2: Any, resource_id: str, old: Mapping[str, Any] | None,
             new: Mapping[str, Any] | None) -> None:
    """Make an EC2 resource's tags equal ``new`` (CreateTags / DeleteTags)."""
    put, remove = common.tag_changes(old, new)
    if remove:
        ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": k} for k in remove])
    if put:
        ec2.create_tags(Resources=[resource_id], Tags=common.tag_list(put))
