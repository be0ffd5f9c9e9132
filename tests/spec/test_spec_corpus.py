"""The broken-spec corpus: every file gets exactly its expected errors, at the right lines.

Each ``corpus/*.yaml`` / ``*.hcl`` ends with ``# expect: <line>: <text>`` comments;
the errors found by load + validate + resolve (every environment) must be exactly
those: same count, each at its line with its text (message and hint) in the
rendered diagnostic. No other exception type may escape.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provision.errors import Diagnostic, SpecError
from provision.provider import AdapterRegistry
from provision.spec import check

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".hcl"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$", re.M)


def diagnostics_of(path: Path, registry: AdapterRegistry) -> list[Diagnostic]:
    try:
        check(path, registry)
    except SpecError as exc:
        return exc.diagnostics
    return []


def test_corpus_is_big_enough_and_has_both_forms() -> None:
    stems = {p.stem for p in FILES}
    assert len(FILES) >= 40
    for stem in stems:
        assert (CORPUS / f"{stem}.yaml").exists() and (CORPUS / f"{stem}.hcl").exists(), stem


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_broken_spec(path: Path, registry: AdapterRegistry) -> None:
    expected = [(int(line), text) for line, text in EXPECT.findall(path.read_text())]
    assert expected, f"{path.name} has no '# expect:' lines"
    got = diagnostics_of(path, registry)
    rendered = [d.render() for d in got]
    assert len(got) == len(expected), "\n".join(rendered)
    for line, text in expected:
        assert any(d.line == line and text in d.render() for d in got), (
            f"expected line {line}: {text}\ngot:\n" + "\n".join(rendered))
    for d in got:
        assert d.file == str(path) and d.column > 0, d.render()
