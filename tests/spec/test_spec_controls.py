"""Control characters in names, ids, map keys and values are located validate errors."""

from __future__ import annotations

import pytest

from provision.errors import SpecError
from provision.spec import loads

YAML = r'''
name: "ctl\x01"
environments:
  "lo\acal": {}
  local:
    overrides:
      ok: {tags: {"o\0": v}}
resources:
  "b\0":
    type: aws:s3:Bucket
    properties: {bucket: x}
  ok:
    type: aws:s3:Bucket
    properties:
      bucket: "x\u0000y"
      tags: {"k\e": v, multi: "line\nbreak\ttab", bad: "a\x7f", c1: "\x85"}
'''
HCL = r'''
name = "ctl\u0001"
environment "lo\u0007cal" {}
environment "local" {
  overrides = { ok = { tags = { "o\u0000" = "v" } } }
}
resource "ok" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "x\u0000y"
    tags = { "k\u001b" = "v", multi = "line\nbreak\ttab", bad = "a\u007f", c1 = "\u0085" }
  }
}
'''


def _errors(text: str, fmt: str) -> list[tuple[int, str]]:
    with pytest.raises(SpecError) as info:
        loads(text, f"c.{fmt}", fmt)
    return [(d.line, d.message) for d in info.value.diagnostics]


def test_yaml() -> None:
    assert _errors(YAML, "yaml") == [
        (2, r"the spec name 'ctl\x01' contains the control character U+0001"),
        (4, r"the environment name 'lo\x07cal' contains the control character U+0007"),
        (7, r"the key of 'overrides.ok.tags' 'o\x00' contains the control character U+0000"),
        (9, r"the resource id 'b\x00' contains the control character U+0000"),
        (15, r"the value of 'properties.bucket' 'x\x00y' contains the control character U+0000"),
        (16, r"the key of 'properties.tags' 'k\x1b' contains the control character U+001B"),
        (16, r"the value of 'properties.tags.bad' 'a\x7f' contains the control character U+007F"),
        (16, r"the value of 'properties.tags.c1' '\x85' contains the control character U+0085"),
    ]


def test_hcl() -> None:
    assert _errors(HCL, "hcl") == [
        (2, r"the spec name 'ctl\x01' contains the control character U+0001"),
        (3, r"the environment name 'lo\x07cal' contains the control character U+0007"),
        (5, r"the key of 'overrides.ok.tags' 'o\x00' contains the control character U+0000"),
        (10, r"the value of 'properties.bucket' 'x\x00y' contains the control character U+0000"),
        (11, r"the key of 'properties.tags' 'k\x1b' contains the control character U+001B"),
        (11, r"the value of 'properties.tags.bad' 'a\x7f' contains the control character U+007F"),
        (11, r"the value of 'properties.tags.c1' '\x85' contains the control character U+0085"),
    ]


def test_variable_names_and_defaults() -> None:
    errors = _errors('name: v\nvariables:\n  "o\\x00": {}\n  team: {default: "a\\x00"}\n', "yaml")
    assert errors == [
        (3, r"the variable name 'o\x00' contains the control character U+0000"),
        (4, r"the value of 'variables.team.default' 'a\x00' contains the control character U+0000"),
    ]


def test_raw_tab_in_a_key_is_found() -> None:
    assert _errors('name: t\nresources:\n  ok:\n    type: aws:s3:Bucket\n'
                   '    properties: {bucket: x, tags: {"a\tb": v}}\n', "yaml") == [
        (5, r"the key of 'properties.tags' 'a\tb' contains the control character U+0009")]
