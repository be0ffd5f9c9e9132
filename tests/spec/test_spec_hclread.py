"""The fast HCL reader (tools/hclread, Go) builds exactly python-hcl2's document, or declines."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provision.engine.toolchain import cache_root
from provision.spec import hcl_cache, hclread, loader_hcl
from provision.spec.document import Document

ROOT = Path(__file__).resolve().parents[2]
REPO_HCL = sorted(p for p in ROOT.glob("**/*.hcl")
                  if not {".venv", ".git", "node_modules"} & set(p.relative_to(ROOT).parts))
# Small texts at the edges of hclread's subset: each is read alike or declined.
SNIPPETS = [
    'a = "100%"\nb = "$"\nc = "a$b"\nd = "{}"\ne = "}"\nf = "\t"',
    'a = "r-${var.owner}-${env.name}"\nb = "${x}"\nc = "${my-res.arn}${z}"',
    'a = "x\\ny"', 'a = "logs-$${var.owner}"', 'a = "${ var.x }"', 'a = "%{if true}x%{endif}"',
    'a = 1\nb = 1.5\nd = -1\ne = 0.10\ng = 007\nh = 1.0\ni = -007.50\nj = 12345678901234567890',
    'a = 1e3', 'a = [-1, - 2]', 'a = true\nb = false\nc = null',
    'a = var.owner\nb = env.aws.region\nc = rg\nd = [rg, logs]', 'a = a.b[0]', 'a = var.*.id',
    'a = { "k" = 1, k2: 2, "x-y" = 3, "é" = 4 }', 'a = { (x) = 3 }', 'a = {\n  k = 1,\n  j = 2,\n}',
    'a = [1, "x", [true], {}]\nb = []\nc = {}\nd = [1,]', 'a = {b = {c = [ {d = 1} ]}}',
    'a = upper(x)', 'a = x + 1', 'a = (x)', 'a = <<EOT\nhi\nEOT\n', 'a = true ? 1 : 2',
    'a = {k = 1, k = 2}', 'a = 1\na = 2', 'x { a = 1 }\nx = 2', 'x = 2\nx { a = 1 }',
    'x "a" { y = 1 }\nx "a" { z = 2 }', 'x "a" { y = 1 }\nx "b" { z = 2 }', 'block "é" {}',
    'r = {}\nr "x" {}', 'resources = 1\nresource "x" {}', 'p { a = 1 }\np { b = 2 }',
    'resource "x" "y" {}', 'resource {}', 'x "a" "b" {}', 'resource x {}', '"q" = 1',
    '', '# only a comment\n', 'a = [\n  # c\n  1,\n  2\n]', 'a = "x" // c\nb = 1 # c\n/* c */ c = 2',
    'a = "é${x}é"\nb = ["é", "日本"]', '\ufeffa = 1\r\nb = "x"\r\n', 'a\t=\t"x"',
    'p {\n  q {\n    r = [[[1]]]\n  }\n}', "a = " + "[" * 70 + "]" * 70, 'resource "x" {', 'a = "${"',
]


def _bench() -> Any:
    found = importlib.util.spec_from_file_location("bench_planner_for_hclread",
                                                   ROOT / "bench" / "planner.py")
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def binary() -> Path:
    found = hclread.find_hclread()
    assert found is not None, "hclread is not built: run `make setup` (.ci/build-hclread.sh)"
    return found


def _same_as_python_hcl2(text: str, name: str, binary: Path) -> Document | None:
    """Assert hclread's document equals python-hcl2's, or that it declined; return it."""
    reference = loader_hcl.parse_hcl(text, name)
    fast = hclread.parse(text, name, binary)
    if fast is not None:
        assert not reference.diagnostics, (name, reference.diagnostics)
        assert (fast.file, fast.form, fast.data, fast.locations, fast.duplicates, fast.controls) \
            == (reference.file, reference.form, reference.data, reference.locations,
                reference.duplicates, reference.controls), name
        assert list(fast.data) == list(reference.data)      # keys in the order written
    return fast


@pytest.mark.parametrize("path", REPO_HCL, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_hcl_file_in_the_repository_reads_alike(path: Path, binary: Path) -> None:
    _same_as_python_hcl2(path.read_text(encoding="utf-8"), str(path), binary)


def test_the_examples_and_a_generated_spec_are_read_by_hclread(binary: Path,
                                                               tmp_path: Path) -> None:
    bench = _bench()
    spec = tmp_path / "spec-500.hcl"
    bench.write_spec(bench.generate(500), spec)
    texts = [(p, p.read_text(encoding="utf-8")) for p in sorted(ROOT.glob("stacks/**/*.hcl"))]
    texts.append((spec, spec.read_text(encoding="utf-8")))
    for path, text in texts:
        assert _same_as_python_hcl2(text, str(path), binary) is not None, path


def test_a_large_file_read_in_parts_reads_alike(binary: Path) -> None:
    """hclread parses files over 64 KB in parts cut at top-level line breaks: comments,
    strings holding brackets or comment marks, and blocks across the cuts read alike."""
    part = ('# a comment with { and "\n'
            'resource "r@" {  // { ( [\n'
            '  type = "aws:s3:Bucket"  /* } ] ) */\n'
            '  properties {\n'
            '    bucket = "b-@-#-//-{-}-${var.owner}"\n'
            '    tags   = {\n      a = "x"\n      b = [1, "]", { c = "}" }]\n    }\n'
            '  }\n}\n/* a comment\nover lines { */\n')
    text = 'name = "big"\n' + "".join(part.replace("@", str(i)) for i in range(300)) \
        + 'backend = "x"\n'
    assert len(text) > 64 * 1024
    assert _same_as_python_hcl2(text, "big.hcl", binary) is not None
    # a name defined in two parts is redefined, as in one: python-hcl2 reads it
    assert hclread.parse(text + 'name = "again"\n', "big.hcl", binary) is None


@pytest.mark.parametrize("text", SNIPPETS)
def test_edge_snippets_read_alike_or_fall_back(text: str, binary: Path) -> None:
    _same_as_python_hcl2(text, "s.hcl", binary)


def test_the_plain_subset_is_not_declined(binary: Path) -> None:
    declined = [t for t in SNIPPETS[:2] + SNIPPETS[6:7] + SNIPPETS[9:11] + SNIPPETS[16:17]
                if hclread.parse(t, "s.hcl", binary) is None]
    assert not declined


def test_syntax_errors_are_reported_by_python_hcl2(binary: Path, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv(hclread.BIN_ENV, str(binary))
    doc = hcl_cache.parse('name = "t"\nresource "x" {\n  type = \n}\n', "bad.hcl", tmp_path)
    reference = loader_hcl.parse_hcl('name = "t"\nresource "x" {\n  type = \n}\n', "bad.hcl")
    assert doc.diagnostics == reference.diagnostics and doc.diagnostics
    d = doc.diagnostics[0]
    assert (d.file, d.line > 0, d.column > 0, bool(d.hint)) == ("bad.hcl", True, True, True)


def test_the_binary_is_found_by_the_key_the_build_script_uses(
        binary: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    built = subprocess.run(["bash", str(ROOT / ".ci" / "build-hclread.sh")], capture_output=True,
                           text=True, check=True).stdout.strip()
    script_key = Path(built).parent.name
    assert hclread.source_key() == script_key
    assert Path(built) == cache_root() / "hclread" / script_key / "hclread"
    monkeypatch.delenv(hclread.BIN_ENV, raising=False)
    monkeypatch.setenv("PROVISION_CACHE", str(tmp_path))
    assert hclread.find_hclread() is None
    (tmp_path / "hclread" / script_key).mkdir(parents=True)
    (tmp_path / "hclread" / script_key / "hclread").symlink_to(binary)
    assert hclread.find_hclread() == tmp_path / "hclread" / script_key / "hclread"
    monkeypatch.setenv(hclread.ENV_SWITCH, "0")
    assert hclread.find_hclread() is None
    assert hcl_cache.parse("a = 1\n", "a.hcl", None).data == {"a": 1}   # python-hcl2 then
