"""The digest of a spec as resolved for one environment (what a rollout's promotion gate
compares)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import EnvironmentNotFoundError
from provision.spec.digest import resolved_digests

SPEC = """\
name: demo
promotion: [dev, staging, prod]
environments:
  dev: {aws: {region: us-east-1}}
  staging: {aws: {region: us-east-1}}
  prod:
    aws: {region: us-east-1}
    overrides: {queue: {message_retention_seconds: 1209600}}
resources:
  queue:
    type: aws:sqs:Queue
    properties: {name: "q-${env.name}", visibility_timeout_seconds: 60}
  dlq:
    type: aws:sqs:Queue
    properties: {name: "dlq-${queue.name}"}
"""
ENVS = ["dev", "staging", "prod"]


def _digests(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return resolved_digests(path, ENVS)


def test_a_shared_change_moves_every_environment_an_override_only_its_own(
        tmp_path: Path) -> None:
    before = _digests(tmp_path, SPEC)
    assert all(d.startswith("sha256:") for d in before.values())
    assert len(set(before.values())) == 3         # env.name differs: each env its own
    shared = _digests(tmp_path, SPEC.replace("visibility_timeout_seconds: 60",
                                             "visibility_timeout_seconds: 90"))
    assert all(shared[e] != before[e] for e in ENVS)
    prod_only = _digests(tmp_path, SPEC.replace("1209600", "86400"))
    assert [e for e in ENVS if prod_only[e] != before[e]] == ["prod"]
    # A resource reference is part of the value: pointing it elsewhere moves the digest.
    ref = _digests(tmp_path, SPEC.replace("${queue.name}", "${queue.arn}"))
    assert all(ref[e] != before[e] for e in ENVS)


def test_layout_and_comments_do_not_count(tmp_path: Path) -> None:
    before = _digests(tmp_path, SPEC)
    moved = "# a comment\n\n" + SPEC.replace(
        "properties: {name: \"q-${env.name}\", visibility_timeout_seconds: 60}",
        "properties:\n      visibility_timeout_seconds: 60\n      name: \"q-${env.name}\"")
    assert _digests(tmp_path, moved) == before


def test_an_unknown_environment_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    with pytest.raises(EnvironmentNotFoundError):
        resolved_digests(path, ["qa"])
