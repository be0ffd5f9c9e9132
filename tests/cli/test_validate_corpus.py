"""Every broken spec of the corpus through the real command line (`provision validate`
and `provision plan`): exit 1, its expected errors with their lines, no traceback."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

import providers
from provision.cli.main import run

CORPUS = Path(__file__).resolve().parents[1] / "spec" / "corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".hcl"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$", re.M)


def _corpus_registry() -> object:
    """The small test schemas the corpus is written against (tests/spec/conftest.py)."""
    spec = importlib.util.spec_from_file_location("spec_corpus_schemas",
                                                  CORPUS.parent / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_registry()


@pytest.fixture(autouse=True)
def corpus_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _corpus_registry()
    monkeypatch.setattr(providers, "registry", lambda: registry)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["provision", *args])
    with pytest.raises(SystemExit) as exit_info:
        run()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), captured.out + captured.err


def test_corpus_has_forty_cases_in_both_forms() -> None:
    stems = {p.stem for p in FILES}
    assert len(stems) >= 40
    assert all((CORPUS / f"{s}.yaml").exists() and (CORPUS / f"{s}.hcl").exists() for s in stems)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_validate_reports_expected_errors(path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _cli(monkeypatch, capsys, "validate", str(path))
    assert code == 1, text
    assert "Traceback" not in text
    for line, expected in EXPECT.findall(path.read_text()):
        assert f"{path}:{line}" in text, text
        assert expected.strip() in text, text


def test_plan_of_a_broken_spec_exits_1_before_touching_anything(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    path = CORPUS / "unknown_resource_type.yaml"
    code, text = _cli(monkeypatch, capsys, "plan", str(path), "--env", "local")
    assert code == 1 and "Traceback" not in text
    assert not (tmp_path / "home" / "state").exists()
