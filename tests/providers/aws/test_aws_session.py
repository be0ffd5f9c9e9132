"""botocore errors mapped to provision errors, and client construction from settings."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from botocore import exceptions as bx

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig
from providers.aws import session
from providers.aws.s3_bucket import S3Bucket


def client_error(code: str, message: str, op: str = "CreateBucket") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, op)


def test_api_error_becomes_cloud_error_with_code_and_message() -> None:
    error = session.map_error(client_error("BucketAlreadyExists", "The requested bucket name is "
                                           "not available."), resource="b", resource_type="t")
    assert isinstance(error, CloudError)
    assert error.message == "b (t): AWS error BucketAlreadyExists: The requested bucket name " \
                            "is not available."


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"])
def test_rejected_credentials_become_credentials_error_with_hint(code: str) -> None:
    error = session.map_error(client_error(code, "nope"))
    assert isinstance(error, CredentialsError)
    assert "AWS_PROFILE" in error.hint and "AWS_ACCESS_KEY_ID" in error.hint


def test_missing_credentials_become_credentials_error() -> None:
    error = session.map_error(bx.NoCredentialsError())
    assert isinstance(error, CredentialsError)
    assert "Unable to locate credentials" in error.message


def test_access_denied_is_a_cloud_error_about_permissions() -> None:
    error = session.map_error(client_error("AccessDenied", "Access Denied"))
    assert isinstance(error, CloudError) and "IAM" in error.hint


def test_unreachable_endpoint_hints_at_the_sandbox_when_sandboxed() -> None:
    exc = bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    sandboxed = session.map_error(exc, config=CloudConfig("aws", sandbox=True))
    real = session.map_error(exc, config=CloudConfig("aws"))
    assert isinstance(sandboxed, CloudError) and "sandbox up" in sandboxed.hint
    assert isinstance(real, CloudError) and "endpoint_url" in real.hint


def test_messages_never_carry_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
    error = session.map_error(client_error(
        "SignatureDoesNotMatch", "signature for wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY differs"))
    assert error is not None
    assert "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY" not in error.render()


def test_other_exceptions_are_not_mapped() -> None:
    assert session.map_error(ValueError("bug")) is None
    with pytest.raises(ValueError):
        with session.translate("aws:s3:Bucket"):
            raise ValueError("bug")


def test_provider_errors_pass_through_translate_unchanged() -> None:
    original = ProviderError("mine")
    with pytest.raises(ProviderError) as info:
        with session.translate("aws:s3:Bucket"):
            raise original
    assert info.value is original


def test_sandbox_client_uses_endpoint_path_style_and_dummy_keys() -> None:
    config = CloudConfig("aws", {"endpoint_url": "http://127.0.0.1:5000", "region": "eu-west-1"},
                         sandbox=True)
    s3 = session.client("s3", config)
    assert s3.meta.endpoint_url == "http://127.0.0.1:5000"
    assert s3.meta.region_name == "eu-west-1"
    assert s3.meta.config.s3["addressing_style"] == "path"
    assert s3._request_signer._credentials.access_key == session.SANDBOX_ACCESS_KEY


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_read_against_a_dead_endpoint_is_a_clear_cloud_error() -> None:
    config = CloudConfig("aws", {"endpoint_url": f"http://127.0.0.1:{_closed_port()}",
                                 "region": "us-east-1"}, sandbox=True)
    with pytest.raises(CloudError, match="cannot reach AWS") as info:
        S3Bucket().read("some-bucket", {}, config)
    assert "provision sandbox up" in info.value.hint


def test_real_cloud_without_credentials_is_a_credentials_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    # Never probe the instance metadata service from a test.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = CloudConfig("aws", {"region": "us-east-1",
                                 "endpoint_url": f"http://127.0.0.1:{_closed_port()}"})
    with pytest.raises(CredentialsError) as info:
        S3Bucket().read("some-bucket", {}, config)
    assert "AWS_PROFILE" in info.value.hint


def test_a_secret_cut_by_the_length_limit_leaves_no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    error = session.map_error(client_error("SignatureDoesNotMatch", "x" * 480 + " " + secret))
    assert error is not None
    assert secret[:10] not in error.render()


def test_one_client_per_settings_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.clients import CLIENTS

    CLIENTS.clear()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAONE")
    config = CloudConfig("aws", {"endpoint_url": "http://127.0.0.1:5000", "region": "eu-west-1"},
                         sandbox=True)
    first = session.client("s3", config)
    assert session.client("s3", CloudConfig("aws", dict(config.settings), sandbox=True)) is first
    assert session.client("sts", config) is not first
    assert session.client("s3", CloudConfig("aws", {**config.settings, "region": "us-west-2"},
                                            sandbox=True)) is not first
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATWO")  # another identity: another client
    assert session.client("s3", config) is not first


def test_clients_retry_with_botocore_standard_mode_and_bounded_attempts() -> None:
    s3 = session.client("s3", CloudConfig("aws", {"region": "us-east-1", "max_attempts": 5,
                                                  "retry_mode": "adaptive"}, sandbox=True))
    assert s3.meta.config.retries == {"total_max_attempts": 5, "mode": "adaptive"}
    default = session.client("s3", CloudConfig("aws", {"region": "us-east-1"}, sandbox=True))
    assert default.meta.config.retries["mode"] == "standard"
