"""The passphrase is checked against Pulumi's stored salt state."""

from __future__ import annotations

import pytest

from provision.engine.passphrase import matches, verify
from provision.errors import PassphraseError

# Made by `pulumi stack init` (v3.260.0) with PULUMI_CONFIG_PASSPHRASE=right.
SALT = "v1:1o3Fi3JO92A=:v1:fGUXF5SzRLJQDn14:RkWCg9ZCK/kX5W764rnn6aF1Og0mxw=="


def test_the_right_passphrase_matches_and_a_wrong_one_does_not() -> None:
    assert matches("right", SALT)
    assert not matches("wrong", SALT)


def test_verify_names_the_stack() -> None:
    verify("right", {"demo.local.aws": SALT})
    with pytest.raises(PassphraseError, match="incorrect passphrase for stack demo.local.aws"):
        verify("wrong", {"demo.local.aws": SALT, "demo.local.gcp": SALT})


def test_a_malformed_salt_is_an_error_not_a_match() -> None:
    with pytest.raises(PassphraseError, match="malformed"):
        matches("right", "v2:abc")
