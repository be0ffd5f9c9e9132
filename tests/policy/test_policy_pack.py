"""pack.yaml is validated like a spec: every key known and typed, file:line, did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import PolicyError
from provision.policy.pack import read_manifest


@pytest.mark.parametrize("text, message", [
    ("name: p\nversion: 1\nenforcment: mandatory\n",
     "pack.yaml:3:1: unknown key 'enforcment' (did you mean 'enforcement' or "),
    ("name: p\nversion: 1\nenforcement: strict\n",
     "pack.yaml:3:1: invalid enforcement 'strict' (use advisory, mandatory or disabled)"),
    ("name: [p]\nversion: 1\n", "pack.yaml:1:1: 'name' must be text, got list ['p']"),
    ("name: p\nversion: 1\nparameters: [a]\n", "pack.yaml:3:1: 'parameters' must be a map"),
    ("name: p\nversion: 1\nenvironments:\n  prod: {enforcment: mandatory}\n",
     "pack.yaml:4:10: environment 'prod': unknown key 'enforcment' (did you mean 'enforcement'?)"),
    ("name: p\n", "'version' is required"),
    ("name: p\nversion: 1\nname: q\n", "pack.yaml:3:1: duplicate key 'name'"),
])
def test_broken_manifest_is_a_located_policy_error(tmp_path: Path, text: str,
                                                   message: str) -> None:
    (tmp_path / "pack.yaml").write_text(text)
    with pytest.raises(PolicyError) as info:
        read_manifest(tmp_path)
    assert message in info.value.message


def test_manifest_that_is_a_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").mkdir()
    with pytest.raises(PolicyError) as info:
        read_manifest(tmp_path)
    assert "pack.yaml: is a directory" in info.value.message


def test_values_follow_yaml_1_2(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "name: p\nversion: 1\nparameters: {country: NO, since: 2027-02-30}\n")
    assert read_manifest(tmp_path)["parameters"] == {"country": "NO", "since": "2027-02-30"}
