"""Semantic validation against adapter schemas (test adapters, no clouds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import SpecError
from provision.provider import AdapterRegistry
from provision.spec import load, loads, resolve, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks" / "examples"


@pytest.mark.parametrize("name", ["multicloud.yaml", "multicloud.hcl"])
def test_examples_are_valid(name: str, registry: AdapterRegistry) -> None:
    spec = load(EXAMPLES / name)
    validate(spec, registry)
    validate(resolve(spec, "local"), registry)


def test_all_semantic_errors_at_once(registry: AdapterRegistry) -> None:
    spec = loads(
        "name: x\n"
        "resources:\n"
        "  a:\n"
        "    type: aws:s3:Bukcet\n"
        "  b:\n"
        "    type: aws:s3:Bucket\n"
        "    properties:\n"
        "      bucket: 12\n"
        "      tagz: {}\n"
        "      versioning: \"${c.nme}\"\n"
        "  c:\n"
        "    type: gcp:storage:Bucket\n"
        "    depends_on: [bb]\n"
        "    properties: {name: \"${b.arm}\"}\n", "t.yaml")
    with pytest.raises(SpecError) as info:
        validate(spec, registry)
    got = [(d.line, d.resource, d.message, d.hint) for d in info.value.diagnostics]
    assert got == [
        (4, "a", "unknown resource type 'aws:s3:Bukcet'", "did you mean 'aws:s3:Bucket'?"),
        (8, "b", "property 'bucket' must be string, got integer 12", "write a string value"),
        (9, "b", "unknown property 'tagz' for type 'aws:s3:Bucket'", "did you mean 'tags'?"),
        (10, "b", "reference ${c.nme}: type 'gcp:storage:Bucket' has no output 'nme'",
         "did you mean 'name'?"),
        (14, "c", "reference ${b.arm}: type 'aws:s3:Bucket' has no output 'arm'",
         "did you mean 'arn'?"),
        (13, "c", "depends_on names unknown resource 'bb'", "did you mean 'b'?"),
        (5, "b", "dependency cycle between resources: b -> c -> b",
         "b -> c: ${c.nme} in property 'versioning'; c -> b: ${b.arm} in property 'name'"),
    ]


def test_required_property_may_come_from_every_environment(registry: AdapterRegistry) -> None:
    base = ("name: x\n"
            "environments:\n"
            "  dev: {azure: {name: from-settings}}\n"
            "  prod: {overrides: {rg: {name: from-override}}}\n"
            "resources:\n"
            "  rg: {type: azure:resources:ResourceGroup}\n")
    validate(loads(base, "t.yaml"), registry)
    missing = base.replace("  prod: {overrides: {rg: {name: from-override}}}\n", "  prod: {}\n")
    with pytest.raises(SpecError, match="1 error") as info:
        validate(loads(missing, "t.yaml"), registry)
    assert info.value.diagnostics[0].message == (
        "missing required property 'name' for type 'azure:resources:ResourceGroup'")


def test_check_returns_a_sound_spec_and_reports_each_problem_once(
        registry: AdapterRegistry, tmp_path: Path) -> None:
    from provision.spec import check

    assert check(EXAMPLES / "multicloud.hcl", registry).name == "multicloud"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nvariables: {v: {type: string}}\nenvironments: {a: {}, b: {}}\n"
                      "resources: {}\n")
    with pytest.raises(SpecError) as info:
        check(broken, registry)
    assert [d.message for d in info.value.diagnostics] == [
        "missing required variable 'v' in environment 'a'",
        "missing required variable 'v' in environment 'b'"]


def test_check_reports_structural_and_semantic_errors_at_once(
        tmp_path: Path, registry: AdapterRegistry) -> None:
    """A resource with no type stops only its own checks: the others' unknown type,
    unknown reference and cycle are reported with it, and the typeless one once."""
    from provision.spec import check

    spec = tmp_path / "multi.yaml"
    spec.write_text("""name: multi
environments:
  dev: {sandbox: true}
resources:
  a: {type: aws:s3:Bucket, stage: s, properties: {bucket: "${nope.arn}"}}
  b: {type: aws:s3:Buckt, stage: s, properties: {bucket: b}}
  c: {stage: s, properties: {bucket: c}}
  d: {type: aws:s3:Bucket, stage: s, properties: {bucket: "${d.arn}"}}
""")
    with pytest.raises(SpecError) as raised:
        check(spec, registry)
    [typeless] = [d for d in raised.value.diagnostics if d.resource == "c"]
    assert "resource has no 'type'" in typeless.message
    messages = " | ".join(d.message for d in raised.value.diagnostics)
    assert "unknown resource type 'aws:s3:Buckt'" in messages
    assert "names unknown resource 'nope'" in messages
    assert "dependency cycle" in messages
