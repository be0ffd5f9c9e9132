"""A secret referenced across stages never appears in plain text through the commands
(issue 14): not in `plan` (human, JSON, saved), not in `apply --json`'s events, not in
anything under the local home (state, run history, journal, work files).

The commands run in-process on the real Pulumi engine over the fake cloud of
``providers.testing``, whose schema marks ``secret_value`` secret (no real adapter
declares a secret property yet).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import providers
from provision.cli import commands
from providers.testing import FILE_ENV, fake_registry

pytestmark = pytest.mark.engine

SECRET = "s3cr3t-cli-never-printed-4417"
SPEC = f"""
name: sec
environments:
  dev: {{}}
resources:
  a:
    type: test:fake:Thing
    stage: first
    properties:
      name: alpha
      secret_value: {SECRET}
  b:
    type: test:fake:Other
    stage: second
    properties:
      name: beta
      tags: {{copy: "${{a.secret_value}}"}}
"""


def _everything_under(path: Path, skip: set[str]) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(path.rglob("*"))
                      if p.is_file() and p.name not in skip)


def test_a_secret_referenced_across_stages_is_never_printed_or_stored_in_clear(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PROVISION_HOME", str(home))
    monkeypatch.setenv("PROVISION_PASSPHRASE", "cli-secret-test-passphrase")
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "cloud.json"))
    monkeypatch.setattr(providers, "registry", fake_registry)
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    common = dict(targets=[], excludes=[], parallel=2, policies=None, no_policy=True)

    assert commands.plan(str(spec), "dev", fmt="human", detailed_exitcode=False,
                         out=tmp_path / "plan.json", **common) == 0
    assert commands.plan(str(spec), "dev", fmt="json", detailed_exitcode=False, out=None,
                         **common) == 0
    assert commands.apply(str(spec), "dev", yes=True, as_json=True, **common) == 0
    assert commands.plan(str(spec), "dev", fmt="json", detailed_exitcode=True, out=None,
                         **common) == 0                                  # applied, and clean
    printed = capsys.readouterr()

    assert SECRET in (tmp_path / "cloud.json").read_text()               # the cloud got it
    assert '"run_finished"' in printed.out                               # events were printed
    assert SECRET not in printed.out and SECRET not in printed.err
    assert SECRET.encode() not in (tmp_path / "plan.json").read_bytes()
    assert (home / "history.db").is_file() and any((home / "state").rglob("*.json"))
    stored = _everything_under(home, skip=set())
    assert b"sec.dev.second" in stored                                   # the grep sees the state
    assert SECRET.encode() not in stored                                 # state, history, journal
