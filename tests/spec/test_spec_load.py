"""Loading YAML and HCL specs into the located model."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from provision.errors import SpecError, SpecNotFoundError
from provision.graph import build_stages
from provision.spec import load, loads, resolve
from provision.spec.model import Reference, SourceLocation, Template

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks" / "examples"


def without_locations(obj: Any) -> Any:
    """The model with file/line/column stripped, to compare YAML and HCL forms."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            if f.name == "path" or f.name.endswith(("location", "locations", "_at")):
                continue
            out[f.name] = without_locations(getattr(obj, f.name))
        return (type(obj).__name__, out)
    if isinstance(obj, dict):
        return {k: without_locations(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [without_locations(v) for v in obj]
    return obj


@pytest.mark.parametrize("name", ["multicloud"])
def test_yaml_and_hcl_forms_give_identical_models(name: str) -> None:
    a = load(EXAMPLES / f"{name}.yaml")
    b = load(EXAMPLES / f"{name}.hcl")
    assert without_locations(a) == without_locations(b)
    assert list(a.resources) == list(b.resources)
    for env in a.environments:
        ra, rb = resolve(a, env), resolve(b, env)
        assert without_locations(ra) == without_locations(rb)
        assert build_stages(ra) == build_stages(rb)


def test_references_whole_value_template_and_nested() -> None:
    spec = loads(
        "name: x\n"
        "resources:\n"
        "  a:\n"
        "    type: aws:s3:Bucket\n"
        "    properties:\n"
        "      bucket: \"${b.arn}\"\n"
        "      tags: {k: \"pre-${var.v}-${b.name}\", lit: \"$${not.a.ref}\"}\n"
        "      list: [1, \"${env.aws.region}\", {deep: \"${b.id}\"}]\n",
        "t.yaml",
    )
    props = spec.resources["a"].properties
    assert props["bucket"] == Reference("resource", "b", "arn", "${b.arn}")
    assert props["tags"]["k"] == Template(
        ("pre-", Reference("var", "v", "", "${var.v}"), "-",
         Reference("resource", "b", "name", "${b.name}")))
    assert props["tags"]["lit"] == "${not.a.ref}"
    assert props["list"][1] == Reference("env", "aws", "region", "${env.aws.region}")
    assert props["list"][2]["deep"] == Reference("resource", "b", "id", "${b.id}")


def test_locations_of_resources_and_properties() -> None:
    spec = load(EXAMPLES / "multicloud.yaml")
    rg = spec.resources["rg"]
    assert rg.location is not None and (rg.location.line, rg.location.column) == (31, 3)
    assert rg.property_locations["tags"].line == 36
    assert rg.type_location is not None and (rg.type_location.line, rg.type_location.column) \
        == (32, 5)
    hcl = load(EXAMPLES / "multicloud.hcl")
    assert hcl.resources["rg"].location is not None
    assert hcl.resources["rg"].location.line == 41
    assert hcl.resources["rg"].property_locations["tags"].line == 46
    hcl_type = hcl.resources["rg"].type_location
    assert hcl_type is not None and hcl_type.line == 42


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(SpecNotFoundError):
        load(tmp_path / "nope.yaml")
    other = tmp_path / "spec.json"
    other.write_text("{}")
    with pytest.raises(SpecError, match="1 error") as info:
        load(other)
    assert "extension" in info.value.diagnostics[0].message


def test_every_structural_error_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as info:
        loads("name: x\nresourcs: {}\nresources:\n  a: {type: aws:s3:Bucket, stag: s}\n"
              "  b: {properties: {}}\n", "t.yaml")
    messages = [d.message for d in info.value.diagnostics]
    assert len(messages) == 3, messages
    assert "unknown top-level key 'resourcs'" in messages[0]
    assert info.value.diagnostics[0].hint == "did you mean 'resources'?"
    assert info.value.diagnostics[1].line == 4
    assert "resource has no 'type'" in messages[2]


def test_an_unclosed_list_is_reported_where_it_opened() -> None:
    # libyaml notices the missing ']' on a later line; the fix belongs where '[' opened.
    text = ("name: x\nresources:\n  b:\n    type: gcp:storage:Bucket\n    properties:\n"
            "      location: [EU\n      labels: {a: b}\n")
    with pytest.raises(SpecError) as info:
        loads(text, "t.yaml")
    [diag] = info.value.diagnostics
    assert (diag.line, diag.column) == (6, 17)
    assert "flow sequence opened here is not closed" in diag.message
    assert "noticed at line 7" in diag.message and "']' ends a list" in (diag.hint or "")


def test_a_location_made_fast_is_the_same_as_one_made_by_its_constructor() -> None:
    fast, made = SourceLocation.at("s.yaml", 3, 7), SourceLocation("s.yaml", 3, 7)
    assert (fast, hash(fast), str(fast), repr(fast)) == (made, hash(made), str(made), repr(made))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.line = 4  # type: ignore[misc]
