"""The vocabulary of Pulumi's state as provision reads it: the resource type of
provision's dynamic resources, and Pulumi's secret envelopes (decoded from an export
with ``--show-secrets``, or masked so that digests never depend on secrets)."""

from __future__ import annotations

import json
from typing import Any

RESOURCE_TYPE = "pulumi-python:dynamic/provision:Resource"
STACK_TYPE = "pulumi:pulumi:Stack"     # the stack's own resource
SECRET_SIG = "4dabf18193072939515e22adb298388d"      # Pulumi's secret envelope key ...
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"  # ... and its value (sdk/go/common/resource/sig)


def is_secret(value: Any) -> bool:
    """Whether ``value`` is a Pulumi secret envelope."""
    return isinstance(value, dict) and SECRET_SIG in value


def reveal(value: Any) -> Any:
    """Decode Pulumi's secret envelopes (from an export with --show-secrets)."""
    if is_secret(value):
        plain = value.get("plaintext")
        return reveal(json.loads(plain)) if isinstance(plain, str) else None
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def mask(value: Any) -> Any:
    """Replace secrets by a marker, so digests never depend on (or leak) them."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value

