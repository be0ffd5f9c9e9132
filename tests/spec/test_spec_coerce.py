"""Values meet their schema types in one place (provision.coerce), and validate reports
the ones that cannot (elements of typed maps and lists, maps or lists in a string)."""

from __future__ import annotations

from typing import Any

import pytest

from provision.coerce import coerce_property, coerce_spec, element_problem, scalar_text
from provision.errors import SpecError
from provision.provider import AdapterRegistry, PropertySchema
from provision.spec import loads, resolve, validate


@pytest.mark.parametrize("value,text", [
    (3, "3"), (3.0, "3"), (2.5, "2.5"), (True, "true"), (False, "false"), (-7, "-7")])
def test_scalar_text(value: Any, text: str) -> None:
    assert scalar_text(value) == text


@pytest.mark.parametrize("prop,value,expected", [
    (PropertySchema("map", items="string"), {"copies": 3, "f": 1.5, "b": False, "s": "x"},
     {"copies": "3", "f": "1.5", "b": "false", "s": "x"}),
    (PropertySchema("list", items="string"), [1, "a", True], ["1", "a", "true"]),
    (PropertySchema("integer"), 3.0, 3),
    (PropertySchema("number"), 4.0, 4),
    (PropertySchema("number"), 4.5, 4.5),
    (PropertySchema("list", items="integer"), [1.0, 2.0], [1, 2]),
    (PropertySchema("string"), 3, 3),             # top-level strings stay strict: validate says so
    (PropertySchema("map"), {"a": 3}, {"a": 3}),  # untyped elements are left alone
])
def test_coerce_property(prop: PropertySchema, value: Any, expected: Any) -> None:
    got = coerce_property(prop, value)
    assert got == expected and type(got) is type(expected)
    if isinstance(got, dict):
        assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_element_problems() -> None:
    assert element_problem("string", {"a": 1}) == "a map is not a string"
    assert element_problem("string", [1]) == "a list is not a string"
    assert element_problem("string", 3) is None
    assert element_problem("integer", "3") == "'3' is not an integer"
    assert element_problem("boolean", "yes") == "'yes' is not a boolean"


SPEC = """
name: coerce
variables:
  labels: {type: map, default: {team: data}}
  names: {type: list, default: [a, b]}
  count: {type: number, default: 2}
environments:
  local:
    aws: {region: us-east-1, extra: {a: b}}
resources:
  b:
    type: aws:s3:Bucket
    properties:
      bucket: "b-${var.count}"
      tags:
        copies: 3
        ratio: 1.5
        enabled: true
        postcode: 01234
        count: ${var.count}
"""


def test_a_map_of_strings_receives_strings(registry: AdapterRegistry) -> None:
    spec = loads(SPEC, "c.yaml")
    validate(spec, registry)
    resolved = coerce_spec(resolve(spec, "local"), registry)
    assert resolved.resources["b"].properties["tags"] == {
        "copies": "3", "ratio": "1.5", "enabled": "true", "postcode": "01234", "count": "2"}
    assert resolved.resources["b"].properties["bucket"] == "b-2"


@pytest.mark.parametrize("tags,line,message", [
    ("{nested: {a: 1}}", 15, "'tags.nested' must be a string (a map is not a string)"),
    ("{many: [1, 2]}", 15, "'tags.many' must be a string (a list is not a string)"),
    ("{all: \"${var.labels}\"}", 15, "'tags.all' must be a string (${var.labels} is a map)"),
])
def test_an_element_that_cannot_be_coerced_is_a_located_error(
        registry: AdapterRegistry, tags: str, line: int, message: str) -> None:
    text = SPEC.split("      tags:")[0] + f"      tags: {tags}\n"
    with pytest.raises(SpecError) as info:
        validate(loads(text, "c.yaml"), registry)
    assert [(d.line, d.message) for d in info.value.diagnostics] == [(line, message)]
    assert "numbers and booleans are written as text" in info.value.render()


@pytest.mark.parametrize("value,ref,kind", [
    ('"labels=${var.labels}"', "${var.labels}", "map"),
    ('"names=${var.names}"', "${var.names}", "list"),
    ('"x-${env.aws.extra}"', "${env.aws.extra}", "map"),
    ('"t-${a.tags}"', "${a.tags}", "map"),
])
def test_interpolating_a_map_or_list_is_a_validate_error(
        registry: AdapterRegistry, value: str, ref: str, kind: str) -> None:
    text = SPEC + f"""  a:
    type: aws:s3:Bucket
    properties: {{bucket: a, tags: {{t: x}}}}
  c:
    type: aws:s3:Bucket
    properties:
      bucket: c
      tags: {{label: {value}}}
"""
    with pytest.raises(SpecError) as info:
        validate(loads(text, "c.yaml"), registry)
    assert [(d.line, d.resource, d.message) for d in info.value.diagnostics] == [
        (28, "c", f"{ref} is a {kind} and cannot be interpolated into a string "
                  "(in 'tags.label')")]
