"""``aws:ec2:SecurityGroup``: a security group with ingress and egress rules.

The id is the group id AWS assigns (``sg-...``). ``name``/``name_prefix``,
``description`` and ``vpc_id`` force a new group; rules and tags are updated in
place. A rule is a map with Terraform's keys::

    {protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [0.0.0.0/0],
     ipv6_cidr_blocks: [], security_groups: [sg-...], description: https}

``protocol`` is ``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``all`` (or ``-1``) or an IP
protocol number; ports are ignored for ``all``. Rules are compared as a set of
(protocol, ports, one source, description) grants, so their order, and how grants
are grouped into rules, are never a change; an update revokes exactly the grants
that went away and authorizes the new ones. Leaving ``ingress`` or ``egress`` unset
leaves those rules unmanaged (AWS gives a new group an allow-all egress rule);
``[]`` removes every rule of that direction.

Limits: CreateSecurityGroup (GroupName and GroupDescription at most 255 characters
of a documented set, GroupName not starting with ``sg-``), IpPermission (ports
-1..65535, CIDR blocks, a description at most 255 characters).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from provision.constraints import AnyKey, Cidr, Each, Fields, Length, Pattern, Range
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, session
from providers.aws.ec2_vpc import delete_ec2, set_tags
from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:ec2:SecurityGroup"

CREATE_SG = ("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
             "API_CreateSecurityGroup.html")
IP_PERMISSION = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html"

NOT_FOUND = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})

_TEXT = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"
_NAME = (Length(1, 255, source=CREATE_SG),
         Pattern(_TEXT, "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*", source=CREATE_SG),
         Pattern(r"^sg-", "the prefix sg-", forbid=True, source=CREATE_SG))

RULE = Fields({
    "protocol": (Pattern(r"tcp|udp|icmp|icmpv6|all|-1|\d{1,3}",
                         "tcp, udp, icmp, icmpv6, all (-1) or an IP protocol number",
                         source=IP_PERMISSION),),
    "from_port": (Range(-1, 65535, source=IP_PERMISSION),),
    "to_port": (Range(-1, 65535, source=IP_PERMISSION),),
    "cidr_blocks": (Each((Cidr(4, source=IP_PERMISSION),)),),
    "ipv6_cidr_blocks": (Each((Cidr(6, source=IP_PERMISSION),)),),
    "security_groups": (Each((Pattern(r"sg-[0-9a-f]+", "a security group id (sg-...)",
                                      source=IP_PERMISSION),)),),
    "description": (Length(0, 255, source=IP_PERMISSION),
                    Pattern(_TEXT, "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
                            source=IP_PERMISSION)),
}, required=("protocol",), source=IP_PERMISSION)
# A rule grants nothing without a source (IpPermission: IpRanges, Ipv6Ranges or
# UserIdGroupPairs).
RULE_SOURCE = AnyKey(("cidr_blocks", "ipv6_cidr_blocks", "security_groups"), source=IP_PERMISSION)

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_security_group",
    description="A VPC security group.",
    properties={
        **common.name_properties("group", 255, _NAME, CREATE_SG),
        "description": PropertySchema(
            "string", default="Managed by provision", force_new=True,
            constraints=(Length(0, 255, source=CREATE_SG),
                         Pattern(_TEXT, "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
                                 source=CREATE_SG))),
        "vpc_id": PropertySchema("string", force_new=True,
                                 description="the VPC; the default VPC if unset"),
        "ingress": PropertySchema("list", description="inbound rules (a set)",
                                  constraints=(Each((RULE, RULE_SOURCE)),)),
        "egress": PropertySchema("list", description="outbound rules (a set)",
                                 constraints=(Each((RULE, RULE_SOURCE)),)),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"arn": "string", "owner_id": "string"},
    rules=common.NAME_RULES,
)

# One grant: (protocol, from_port, to_port, source kind, source, description).
Grant = tuple[str, int, int, str, str, str]
_SOURCES = (("cidr_blocks", "IpRanges", "CidrIp"),
            ("ipv6_cidr_blocks", "Ipv6Ranges", "CidrIpv6"),
            ("security_groups", "UserIdGroupPairs", "GroupId"))
_NAMED = {"all": "-1", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return _NAMED.get(text, text)


def grants(rules: Iterable[Mapping[str, Any]] | None) -> set[Grant]:
    """The set of single grants a list of rules allows."""
    found: set[Grant] = set()
    for rule in rules or []:
        protocol = _protocol(rule.get("protocol", "-1"))
        low, high = ((0, 0) if protocol == "-1" else
                     (int(rule.get("from_port", -1)), int(rule.get("to_port", -1))))
        description = str(rule.get("description") or "")
        for key, _, _ in _SOURCES:
            for source in rule.get(key) or []:
                found.add((protocol, low, high, key, str(source), description))
    return found


def rules_of(permissions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """AWS IpPermissions as rules, one per (protocol, ports, description), sorted."""
    grouped: dict[tuple[str, int, int, str], dict[str, Any]] = {}
    for perm in permissions:
        protocol = _protocol(perm.get("IpProtocol", "-1"))
        low, high = ((0, 0) if protocol == "-1" else
                     (int(perm.get("FromPort", -1)), int(perm.get("ToPort", -1))))
        for key, api, field in _SOURCES:
            for entry in perm.get(api) or []:
                description = str(entry.get("Description") or "")
                rule = grouped.setdefault((protocol, low, high, description), {
                    "protocol": "all" if protocol == "-1" else protocol,
                    "from_port": low, "to_port": high})
                if description:
                    rule["description"] = description
                rule.setdefault(key, []).append(str(entry[field]))
    return [{k: sorted(v) if isinstance(v, list) else v for k, v in rule.items()}
            for _, rule in sorted(grouped.items())]


def _permissions(found: Iterable[Grant]) -> list[dict[str, Any]]:
    """Grants as IpPermissions for Authorize/Revoke (one permission per grant)."""
    permissions = []
    for protocol, low, high, key, source, description in sorted(found):
        api, field = next((a, f) for k, a, f in _SOURCES if k == key)
        entry: dict[str, Any] = {field: source}
        if description:
            entry["Description"] = description
        perm: dict[str, Any] = {"IpProtocol": protocol, api: [entry]}
        if protocol != "-1":
            perm["FromPort"], perm["ToPort"] = low, high
        permissions.append(perm)
    return permissions


class SecurityGroup:
    """CRUD for security groups through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        name = common.physical_name(values, TYPE)
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, name, config):
            params: dict[str, Any] = {"GroupName": name, "Description": values["description"]}
            if values["vpc_id"]:
                params["VpcId"] = values["vpc_id"]
            if values["tags"]:
                params["TagSpecifications"] = [{"ResourceType": "security-group",
                                                "Tags": common.tag_list(values["tags"])}]
            group_id = create_once(
                lambda: str(ec2.create_security_group(**params)["GroupId"]),
                exists=lambda: _find(ec2, name, values["vpc_id"]) is not None,
                conflict=lambda exc: session.error_code(exc) == "InvalidGroup.Duplicate",
                adopt=lambda: str(_find(ec2, name, values["vpc_id"])),
                refuse=lambda: name_taken(
                    "AWS error InvalidGroup.Duplicate: the security group already exists",
                    what="security group", name=name, resource_type=TYPE,
                    cloud_id=_find(ec2, name, values["vpc_id"]) or ""))

        def finish() -> ReadResult:
            with session.translate(TYPE, group_id, config):
                live = _describe(ec2, group_id)
                for direction in ("ingress", "egress"):
                    if values[direction] is not None and live is not None:
                        _set_rules(ec2, group_id, direction, _live_grants(live, direction),
                                   grants(values[direction]))
            return common.must_exist(self.read(group_id, {**values, "name": name}, config),
                                     group_id, TYPE, "create")

        return finish_create(finish, lambda: ec2.delete_security_group(GroupId=group_id),
                             resource=group_id, resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The group with the planned physical name (``name``, or ``name_prefix`` and its
        suffix, which the inputs determine) in the planned VPC, if it exists."""
        values = with_defaults(SCHEMA, props)
        name = common.physical_name(values, TYPE)
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, name, config):
            found = _find(ec2, name, values["vpc_id"])
        return self.read(found, {**values, "name": name}, config) if found else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            group = _describe(ec2, id)
        if group is None:
            return None
        properties: dict[str, Any] = {
            "name": group["GroupName"],
            "name_prefix": props.get("name_prefix"),
            "description": group.get("Description", ""),
            "vpc_id": group.get("VpcId"),
            "tags": common.tag_map(group.get("Tags")),
            "arn": group.get("SecurityGroupArn") or "",
            "owner_id": group.get("OwnerId", ""),
        }
        for direction, api in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            properties[direction] = common.as_recorded(
                rules_of(group.get(api) or []), props.get(direction), grants)
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        desired = common.filled(common.named(new, str(old.get("name") or id)), old, "vpc_id")
        values, names = plan_update(SCHEMA, old, desired, resource=id)
        ec2 = session.client("ec2", config)
        with session.translate(TYPE, id, config):
            live = _describe(ec2, id)
            for direction in ("ingress", "egress"):
                if direction in names and values[direction] is not None and live is not None:
                    _set_rules(ec2, id, direction, _live_grants(live, direction),
                               grants(values[direction]))
            if "tags" in names:
                set_tags(ec2, id, old.get("tags"), values["tags"])
        return common.must_exist(self.read(id, values, config), id, TYPE, "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        delete_ec2(TYPE, id, config, lambda ec2: ec2.delete_security_group(GroupId=id), NOT_FOUND,
                   in_use="instances, interfaces or other groups' rules still "
                   "use the group; remove them first")


def _find(ec2: Any, name: str, vpc_id: Any) -> str | None:
    """The id of the group named ``name`` in ``vpc_id`` (the default VPC when None)."""
    filters = [{"Name": "group-name", "Values": [name]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [str(vpc_id)]})
    found = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    if not vpc_id:
        found = [g for g in found if g.get("VpcId") == _default_vpc(ec2)]
    return str(found[0]["GroupId"]) if found else None


def _default_vpc(ec2: Any) -> str | None:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return str(vpcs[0]["VpcId"]) if vpcs else None


def _describe(ec2: Any, group_id: str) -> dict[str, Any] | None:
    try:
        found = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return None
        raise
    return dict(found[0]) if found else None


def _live_grants(group: Mapping[str, Any], direction: str) -> set[Grant]:
    api = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    return grants(rules_of(group.get(api) or []))


def _set_rules(ec2: Any, group_id: str, direction: str, live: set[Grant],
               wanted: set[Grant]) -> None:
    """Revoke the grants only ``live`` has, authorize those only ``wanted`` has."""
    revoke = (ec2.revoke_security_group_ingress if direction == "ingress"
              else ec2.revoke_security_group_egress)
    authorize = (ec2.authorize_security_group_ingress if direction == "ingress"
                 else ec2.authorize_security_group_egress)
    if live - wanted:
        revoke(GroupId=group_id, IpPermissions=_permissions(live - wanted))
    if wanted - live:
        authorize(GroupId=group_id, IpPermissions=_permissions(wanted - live))
