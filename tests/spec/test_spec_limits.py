"""Hostile input is refused at a documented limit, naming it and the file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import SpecError
from provision.spec import limits, load, loads
from provision.spec.loader_yaml import parse_yaml

LAUGHS = "name: lol\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))


def refusal(text: str, fmt: str = "yaml", file: str = "s.yaml") -> str:
    with pytest.raises(SpecError) as info:
        loads(text, file, fmt)
    return info.value.render()


def test_alias_bomb_is_refused_at_the_alias_limit() -> None:
    text = refusal(LAUGHS)
    assert f"YAML aliases expand to more than {limits.MAX_ALIAS_VALUES:,} values" in text
    assert "s.yaml:7:1:" in text  # the first key whose aliases pass the limit
    assert "1 error in spec" in text


def test_aliases_below_the_limit_expand(monkeypatch: pytest.MonkeyPatch) -> None:
    small = "name: lol\nlol0: &l0 [lol, lol]\nlol1: &l1 [*l0, *l0]\nlol2: [*l1, *l1]\n"
    doc = parse_yaml(small, "s.yaml")
    assert not doc.diagnostics
    assert doc.data["lol2"] == [[["lol", "lol"], ["lol", "lol"]]] * 2
    monkeypatch.setattr("provision.spec.loader_yaml.MAX_ALIAS_VALUES", 8)
    assert "aliases expand to more than 8 values" in refusal(small)


def test_yaml_nesting_depth() -> None:
    deep = "name: d\nv: " + "[" * (limits.MAX_DEPTH + 1) + "]" * (limits.MAX_DEPTH + 1) + "\n"
    text = refusal(deep)
    assert f"maps and lists nest deeper than {limits.MAX_DEPTH} levels" in text and "s.yaml:2:" in text
    # Past libyaml's own bound the message still names the limit.
    assert "nesting depth" in refusal("name: d\nv: " + "[" * 5000 + "]" * 5000 + "\n")
    ok = "name: d\nv: " + "[" * (limits.MAX_DEPTH - 2) + "]" * (limits.MAX_DEPTH - 2) + "\n"
    assert not parse_yaml(ok, "s.yaml").diagnostics


@pytest.mark.parametrize("levels", [limits.MAX_DEPTH + 1, 3000])
def test_hcl_nesting_depth(levels: int) -> None:
    deep = 'name = "d"\nv = ' + "[" * levels + "]" * levels + "\n"
    text = refusal(deep, "hcl", "s.hcl")
    assert f"maps and lists nest deeper than {limits.MAX_DEPTH} levels" in text and "s.hcl:" in text


@pytest.mark.parametrize("fmt", ["yaml", "hcl"])
def test_resource_count(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provision.spec.build.MAX_RESOURCES", 2)
    if fmt == "yaml":
        text = "name: n\nresources:\n" + "".join(
            f"  r{i}: {{type: aws:s3:Bucket, properties: {{bucket: b{i}}}}}\n" for i in range(3))
    else:
        text = 'name = "n"\n' + "".join(
            f'resource "r{i}" {{\n  type = "aws:s3:Bucket"\n}}\n' for i in range(3))
    out = refusal(text, fmt, f"s.{fmt}")
    assert "declares 3 resources, more than the limit of 2" in out
    assert "1 error in spec" in out


def test_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provision.spec.source.MAX_FILE_BYTES", 1024 * 1024)
    big = tmp_path / "big.yaml"
    big.write_text("name: big\n#" + "x" * (1024 * 1024) + "\n")
    with pytest.raises(SpecError) as info:
        load(big)
    assert "cannot read the spec: larger than the 1 MiB input limit" in info.value.render()
