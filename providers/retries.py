"""Retry settings shared by the three session modules (no cloud SDK imported here).

Transient faults (throttling, 5xx, connection resets and timeouts) are retried
by each SDK's own machinery, configured from one :class:`RetrySettings`:

- AWS: botocore's ``standard`` retry mode (or ``adaptive``, which also rate-limits
  the client after throttling), ``max_attempts`` in total. Backoff is botocore's
  full-jitter exponential (random(0, 1) x 2^attempt s, capped at 20 s).
- Azure: azure-core's ``RetryPolicy`` (it honours ``Retry-After``) with jitter
  added (:func:`jittered`), ``max_attempts - 1`` retries.
- GCP: ``google.api_core.retry.Retry`` (jittered exponential backoff) bounded by
  ``timeout`` seconds, with each API's transient-error predicate.

Errors that are not transient (validation, 4xx conflicts, missing permissions,
rejected credentials) are never retried by any of these and fail at once.

Settings (per cloud, ``CloudConfig.settings``): ``max_attempts`` (default
:data:`DEFAULT_ATTEMPTS`), ``retry_mode`` (AWS: ``standard`` or ``adaptive``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from provision.errors import ProviderError
from provision.provider import CloudConfig

# 8 attempts: at a 30 % fault rate a call still fails 0.3^8 = 7e-5 of the time.
DEFAULT_ATTEMPTS = 8
MAX_ATTEMPTS = 20
RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class RetrySettings:
    """How hard one cloud's clients retry transient faults.

    ``max_attempts`` counts the first try; ``initial``/``maximum`` are the first
    and the largest backoff in seconds; ``timeout`` bounds a call with all its
    retries (seconds; used where the SDK bounds retries by time, as GCP does).
    """

    max_attempts: int = DEFAULT_ATTEMPTS
    mode: str = "standard"
    initial: float = 1.0
    maximum: float = 20.0
    timeout: float = 120.0


def retry_settings(config: CloudConfig) -> RetrySettings:
    """The retry settings of ``config``; the sandbox backs off faster (its faults are local).

    Raises :class:`ProviderError` for a ``max_attempts`` outside 1..20 or an
    unknown ``retry_mode``.
    """
    raw = config.get("max_attempts", DEFAULT_ATTEMPTS)
    try:
        attempts = int(raw)
    except (TypeError, ValueError):
        attempts = 0
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise ProviderError(f"max_attempts must be a whole number from 1 to {MAX_ATTEMPTS}, "
                            f"not {raw!r}",
                            hint=f"fix max_attempts in the environment's {config.cloud} settings")
    mode = str(config.get("retry_mode") or "standard")
    if mode not in RETRY_MODES:
        raise ProviderError(f"retry_mode must be one of {', '.join(RETRY_MODES)}, not {mode!r}",
                            hint=f"fix retry_mode in the environment's {config.cloud} settings")
    if config.sandbox:
        return RetrySettings(max_attempts=attempts, mode=mode, initial=0.05, maximum=1.0,
                             timeout=60.0)
    return RetrySettings(max_attempts=attempts, mode=mode)


def jittered(backoff: float) -> float:
    """``backoff`` spread over [backoff/2, backoff] so clients retrying together part ways."""
    return backoff * (0.5 + random.random() / 2)
