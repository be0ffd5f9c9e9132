"""The clouds' documented constraints, checked on a spec before any cloud call.

The constraint kinds are tested on their own first, then through the real
registry's schemas (``providers.registry()`` imports no cloud SDK), located at
the file and line where the value was written.
"""

from __future__ import annotations

import pytest

import providers
from provision.constraints import (
    Cidr, CidrWithin, Each, Exclusive, Fields, JsonDocument, Keys, Length, OneOf, Pattern,
    Range, When, check_property, check_resource,
)
from provision.errors import SpecError
from provision.provider import PropertySchema, ResourceSchema
from provision.spec import check_constraints, loads, resolve, validate
from provision.spec.model import Reference, Template
from schema_registry import SchemaOnly, StaticRegistry


def messages(constraints: tuple[object, ...], value: object) -> list[str]:
    return [v.message for v in check_property(constraints, value)]  # type: ignore[arg-type]


def test_length_counts_characters_or_items() -> None:
    assert messages((Length(3, 63),), "a" * 68) == ["has 68 characters; allowed: 3 to 63"]
    assert messages((Length(3, 63),), "abc") == []
    assert messages((Length(0, 2),), [1, 2, 3]) == ["has 3 items; allowed: 0 to 2"]
    assert messages((Length(1),), "") == ["has 0 characters; allowed: at least 1"]


def test_pattern_must_match_or_must_not_contain() -> None:
    assert messages((Pattern("[a-z]+", "lowercase letters"),), "Ab") == \
        ["'Ab' is not valid: lowercase letters"]
    assert messages((Pattern(r"\.\.", "two adjacent periods", forbid=True),), "a..b") == \
        ["'a..b' is not allowed: two adjacent periods"]
    assert messages((Pattern("[a-z]+", "x"),), "abc") == []


def test_one_of_and_range() -> None:
    assert messages((OneOf(("A", "B")),), "C") == ["'C' is not one of A, B"]
    assert messages((Range(0, 65535),), 70000) == ["70000 is out of range (0 to 65535)"]
    assert messages((Range(min=1),), 0) == ["0 is out of range (at least 1)"]
    assert messages((Range(0, 1),), True) == []          # a boolean is not a number here


def test_cidr_syntax_host_bits_and_prefix() -> None:
    vpc = (Cidr(4, (16, 28)),)
    assert messages(vpc, "10.0.0.0/16") == []
    assert messages(vpc, "10.0.0.0") == \
        ["'10.0.0.0' is not an IPv4 CIDR block (like 10.0.0.0/16)"]
    assert messages(vpc, "10.0.0.300/16")[0].startswith("'10.0.0.300/16' is not an IPv4")
    assert messages(vpc, "10.0.1.0/16") == ["'10.0.1.0/16' has host bits set; the block is "
                                            "10.0.0.0/16"]
    assert messages(vpc, "10.0.0.0/8") == ["10.0.0.0/8: the prefix length must be /16 to /28"]
    assert messages((Cidr(6),), "2001:db8::/56") == []


def test_nested_constraints_carry_their_path() -> None:
    rule = Fields({"from_port": (Range(0, 65535),), "cidr_blocks": (Each((Cidr(),)),)},
                  required=("from_port",))
    found = check_property((Each((rule,)),),
                           [{"from_port": 80}, {"cidr_blocks": ["10.0.0.0/8", "nope"]},
                            {"from_port": -1, "colour": "red"}])
    assert [(v.path, v.message) for v in found] == [
        ("1", "missing key 'from_port'"),
        ("1.cidr_blocks.1", "'nope' is not an IPv4 CIDR block (like 10.0.0.0/16)"),
        ("2.from_port", "-1 is out of range (0 to 65535)"),
        ("2.colour", "unknown key 'colour' (allowed: from_port, cidr_blocks)"),
    ]
    keys = check_property((Keys((Length(1, 3),)),), {"abcd": "x"})
    assert [(v.path, v.message) for v in keys] == [("abcd", "key has 4 characters; "
                                                             "allowed: 1 to 3")]


def test_json_document() -> None:
    assert messages((JsonDocument(),), '{"Version": "2012-10-17"}') == []
    assert messages((JsonDocument(),), "[1]") == ["must be a JSON object"]
    assert messages((JsonDocument(),), "{nope")[0].startswith("is not valid JSON")


def test_unknown_values_are_never_refused() -> None:
    ref = Reference("var", "name")
    for constraint in (Length(3, 5), Pattern("[a-z]+", "x"), OneOf(("a",)), Range(0, 1),
                       Cidr(), JsonDocument()):
        assert check_property((constraint,), ref) == []
        assert check_property((constraint,), Template(("x-", ref))) == []


def test_rules_across_properties_and_resources() -> None:
    exclusive = Exclusive(("name", "name_prefix"))
    assert [v.message for v in check_resource({}, (exclusive,), {"name": "a", "name_prefix": "b"})] \
        == ["'name' and 'name_prefix' are mutually exclusive: set only one"]
    assert check_resource({}, (exclusive,), {"name": "a", "name_prefix": None}) == []
    when = When("billing_mode", "PROVISIONED", requires=("read_capacity",),
                forbids=("ttl",))
    found = check_resource({}, (when,), {"billing_mode": "PROVISIONED", "ttl": {"a": 1}})
    assert [(v.path, v.message) for v in found] == [
        ("billing_mode", "'read_capacity' is required when billing_mode is 'PROVISIONED'"),
        ("ttl", "'ttl' must not be set when billing_mode is 'PROVISIONED'")]
    inside = CidrWithin("cidr_block", "vpc_id", "cidr_block")
    vpc = {"cidr_block": "10.0.0.0/16"}
    assert check_resource({}, (inside,), {"cidr_block": "10.0.1.0/24"}, lambda n: vpc) == []
    found = check_resource({}, (inside,), {"cidr_block": "10.1.0.0/24"}, lambda n: vpc)
    assert [v.message for v in found] == \
        ["10.1.0.0/24 is not inside 10.0.0.0/16, the cidr_block of the resource vpc_id refers to"]
    assert check_resource({}, (inside,), {"cidr_block": "10.1.0.0/24"}, lambda n: None) == []


TOO_LONG = "a" * 68

SPEC = f"""
name: limits
variables:
  suffix: {{type: string, default: x}}
environments:
  local: {{}}
  prod:
    overrides:
      logs: {{server_side_encryption: AES-256}}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: {TOO_LONG}
      tags:
        aws:owner: me
  fine:
    type: aws:s3:Bucket
    properties:
      bucket: "fine-${{var.suffix}}"
"""


def test_a_68_character_bucket_name_is_a_located_validate_error() -> None:
    spec = loads(SPEC, "limits.yaml")
    with pytest.raises(SpecError) as info:
        validate(spec, providers.registry())
    found = {(d.line, d.resource, d.message) for d in info.value.diagnostics}
    assert (14, "logs", "property 'bucket' has 68 characters; allowed: 3 to 63") in found
    assert (16, "logs", "property 'tags.aws:owner' key 'aws:owner' is not allowed: the aws: "
                        "prefix is reserved for AWS") in found
    # An override is located where it was written, not at its environment.
    assert (9, "logs", "environment 'prod' overrides: property 'server_side_encryption' "
                       "'AES-256' is not one of AES256, aws:kms, aws:kms:dsse") in found
    assert len(found) == 3   # "fine-${var.suffix}" is not known yet: not refused
    bucket = next(d for d in info.value.diagnostics if "68" in d.message)
    assert bucket.file == "limits.yaml"
    assert bucket.hint == ("documented at https://docs.aws.amazon.com/AmazonS3/latest/"
                           "userguide/bucketnamingrules.html")


def test_values_from_variables_are_checked_once_resolved() -> None:
    spec = loads(SPEC.replace(f"bucket: {TOO_LONG}", "bucket: ok-name")
                 .replace("aws:owner", "owner").replace("suffix: {type: string, default: x}",
                                                        "suffix: {type: string, default: X}"),
                 "limits.yaml")
    registry = providers.registry()
    found = check_constraints(resolve(spec, "local"), registry, overrides=False)
    assert [(d.line, d.resource, d.message) for d in found] == [
        (20, "fine", "property 'bucket' 'fine-X' is not valid: lowercase letters, digits, "
                     "dots and hyphens, beginning and ending with a letter or digit")]


def test_secret_values_never_appear_in_a_violation() -> None:
    schema = ResourceSchema("t:x:Secret", "aws", "t_secret", {
        "password": PropertySchema("string", secret=True,
                                   constraints=(Pattern("[a-z]+", "lowercase letters"),))})
    spec = loads("name: s\nresources:\n  s:\n    type: t:x:Secret\n"
                 "    properties: {password: Hunter2-secret}\n", "s.yaml")
    found = check_constraints(spec, StaticRegistry({"t:x:Secret": SchemaOnly(schema)}))
    assert len(found) == 1
    assert "Hunter2" not in found[0].render()
    assert found[0].message == "property 'password' '***' is not valid: lowercase letters"


def test_the_aws_example_stack_is_valid_in_every_environment() -> None:
    from pathlib import Path

    from provision.spec import check

    example = Path(__file__).resolve().parents[2] / "stacks" / "examples" / "aws-app.yaml"
    spec = check(example, providers.registry())
    assert {r.type for r in spec.resources.values()} == {
        "aws:ec2:Vpc", "aws:ec2:Subnet", "aws:ec2:SecurityGroup", "aws:dynamodb:Table",
        "aws:s3:Bucket", "aws:sqs:Queue", "aws:iam:Role"}


def test_a_name_or_prefix_is_checked_once_overrides_are_merged(tmp_path: object) -> None:
    from pathlib import Path

    from provision.spec import check

    text = """name: q
environments:
  dev: {}
  prod:
    overrides:
      jobs: {name: jobs-prod}
resources:
  jobs:
    type: aws:sqs:Queue
    properties: {visibility_timeout_seconds: 30}
"""
    spec = loads(text, "q.yaml")
    validate(spec, providers.registry())       # prod's override may name it: not an error yet
    assert check_constraints(resolve(spec, "prod"), providers.registry(), overrides=False) == []
    [found] = check_constraints(resolve(spec, "dev"), providers.registry(), overrides=False)
    assert (found.line, found.resource, found.message) == (
        8, "jobs", "set 'name' or 'name_prefix'")
    path = Path(str(tmp_path)) / "q.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        check(path, providers.registry())
    assert [d.message for d in info.value.diagnostics] == ["set 'name' or 'name_prefix'"]
