"""``aws:iam:Role``: an IAM role with its trust policy, inline and managed policies, tags.

The id is the role name. ``assume_role_policy`` (the trust policy) and each value of
``inline_policies`` (policy name -> document) are policy documents, given as a map
or as JSON text; a read reports the spec's own form while the document means the
same. ``managed_policy_arns`` are attached and detached to match, compared as a set.
``name``, ``name_prefix`` and ``path`` force a new role; everything else is updated
in place. Delete first detaches the managed policies and deletes the inline ones
(IAM refuses to delete a role that still has them).

Limits: CreateRole (RoleName 1-64 of ``[\\w+=,.@-]``, Path 1-512 ``/.../``,
Description 0-1000, MaxSessionDuration 3600-43200 seconds), PutRolePolicy
(PolicyName 1-128), IAM quotas (managed policies per role: 10 by default, 20 at most).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from provision.constraints import Each, JsonDocument, Keys, Length, Pattern, Range
from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, session
from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:iam:Role"

CREATE_ROLE = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html"
PUT_ROLE_POLICY = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html"
QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"

NOT_FOUND = frozenset({"NoSuchEntity", "NoSuchEntityException"})

_NAME = (Length(1, 64, source=CREATE_ROLE),
         Pattern(r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -", source=CREATE_ROLE))

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_iam_role",
    description="An IAM role.",
    properties={
        **common.name_properties("role", 64, _NAME, CREATE_ROLE),
        "path": PropertySchema(
            "string", default="/", force_new=True, description="the role's path",
            constraints=(Length(1, 512, source=CREATE_ROLE),
                         Pattern(r"/|/[\x21-\x7e]+/", "'/' or a path that begins and ends "
                                 "with '/'", source=CREATE_ROLE))),
        "assume_role_policy": PropertySchema(
            "json", required=True,
            description="the trust policy: a map or its JSON text",
            constraints=(JsonDocument(source=CREATE_ROLE),)),
        "description": PropertySchema("string", constraints=(Length(0, 1000, source=CREATE_ROLE),)),
        "max_session_duration": PropertySchema(
            "integer", default=3600, description="seconds a session may last",
            constraints=(Range(3600, 43200, source=CREATE_ROLE),)),
        "inline_policies": PropertySchema(
            "map", description="policy name -> policy document (a map or JSON text)",
            constraints=(Keys((Length(1, 128, source=PUT_ROLE_POLICY),
                               Pattern(r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -",
                                       source=PUT_ROLE_POLICY))),
                         Each((JsonDocument(source=PUT_ROLE_POLICY),)))),
        "managed_policy_arns": PropertySchema(
            "list", description="ARNs of managed policies to attach (a set)",
            constraints=(Length(0, 20, source=QUOTAS), Each((limits.ARN,)))),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"arn": "string", "unique_id": "string"},
    rules=common.NAME_RULES,
)


def _document(value: Any, what: str, name: str) -> dict[str, Any]:
    return common.policy_document(value, what, name, TYPE)


def _same_document(value: Any) -> Any:
    return json.dumps(_document(value, "policy", ""), sort_keys=True)


class IamRole:
    """CRUD for IAM roles through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        name = common.physical_name(values, TYPE)
        trust = _document(values["assume_role_policy"], "assume_role_policy", name)
        iam = session.client("iam", config)
        with session.translate(TYPE, name, config):
            params: dict[str, Any] = {
                "RoleName": name, "Path": values["path"],
                "AssumeRolePolicyDocument": json.dumps(trust),
                "MaxSessionDuration": int(values["max_session_duration"]),
            }
            if values["description"]:
                params["Description"] = values["description"]
            if values["tags"]:
                params["Tags"] = common.tag_list(values["tags"])
            create_once(lambda: iam.create_role(**params),
                        exists=lambda: _role_exists(iam, name),
                        conflict=lambda exc: session.error_code(exc) == "EntityAlreadyExists",
                        adopt=lambda: None,
                        refuse=lambda: name_taken(
                            "AWS error EntityAlreadyExists: the role already exists",
                            what="role", name=name, resource_type=TYPE, cloud_id=name))

        def finish() -> ReadResult:
            with session.translate(TYPE, name, config):
                _set_inline(iam, name, {}, values["inline_policies"] or {})
                _set_managed(iam, name, [], values["managed_policy_arns"] or [])
            return common.must_exist(self.read(name, {**values, "name": name}, config),
                                     name, TYPE, "create")

        return finish_create(finish, lambda: _delete(iam, name), resource=name,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The role with the physical name the planned inputs give (its natural key)."""
        values = with_defaults(SCHEMA, props)
        return self.read(common.physical_name(values, TYPE), values, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        iam = session.client("iam", config)
        with session.translate(TYPE, id, config):
            try:
                role = iam.get_role(RoleName=id)["Role"]
            except Exception as exc:
                if session.error_code(exc) in NOT_FOUND:
                    return None
                raise
            inline = {}
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=id):
                for policy in page["PolicyNames"]:
                    inline[policy] = iam.get_role_policy(
                        RoleName=id, PolicyName=policy)["PolicyDocument"]
            managed = [p["PolicyArn"] for page in
                       iam.get_paginator("list_attached_role_policies").paginate(RoleName=id)
                       for p in page["AttachedPolicies"]]
            tags = [t for page in iam.get_paginator("list_role_tags").paginate(RoleName=id)
                    for t in page["Tags"]]
        recorded_inline = props.get("inline_policies") or {}
        properties: dict[str, Any] = {
            "name": id,
            "name_prefix": props.get("name_prefix"),
            "path": role.get("Path", "/"),
            "assume_role_policy": common.as_recorded(
                role.get("AssumeRolePolicyDocument", {}), props.get("assume_role_policy"),
                _same_document),
            "description": role.get("Description") or None,
            "max_session_duration": int(role.get("MaxSessionDuration", 3600)),
            "inline_policies": {
                policy: common.as_recorded(doc, recorded_inline.get(policy), _same_document)
                for policy, doc in sorted(inline.items())},
            "managed_policy_arns": common.as_recorded(
                sorted(managed), props.get("managed_policy_arns"), lambda v: sorted(v)),
            "tags": common.tag_map(tags),
            "arn": role["Arn"],
            "unique_id": role["RoleId"],
        }
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, common.named(new, id), resource=id)
        iam = session.client("iam", config)
        with session.translate(TYPE, id, config):
            if "assume_role_policy" in names:
                trust = _document(values["assume_role_policy"], "assume_role_policy", id)
                iam.update_assume_role_policy(RoleName=id, PolicyDocument=json.dumps(trust))
            if "description" in names or "max_session_duration" in names:
                iam.update_role(RoleName=id, Description=values["description"] or "",
                                MaxSessionDuration=int(values["max_session_duration"]))
            if "inline_policies" in names:
                _set_inline(iam, id, old.get("inline_policies") or {},
                            values["inline_policies"] or {})
            if "managed_policy_arns" in names:
                _set_managed(iam, id, old.get("managed_policy_arns") or [],
                             values["managed_policy_arns"] or [])
            if "tags" in names:
                put, remove = common.tag_changes(old.get("tags"), values["tags"])
                if remove:
                    iam.untag_role(RoleName=id, TagKeys=remove)
                if put:
                    iam.tag_role(RoleName=id, Tags=common.tag_list(put))
        return common.must_exist(self.read(id, {**values, "name": id}, config), id, TYPE,
                                 "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        iam = session.client("iam", config)
        with session.translate(TYPE, id, config):
            _delete(iam, id)


def _set_inline(iam: Any, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Put every inline policy of ``new`` that differs, delete those only in ``old``."""
    for policy, doc in sorted(new.items()):
        document = _document(doc, f"inline_policies.{policy}", name)
        if policy in old and _same_document(old[policy]) == json.dumps(document, sort_keys=True):
            continue
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    for policy in sorted(set(old) - set(new)):
        try:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        except Exception as exc:
            if session.error_code(exc) not in NOT_FOUND:
                raise


def _set_managed(iam: Any, name: str, old: list[Any], new: list[Any]) -> None:
    for arn in sorted(set(map(str, new)) - set(map(str, old))):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for arn in sorted(set(map(str, old)) - set(map(str, new))):
        try:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        except Exception as exc:
            if session.error_code(exc) not in NOT_FOUND:
                raise


def _role_exists(iam: Any, name: str) -> bool:
    try:
        iam.get_role(RoleName=name)
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return False
        raise
    return True


def _delete(iam: Any, name: str) -> None:
    """Detach, delete inline policies, delete the role; succeed if it is already gone."""
    try:
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
            for policy in page["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            for policy in page["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return
        if session.error_code(exc) == "DeleteConflict":
            raise CloudError(f"AWS error DeleteConflict: {common.error_message(exc)}",
                             resource=name, resource_type=TYPE,
                             hint="the role is still in use (an instance profile holds it); "
                                  "remove it from the instance profile first") from exc
        raise
