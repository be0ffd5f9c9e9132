"""Parsed HCL cached by content: the cached Document equals a fresh parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision import spec as specs
from provision.spec import hcl_cache, hclread, loader_hcl

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.hcl"))
SPEC = '''name = "cached"
environment "dev" {}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${var.owner}"
    tags   = { team = "core", n = 3, ratio = 0.5, on = true }
  }
}
'''


def _same(a: loader_hcl.Document, b: loader_hcl.Document) -> None:
    assert (a.file, a.form, a.data, a.locations, a.duplicates, a.diagnostics) == \
           (b.file, b.form, b.data, b.locations, b.duplicates, b.diagnostics)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_cached_parse_equals_a_fresh_one(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fresh = loader_hcl.parse_hcl(text, str(path))
    first = hcl_cache.parse(text, str(path), tmp_path)
    second = hcl_cache.parse(text, str(path), tmp_path)
    _same(first, fresh)
    _same(second, fresh)
    assert len(list(tmp_path.glob("*.json"))) == (0 if fresh.diagnostics else 1)


def test_a_hit_does_not_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = hcl_cache.parse(SPEC, "a.hcl", tmp_path)

    def no_parse(text: str, file: str) -> loader_hcl.Document:
        raise AssertionError("parsed again")

    monkeypatch.setattr(loader_hcl, "parse_hcl", no_parse)
    monkeypatch.setattr(hclread, "parse", no_parse)     # the fast reader, when built
    again = hcl_cache.parse(SPEC, "b.hcl", tmp_path)
    assert again.file == "b.hcl" and again.data == first.data
    assert again.locations == first.locations
    with pytest.raises(AssertionError, match="parsed again"):   # an edited text misses
        hcl_cache.parse(SPEC.replace("core", "edge"), "a.hcl", tmp_path)


def test_syntax_errors_are_not_cached(tmp_path: Path) -> None:
    doc = hcl_cache.parse('resource "x" {', "bad.hcl", tmp_path)
    assert doc.diagnostics and doc.diagnostics[0].file == "bad.hcl"
    assert not list(tmp_path.glob("*.json"))


def test_a_corrupt_entry_is_parsed_again(tmp_path: Path) -> None:
    hcl_cache.parse(SPEC, "a.hcl", tmp_path)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text("{not json")
    _same(hcl_cache.parse(SPEC, "a.hcl", tmp_path), loader_hcl.parse_hcl(SPEC, "a.hcl"))


def test_entries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl_cache, "KEEP", 3)
    for n in range(5):
        hcl_cache.parse(SPEC.replace("core", f"team{n}"), "a.hcl", tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_load_uses_the_cache_and_can_be_switched_off(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec_file = tmp_path / "s.hcl"
    spec_file.write_text(SPEC)
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path / "cache"))
    assert specs.load(spec_file).resources["logs"].properties["tags"]["n"] == 3
    assert len(list((tmp_path / "cache" / "hcl").glob("*.json"))) == 1
    monkeypatch.setenv(hcl_cache.ENV_SWITCH, "0")
    assert hcl_cache.default_dir() is None


def test_a_changed_fast_reader_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hcl_cache.parse(SPEC, "a.hcl", tmp_path)
    monkeypatch.setattr(hclread, "source_key", lambda: "another-build")
    hcl_cache.parse(SPEC, "a.hcl", tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
