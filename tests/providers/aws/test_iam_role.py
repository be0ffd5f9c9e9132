"""``aws:iam:Role``: schema, constraints, and the full lifecycle over HTTP against moto."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from provision.constraints import check_resource
from provision.errors import ProviderError
from provision.provider import CloudConfig
from providers.aws.iam_role import SCHEMA, IamRole

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}]}


def _violations(props: dict[str, Any]) -> list[str]:
    constraints = {n: p.constraints for n, p in SCHEMA.properties.items()}
    return [f"{v.path}: {v.message}" for v in check_resource(constraints, SCHEMA.rules, props)]


def test_schema_and_constraints() -> None:
    props = SCHEMA.properties
    assert props["name"].force_new and props["name_prefix"].force_new and props["path"].force_new
    assert not props["assume_role_policy"].force_new and props["assume_role_policy"].required
    assert set(SCHEMA.outputs) == {"arn", "unique_id"}
    assert sorted(_violations({"name": "r" * 65, "max_session_duration": 60,
                               "assume_role_policy": "{not json", "path": "svc",
                               "managed_policy_arns": ["not-an-arn"]})) == sorted([
        "name: has 65 characters; allowed: 1 to 64",
        "path: 'svc' is not valid: '/' or a path that begins and ends with '/'",
        "assume_role_policy: is not valid JSON: Expecting property name enclosed in double "
        "quotes at character 1",
        "max_session_duration: 60 is out of range (3600 to 43200)",
        "managed_policy_arns.0: 'not-an-arn' is not valid: an ARN: "
        "arn:partition:service:region:account-id:resource",
    ])
    assert _violations({"name": "a", "name_prefix": "b"}) == [
        "name_prefix: 'name' and 'name_prefix' are mutually exclusive: set only one"]
    assert _violations({"name": "ok-role", "assume_role_policy": TRUST}) == []


def test_a_role_needs_a_name_or_a_prefix() -> None:
    config = CloudConfig("aws", {"endpoint_url": "http://127.0.0.1:9"}, sandbox=True)
    with pytest.raises(ProviderError, match="set 'name' or 'name_prefix'"):
        IamRole().create({"assume_role_policy": TRUST}, config)


def _managed_policy(iam: Any, name: str) -> str:
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
    return str(iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))["Policy"]["Arn"])


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], unique: str) -> None:
    iam = aws("iam")
    send = _managed_policy(iam, f"send-{unique}")
    other = _managed_policy(iam, f"other-{unique}")
    adapter = IamRole()
    props = {"name": f"app-{unique}", "assume_role_policy": json.dumps(TRUST),
             "inline_policies": {"read": READ}, "managed_policy_arns": [send],
             "tags": {"team": "core"}, "description": "the app"}

    created = adapter.create(props, aws_config)
    name = created.id
    assert name == f"app-{unique}"
    assert created.properties["assume_role_policy"] == json.dumps(TRUST)  # the spec's form
    assert created.properties["arn"] == f"arn:aws:iam::123456789012:role/{name}"
    role = iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"] == TRUST and role["Description"] == "the app"
    assert iam.get_role_policy(RoleName=name, PolicyName="read")["PolicyDocument"] == READ
    assert [p["PolicyArn"] for p in
            iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [send]
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "core"}]
    again = adapter.read(name, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    # In place: trust policy as a map, other inline and managed policies, tags, duration.
    trust2 = {**TRUST, "Statement": [{**TRUST["Statement"][0],  # type: ignore[dict-item]
                                      "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
    new = {**props, "assume_role_policy": trust2, "inline_policies": {"write": READ},
           "managed_policy_arns": [other], "tags": {"team": "platform"},
           "max_session_duration": 7200}
    updated = adapter.update(name, created.properties, new, aws_config)
    assert updated.id == name and updated.properties["unique_id"] == created.properties["unique_id"]
    role = iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"] == trust2 and role["MaxSessionDuration"] == 7200
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["write"]
    assert [p["PolicyArn"] for p in
            iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [other]
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "platform"}]

    # A new path forces a replacement: the adapter refuses to update it in place, and
    # the engine deletes then creates.
    moved = {**new, "path": "/svc/"}
    with pytest.raises(ProviderError, match="cannot update path in place"):
        adapter.update(name, updated.properties, moved, aws_config)
    adapter.delete(name, updated.properties, aws_config)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=name)
    replaced = adapter.create(moved, aws_config)
    assert iam.get_role(RoleName=name)["Role"]["Path"] == "/svc/"
    assert replaced.properties["unique_id"] != created.properties["unique_id"]

    adapter.delete(name, replaced.properties, aws_config)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=name)
    assert adapter.read(name, replaced.properties, aws_config) is None
    adapter.delete(name, replaced.properties, aws_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_name_prefix_gives_a_stable_name(aws_config: CloudConfig, aws: Callable[[str], Any],
                                         unique: str) -> None:
    adapter = IamRole()
    props = {"name_prefix": f"p{unique}-", "assume_role_policy": TRUST}
    created = adapter.create(props, aws_config)
    assert created.id.startswith(f"p{unique}-") and len(created.id) == len(f"p{unique}-") + 8
    assert aws("iam").get_role(RoleName=created.id)["Role"]["RoleName"] == created.id
    # The generated name is not a change: an update of the tags keeps the role.
    updated = adapter.update(created.id, created.properties, {**props, "tags": {"a": "b"}},
                             aws_config)
    assert updated.id == created.id and updated.properties["tags"] == {"a": "b"}
    adapter.delete(created.id, updated.properties, aws_config)


@pytest.mark.sandbox
def test_cloud_errors_name_the_role_and_the_code(aws_config: CloudConfig,
                                                 aws: Callable[[str], Any], unique: str) -> None:
    name = f"dup-{unique}"
    aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(ProviderError) as info:
        IamRole().create({"name": name, "assume_role_policy": TRUST}, aws_config)
    assert info.value.message.startswith(f"{name} (aws:iam:Role): AWS error EntityAlreadyExists:")
    aws("iam").delete_role(RoleName=name)
