"""YAML and HCL forms of the same generated spec load into identical models."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from provision.spec import loads, resolve
from provision.spec.loader_yaml import CoreResolver

from test_spec_load import without_locations

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in ("var", "env", "true", "false", "null"))
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="%$\\\"\r\x00",
                             exclude_categories=("Cs", "Cc")), max_size=12)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper quoting every string the YAML 1.2 core schema (the spec
    loader's) would read as something else: PyYAML follows YAML 1.1, where ``0E0`` is
    a string and needs no quotes, but in 1.2 it is the float 0.0."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    plain = CoreResolver().resolve(yaml.ScalarNode, value, (True, False))
    style = None if plain == "tag:yaml.org,2002:str" else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def strings(ids: list[str]) -> st.SearchStrategy[str]:
    ref = st.sampled_from(ids).map(lambda r: "${" + r + ".id}")
    var = st.just("${var.owner}")
    env = st.sampled_from(["${env.name}", "${env.aws.region}"])
    piece = st.one_of(TEXT, ref, var, env)
    return st.lists(piece, min_size=1, max_size=4).map("".join)


def values(ids: list[str]) -> st.SearchStrategy[Any]:
    scalar = st.one_of(strings(ids), st.integers(-10**6, 10**6), st.booleans())
    return st.recursive(scalar, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)), max_leaves=8)


@st.composite
def spec_data(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    resources = {}
    for rid in ids:
        body: dict[str, Any] = {
            "type": draw(st.sampled_from(["aws:s3:Bucket", "gcp:storage:Bucket"])),
            "properties": draw(st.dictionaries(NAMES, values(ids), max_size=4)),
        }
        if draw(st.booleans()):
            body["stage"] = draw(NAMES)
        if draw(st.booleans()):
            body["protect"] = True
        resources[rid] = body
    return {
        "name": "gen",
        "variables": {"owner": {"type": "string", "default": draw(TEXT)}},
        "environments": {"dev": {"aws": {"region": "r1"},
                                 "variables": {"owner": draw(TEXT)}}},
        "resources": resources,
    }


def hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {hcl_value(v)}" for k, v in value.items()) + "}"


def to_hcl(data: dict[str, Any]) -> str:
    out = [f"name = {hcl_value(data['name'])}"]
    for name, var in data["variables"].items():
        out += [f'variable "{name}" {{', f"  type = {var['type']}",
                f"  default = {hcl_value(var['default'])}", "}"]
    for name, env in data["environments"].items():
        out.append(f'environment "{name}" {{')
        out += [f"  {k} = {hcl_value(v)}" for k, v in env.items()]
        out.append("}")
    for rid, body in data["resources"].items():
        out.append(f'resource "{rid}" {{')
        out += [f"  {k} = {hcl_value(v)}" for k, v in body.items() if k != "properties"]
        out.append("  properties {")
        out += [f"    {k} = {hcl_value(v)}" for k, v in body["properties"].items()]
        out += ["  }", "}"]
    return "\n".join(out) + "\n"


@example({"name": "gen", "variables": {"owner": {"type": "string", "default": "0E0"}},
          "environments": {"dev": {"aws": {"region": "r1"}, "variables": {"owner": "0E0"}}},
          "resources": {"a": {"type": "aws:s3:Bucket", "properties": {}}}})
@settings(max_examples=100, deadline=None)
@given(spec_data())
def test_yaml_and_hcl_give_the_same_model(data: dict[str, Any]) -> None:
    from_yaml = loads(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True),
                      "g.yaml")
    from_hcl = loads(to_hcl(data), "g.hcl", "hcl")
    assert without_locations(from_yaml) == without_locations(from_hcl)
    assert without_locations(resolve(from_yaml, "dev")) == \
        without_locations(resolve(from_hcl, "dev"))
