"""Resolving a spec for one environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import EnvironmentNotFoundError, SpecError
from provision.spec import load, loads, resolve
from provision.spec.model import Reference, Template
from provision.spec.refs import iter_references

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks" / "examples"


def test_resolve_substitutes_vars_env_and_merges_overrides() -> None:
    spec = load(EXAMPLES / "multicloud.yaml")
    local = resolve(spec, "local")
    logs = local.resources["logs"].properties
    assert logs["bucket"] == "logs-me-local"
    assert logs["tags"] == {"owner": "me", "region": "us-east-1", "tier": "dev"}
    rg = local.resources["rg"].properties
    assert rg["location"] == "westeurope"
    assert rg["tags"]["logs_arn"] == Reference("resource", "logs", "arn", "${logs.arn}")
    prod = resolve(spec, "prod")
    assert prod.resources["logs"].properties["bucket"] == "logs-platform-team-prod"
    assert "tier" not in prod.resources["logs"].properties["tags"]
    # the input spec is untouched
    assert isinstance(spec.resources["logs"].properties["bucket"], Template)


def test_only_resource_references_remain() -> None:
    for env in ("local", "prod"):
        resolved = resolve(load(EXAMPLES / "multicloud.hcl"), env)
        for res in resolved.resources.values():
            for ref in iter_references(res.properties):
                assert ref.kind == "resource"


def test_template_keeps_resource_reference_and_typed_whole_values() -> None:
    spec = loads(
        "name: x\n"
        "variables: {n: {type: number, default: 3}, flag: {type: bool, default: true}}\n"
        "environments: {dev: {aws: {region: r1}}}\n"
        "resources:\n"
        "  a: {type: aws:s3:Bucket, properties: {bucket: \"${var.n}-${b.arn}-${env.aws.region}\","
        " count: \"${var.n}\", on: \"x${var.flag}\"}}\n"
        "  b: {type: aws:s3:Bucket, properties: {bucket: b}}\n", "t.yaml")
    props = resolve(spec, "dev").resources["a"].properties
    assert props["bucket"] == Template(("3-", Reference("resource", "b", "arn", "${b.arn}"),
                                        "-r1"))
    assert props["count"] == 3
    assert props["on"] == "xtrue"


def test_missing_required_variable_and_unset_env_setting_are_errors() -> None:
    spec = loads(
        "name: x\n"
        "variables: {owner: {type: string}}\n"
        "environments: {dev: {}}\n"
        "resources:\n"
        "  a: {type: aws:s3:Bucket, properties: {bucket: \"${var.owner}-${env.aws.region}\"}}\n",
        "t.yaml")
    with pytest.raises(SpecError) as info:
        resolve(spec, "dev")
    messages = [d.message for d in info.value.diagnostics]
    assert any("missing required variable 'owner'" in m for m in messages), messages
    assert any("${env.aws.region} is not set in environment 'dev'" in m for m in messages)


def test_unknown_environment() -> None:
    spec = load(EXAMPLES / "multicloud.yaml")
    with pytest.raises(EnvironmentNotFoundError) as info:
        resolve(spec, "staging")
    assert "local, prod" in info.value.hint


def test_resolved_resources_keep_every_field() -> None:
    """resolve copies resources field by field (faster than dataclasses.replace): a new
    Resource field must be copied there too."""
    import dataclasses

    from provision.spec.model import Resource, SourceLocation
    from provision.spec.resolve import _with_properties

    assert [f.name for f in dataclasses.fields(Resource)] == [
        "id", "type", "properties", "stage", "depends_on", "protect", "location",
        "property_locations", "moved_from", "type_at", "depends_on_at"], \
        "copy the new field in provision.spec.resolve._with_properties"
    res = Resource("a", "aws:s3:Bucket", {"x": 1}, "s1", ("b",), True, SourceLocation("f", 2, 3),
                   {"x": SourceLocation("f", 4, 5)}, ("old",), (3, 5), (5, 5))
    new_locs = {"y": SourceLocation("f", 6, 7)}
    assert _with_properties(res, {"y": 2}, new_locs) == dataclasses.replace(
        res, properties={"y": 2}, property_locations=new_locs)


def test_a_property_only_an_override_writes_is_located_in_the_resolved_spec_only() -> None:
    spec = loads(
        "name: x\n"
        "environments:\n"
        "  dev:\n"
        "    aws: {region: r1}\n"
        "    overrides: {a: {versioning: true}}\n"
        "resources:\n"
        "  a: {type: aws:s3:Bucket, properties: {bucket: b}}\n"
        "  c: {type: aws:s3:Bucket, properties: {bucket: d}}\n", "t.yaml")
    resolved = resolve(spec, "dev")
    env_line = spec.environments["dev"].location
    assert resolved.resources["a"].property_locations["versioning"] == env_line
    assert "versioning" not in spec.resources["a"].property_locations
    assert resolved.resources["a"].property_locations["bucket"] == \
        spec.resources["a"].property_locations["bucket"]
    assert resolved.resources["c"].property_locations == spec.resources["c"].property_locations
