"""Plain boto3 clients straight at the moto emulator, built without ``providers/``,
so the AWS adapter tests check what an adapter did without trusting it."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from provision.provider import CloudConfig


@pytest.fixture
def aws(aws_config: CloudConfig) -> Callable[[str], Any]:
    """``aws("iam")``: a boto3 client for that service at the emulator."""
    import boto3

    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=aws_config.settings["endpoint_url"],
                            region_name=aws_config.settings["region"],
                            aws_access_key_id="direct", aws_secret_access_key="direct")

    return make
