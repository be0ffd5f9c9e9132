"""azure-core errors mapped to provision errors; sandbox auth and blob URLs."""

from __future__ import annotations

import socket

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError,
)
from azure.identity import CredentialUnavailableError

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig
from providers.azure import session
from providers.azure.resource_group import ResourceGroup


class FakeError:
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def http_error(code: str, message: str, status: int = 400) -> HttpResponseError:
    exc = HttpResponseError(message=f"({code}) {message}\nCode: {code}\nMessage: {message}")
    exc.error = FakeError(code, message)  # type: ignore[assignment]
    exc.status_code = status
    return exc


def test_arm_error_becomes_cloud_error_with_code_and_message() -> None:
    error = session.map_error(http_error("InvalidResourceGroupLocation", "Invalid location."),
                              resource="rg", resource_type="azure:resources:ResourceGroup")
    assert isinstance(error, CloudError)
    assert error.message.endswith("Azure error InvalidResourceGroupLocation: Invalid location.")


def test_storage_error_code_attribute_is_used() -> None:
    exc = HttpResponseError(message="The specified container already exists.\nRequestId:1\n"
                                    "Time:now\nErrorCode:ContainerAlreadyExists")
    exc.error_code = "ContainerAlreadyExists"  # type: ignore[attr-defined]
    error = session.map_error(exc)
    assert isinstance(error, CloudError)
    assert error.message == ("Azure error ContainerAlreadyExists: "
                             "The specified container already exists.")


def test_authentication_failure_becomes_credentials_error_with_hint() -> None:
    error = session.map_error(ClientAuthenticationError(message="Server failed to authenticate"))
    assert isinstance(error, CredentialsError)
    assert "az login" in error.hint and "AZURE_CLIENT_SECRET" in error.hint


@pytest.mark.parametrize("code", ["InvalidAuthenticationToken", "AuthenticationFailed"])
def test_rejected_token_or_key_codes_are_credentials_errors(code: str) -> None:
    error = session.map_error(http_error(code, "rejected", 401))
    assert isinstance(error, CredentialsError)
    assert error.message == f"Azure credentials not usable: Azure error {code}: rejected"


def test_unavailable_default_credential_is_a_credentials_error() -> None:
    error = session.map_error(CredentialUnavailableError(message="DefaultAzureCredential failed"))
    assert isinstance(error, CredentialsError)


def test_permission_error_hints_at_rbac() -> None:
    error = session.map_error(http_error("AuthorizationFailed", "no access", 403))
    assert isinstance(error, CloudError) and "RBAC" in error.hint


def test_not_found_detection() -> None:
    assert session.is_not_found(ResourceNotFoundError(message="gone"))
    assert session.is_not_found(http_error("ResourceGroupNotFound", "gone", 404))
    assert not session.is_not_found(http_error("Conflict", "busy", 409))


def test_connection_failure_hints_at_the_sandbox() -> None:
    error = session.map_error(ServiceRequestError("connection refused"),
                              config=CloudConfig("azure", sandbox=True))
    assert isinstance(error, CloudError) and "sandbox up" in error.hint


def test_the_azurite_key_never_appears_in_messages() -> None:
    exc = http_error("AuthenticationFailed", f"signed with key {session.AZURITE_KEY}", 403)
    error = session.map_error(exc)
    assert error is not None and session.AZURITE_KEY not in error.render()


def test_other_exceptions_are_not_mapped() -> None:
    assert session.map_error(KeyError("bug")) is None


@pytest.mark.parametrize("endpoint, sandbox, expected", [
    (None, False, "https://acct.blob.core.windows.net"),
    ("https://{account}.blob.core.usgovcloudapi.net/", False,
     "https://acct.blob.core.usgovcloudapi.net"),
    ("http://127.0.0.1:10000/devstoreaccount1", True, "http://127.0.0.1:10000/devstoreaccount1"),
    ("http://127.0.0.1:10000", True, "http://127.0.0.1:10000/devstoreaccount1"),
    ("https://blob.example.test", False, "https://blob.example.test/acct"),
])
def test_blob_account_url(endpoint: str | None, sandbox: bool, expected: str) -> None:
    config = CloudConfig("azure", {"blob_endpoint": endpoint} if endpoint else {}, sandbox=sandbox)
    assert session.blob_account_url("acct", config) == expected


def test_missing_subscription_is_a_clear_error() -> None:
    with pytest.raises(ProviderError, match="no Azure subscription") as info:
        session.resource_client(CloudConfig("azure", {}, sandbox=True))
    assert "subscription_id" in info.value.hint


def test_parse_id() -> None:
    parts = session.parse_id("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/"
                             "storageAccounts/acct")
    assert parts["subscriptions"] == "s"
    assert parts["resourcegroups"] == "rg"
    assert parts["storageaccounts"] == "acct"


def test_sandbox_client_sends_placeholder_token_over_http() -> None:
    """Against a dead http endpoint the request is attempted (no https refusal)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = CloudConfig("azure", {"arm_endpoint": f"http://127.0.0.1:{port}",
                                   "subscription_id": "00000000-0000-0000-0000-000000000000"},
                         sandbox=True)
    with pytest.raises(CloudError, match="cannot reach Azure") as info:
        ResourceGroup().read("rg", {"name": "rg"}, config)
    # A bearer-token policy would have refused the http URL before connecting.
    assert "non-TLS" not in info.value.message
    assert "Connection refused" in info.value.message or "connect" in info.value.message.lower()


def _arm(subscription: str = "00000000-0000-0000-0000-000000000000") -> CloudConfig:
    return CloudConfig("azure", {"arm_endpoint": "http://127.0.0.1:1",
                                 "subscription_id": subscription}, sandbox=True)


def test_one_arm_client_per_subscription_endpoint_and_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = session.resource_client(_arm())
    assert session.resource_client(_arm()) is first
    assert session.storage_client(_arm()) is not first
    assert session.resource_client(_arm("11111111-1111-1111-1111-111111111111")) is not first
    monkeypatch.setenv("AZURE_CLIENT_ID", "another-identity")
    assert session.resource_client(_arm()) is not first


def test_one_blob_client_per_account_url() -> None:
    config = CloudConfig("azure", {"blob_endpoint": "http://127.0.0.1:1/devstoreaccount1"},
                         sandbox=True)
    first = session.blob_service("acct", config)
    assert session.blob_service("acct", config) is first
    other = CloudConfig("azure", {"blob_endpoint": "http://127.0.0.1:2/devstoreaccount1"},
                        sandbox=True)
    assert session.blob_service("acct", other) is not first


def test_arm_retries_are_azure_core_retry_policy_bounded_and_jittered() -> None:
    from azure.core.pipeline.policies import RetryPolicy

    policy = session.retry_policy(CloudConfig("azure", {"max_attempts": 4}))
    assert isinstance(policy, RetryPolicy)
    assert policy.total_retries == 3 and policy.status_retries == 3
    settings = {"history": [object()] * 3, "backoff": 1.0, "max_backoff": 20.0}
    delays = {policy.get_backoff_time(settings) for _ in range(50)}
    # azure-core's own value would be 1 * 2^2 = 4 s every time; jitter spreads it.
    assert all(2.0 <= d <= 4.0 for d in delays) and len(delays) > 1


def test_one_default_credential_per_identity_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    first = session.default_credential()
    assert session.default_credential() is first             # reused: it caches tokens
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
    other = session.default_credential()
    assert other is not first and session.default_credential() is other
