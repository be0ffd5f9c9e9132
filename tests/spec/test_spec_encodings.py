"""A byte-order mark and CRLF line endings read exactly like plain LF text, in both forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import Diagnostic, SpecError
from provision.provider import AdapterRegistry
from provision.spec import check

from test_spec_load import without_locations

GOOD = {
    "yaml": "name: enc\nenvironments:\n  local: {}\nresources:\n  logs:\n    type: aws:s3:Bucket\n"
            "    properties:\n      bucket: enc-logs\n      tags: {team: data}\n",
    "hcl": 'name = "enc"\nenvironment "local" {}\nresource "logs" {\n  type = "aws:s3:Bucket"\n'
           '  properties {\n    bucket = "enc-logs"\n    tags = { team = "data" }\n  }\n}\n',
}
BAD = {fmt: text.replace("aws:s3:Bucket", "aws:s3:Buckett").replace("bucket", "buckit")
       for fmt, text in GOOD.items()}
VARIANTS = {
    "bom": lambda t: "\ufeff" + t,
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "bom+crlf": lambda t: "\ufeff" + t.replace("\n", "\r\n"),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _diagnostics(path: Path, registry: AdapterRegistry) -> list[tuple[int, int, str]]:
    try:
        check(path, registry)
    except SpecError as exc:
        return [(d.line, d.column, d.message) for d in exc.diagnostics]
    return []


@pytest.mark.parametrize("fmt", ["yaml", "hcl"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_same_spec_and_same_diagnostics(tmp_path: Path, registry: AdapterRegistry, fmt: str,
                                        variant: str) -> None:
    change = VARIANTS[variant]
    plain = _write(tmp_path, f"plain.{fmt}", GOOD[fmt])
    other = _write(tmp_path, f"other.{fmt}", change(GOOD[fmt]))
    assert without_locations(check(other, registry)) == without_locations(check(plain, registry))
    assert check(other, registry).resources["logs"].property_locations["tags"].line == (
        check(plain, registry).resources["logs"].property_locations["tags"].line)
    bad_plain = _write(tmp_path, f"bad.{fmt}", BAD[fmt])
    bad_other = _write(tmp_path, f"bad-other.{fmt}", change(BAD[fmt]))
    expected = _diagnostics(bad_plain, registry)
    assert expected and _diagnostics(bad_other, registry) == expected
    assert Diagnostic  # the rendered form is covered by the corpus
