"""Retry settings read from a cloud's settings: bounded, validated, faster in the sandbox."""

from __future__ import annotations

import pytest

from provision.errors import ProviderError
from provision.provider import CloudConfig
from providers.retries import DEFAULT_ATTEMPTS, jittered, retry_settings


def test_defaults_are_bounded_and_the_sandbox_backs_off_faster() -> None:
    real = retry_settings(CloudConfig("aws"))
    local = retry_settings(CloudConfig("aws", sandbox=True))
    assert real.max_attempts == local.max_attempts == DEFAULT_ATTEMPTS
    assert real.mode == "standard"
    assert local.initial < real.initial and local.maximum < real.maximum


def test_settings_override_attempts_and_mode() -> None:
    settings = retry_settings(CloudConfig("aws", {"max_attempts": "3", "retry_mode": "adaptive"}))
    assert (settings.max_attempts, settings.mode) == (3, "adaptive")


@pytest.mark.parametrize("value", [0, 21, "many", None])
def test_attempts_out_of_range_are_rejected_with_a_hint(value: object) -> None:
    with pytest.raises(ProviderError, match="max_attempts must be a whole number") as info:
        retry_settings(CloudConfig("gcp", {"max_attempts": value}))
    assert "gcp settings" in info.value.hint


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ProviderError, match="retry_mode must be one of standard, adaptive"):
        retry_settings(CloudConfig("aws", {"retry_mode": "legacy"}))


def test_jitter_stays_within_half_and_whole_backoff() -> None:
    values = [jittered(2.0) for _ in range(200)]
    assert all(1.0 <= v <= 2.0 for v in values)
    assert len(set(values)) > 100
