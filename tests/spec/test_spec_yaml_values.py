"""YAML scalars follow the 1.2 core schema; anchors, aliases and merge keys keep working."""

from __future__ import annotations

import math
from typing import Any

import pytest

from provision.errors import SpecError
from provision.spec import loads
from provision.spec.loader_yaml import parse_yaml


def value_of(text: str) -> Any:
    doc = parse_yaml(f"v: {text}\n", "v.yaml")
    assert not doc.diagnostics, [d.render() for d in doc.diagnostics]
    return doc.data["v"]


@pytest.mark.parametrize("text,expected", [
    # Only true/false are booleans (YAML 1.1 also read these as booleans).
    ("NO", "NO"), ("no", "no"), ("off", "off"), ("On", "On"), ("yes", "yes"), ("Y", "Y"),
    ("true", True), ("True", True), ("FALSE", False),
    # Dates and times stay text; there are no base-60 numbers.
    ("2027-06-30", "2027-06-30"), ("2027-02-30", "2027-02-30"),
    ("2027-06-30T10:00:00Z", "2027-06-30T10:00:00Z"), ("1:20", "1:20"), ("190:20:30", "190:20:30"),
    # A leading zero keeps the text (no octal, no dropped zeros).
    ("01234", "01234"), ("007", "007"), ("-012", "-012"), ("012.5", "012.5"),
    ("0", 0), ("-0", 0), ("3", 3), ("+3", 3), ("-17", -17), ("0o17", 15), ("0x1F", 31),
    ("1_000", "1_000"), ("0b101", "0b101"),
    ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5), ("-2.5E-1", -0.25),
    ("~", None), ("null", None), ("NULL", None), ("", None),
    ('"3"', "3"), ("'true'", "true"), ("!!str 012", "012"), ("!!int '42'", 42),
])
def test_core_schema_scalars(text: str, expected: Any) -> None:
    got = value_of(text)
    assert got == expected and type(got) is type(expected), (text, got)


def test_infinity_and_nan_are_numbers() -> None:
    assert value_of(".inf") == math.inf and value_of("-.Inf") == -math.inf
    assert math.isnan(value_of(".nan"))


def test_keys_stay_as_written() -> None:
    doc = parse_yaml("on: 1\nNO: 2\nnull: 3\n012: 4\n", "k.yaml")
    assert doc.data == {"on": 1, "NO": 2, "null": 3, "012": 4}


def test_explicit_key_wins_over_a_merged_one_in_either_order() -> None:
    doc = parse_yaml(
        "base: &b {team: data, env: dev}\n"
        "after:\n  <<: *b\n  team: web\n"
        "before:\n  team: ops\n  <<: *b\n"
        "several:\n  <<: [*b, {extra: x, env: prod}]\n", "m.yaml")
    assert not doc.diagnostics and not doc.duplicates
    assert doc.data["after"] == {"team": "web", "env": "dev"}
    assert doc.data["before"] == {"team": "ops", "env": "dev"}
    assert doc.data["several"] == {"team": "data", "env": "dev", "extra": "x"}


def test_duplicate_written_key_is_still_an_error() -> None:
    with pytest.raises(SpecError) as info:
        loads("name: d\nresources:\n  a: {type: aws:s3:Bucket, properties: {bucket: x}}\n"
              "  a: {type: aws:s3:Bucket, properties: {bucket: y}}\n", "d.yaml")
    assert "d.yaml:4:3" in info.value.render() and "duplicate resource id 'a'" in info.value.render()


@pytest.mark.parametrize("text,tag", [
    ("!!timestamp 2027-06-30", "tag:yaml.org,2002:timestamp"),
    ("!!binary aGVsbG8=", "tag:yaml.org,2002:binary"),
    ("!Ref logs", "!Ref"),
    ("!!set {a, b}", "tag:yaml.org,2002:set"),
])
def test_other_tags_are_located_errors(text: str, tag: str) -> None:
    doc = parse_yaml(f"name: t\nv: {text}\n", "t.yaml")
    assert [d.render() for d in doc.diagnostics] == [
        f"t.yaml:2:4: unsupported YAML tag '{tag}' "
        "(specs use plain YAML values; remove the tag or quote the value)"]


def test_a_bad_explicit_integer_is_a_located_error() -> None:
    doc = parse_yaml("v: !!int twelve\n", "t.yaml")
    assert [d.message for d in doc.diagnostics] == ["'twelve' is not a valid integer"]
    assert doc.diagnostics[0].line == 1


def test_anchors_and_aliases_in_a_spec() -> None:
    spec = loads("""
name: aliases
resources:
  a: {type: aws:s3:Bucket, properties: {bucket: a, tags: &tags {team: data, country: NO}}}
  b:
    type: aws:s3:Bucket
    properties:
      bucket: b
      tags: {<<: *tags, team: web}
""", "a.yaml")
    assert spec.resources["a"].properties["tags"] == {"team": "data", "country": "NO"}
    assert spec.resources["b"].properties["tags"] == {"team": "web", "country": "NO"}
    # Aliased values are located at the alias's parent, never at the anchor.
    assert spec.resources["b"].property_locations["tags"].line == 9
