"""Building Azure SDK clients from a :class:`CloudConfig`, and mapping azure-core errors.

Settings (``CloudConfig.settings`` for cloud ``azure``):

``subscription_id``  the subscription ARM calls act in (required for ARM)
``location``         default location for new resources
``arm_endpoint``     optional; absent means real ARM (https://management.azure.com)
``blob_endpoint``    optional; the blob service URL. Absent means
                     ``https://{account}.blob.core.windows.net``; ``{account}`` in it
                     is replaced by the account name; otherwise it is path-style
                     (``{blob_endpoint}/{account}``), and in the sandbox it is
                     Azurite's single development account's URL

Credentials: ``DefaultAzureCredential`` (environment, workload/managed identity,
Azure CLI, ...) for real clouds. In the sandbox, ARM calls carry a fixed
placeholder token through a plain header policy (bearer-token policies refuse
http URLs), and blob calls use Azurite's published well-known development
account (``devstoreaccount1``).
"""

from __future__ import annotations

import importlib
from typing import Any, ContextManager

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig

from providers.base import one_line, redact, translate_errors
from providers.clients import CLIENTS, credential_fingerprint
from providers.retries import jittered, retry_settings

CREDENTIALS_HINT = ("run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET "
                    "(or use a managed/workload identity)")

# Azurite's well-known development account, published in its documentation.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr"
               "/KBHBeksoGMGw==")

# Error codes that mean the caller's credentials (token or key) were not accepted.
CREDENTIAL_CODES = frozenset({"AuthenticationFailed", "InvalidAuthenticationToken",
                              "InvalidAuthenticationTokenTenant", "ExpiredAuthenticationToken",
                              "NoAuthenticationInformation", "InvalidAuthenticationInfo"})

SANDBOX_CREDENTIALS_HINT = ("the sandbox signs blob requests with Azurite's development account; "
                            "check that blob_endpoint is the sandbox's Azurite")

NOT_FOUND_CODES = frozenset({"ResourceNotFound", "ResourceGroupNotFound", "NotFound",
                             "StorageAccountNotFound", "ContainerNotFound",
                             "ContainerBeingDeleted"})


class _SandboxCredential:
    """A TokenCredential stand-in; the sandbox auth policy never asks it for a token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("sandbox", 4102444800)


def _sandbox_auth_policy() -> Any:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class SandboxAuthPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
        """Sends a placeholder Authorization header over http (emulators only)."""

        def on_request(self, request: Any) -> None:
            request.http_request.headers["Authorization"] = "Bearer sandbox"

    return SandboxAuthPolicy()


def default_credential() -> Any:
    """One ``DefaultAzureCredential`` per process and credential settings (it caches
    tokens, so it is reused), kept in :data:`providers.clients.CLIENTS` beside the
    clients: a change to :data:`CREDENTIAL_ENV` gives a new one."""
    def build() -> Any:
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential()

    return CLIENTS.get(("azure", "credential", credential_fingerprint(*CREDENTIAL_ENV)), build)


def subscription_id(config: CloudConfig) -> str:
    value = config.get("subscription_id")
    if not value:
        raise ProviderError("no Azure subscription configured",
                            hint="set subscription_id in the environment's azure settings")
    return str(value)


# Environment variables DefaultAzureCredential reads: a change to any of them
# gives new clients (see providers/clients.py).
CREDENTIAL_ENV = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                  "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_FEDERATED_TOKEN_FILE",
                  "AZURE_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "MSI_ENDPOINT")


def retry_policy(config: CloudConfig) -> Any:
    """An azure-core ``RetryPolicy`` for ``config`` with jittered exponential backoff.

    azure-core retries 408, 429, 500, 502, 503 and 504 answers (honouring
    ``Retry-After``) and connection errors; its own backoff has no jitter, so
    every delay is spread over [d/2, d] (:func:`providers.retries.jittered`).
    ``max_attempts - 1`` retries in total.
    """
    from azure.core.pipeline.policies import RetryPolicy

    retry = retry_settings(config)

    class JitteredRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            return jittered(float(super().get_backoff_time(settings)))

    retries = retry.max_attempts - 1
    return JitteredRetryPolicy(retry_total=retries, retry_connect=retries, retry_read=retries,
                               retry_status=retries, retry_backoff_factor=retry.initial,
                               retry_backoff_max=retry.maximum)


def _client_key(kind: str, config: CloudConfig, *parts: Any) -> tuple[Any, ...]:
    retry = retry_settings(config)
    return ("azure", kind, *parts, config.sandbox, retry.max_attempts,
            credential_fingerprint(*CREDENTIAL_ENV))


def _arm_kwargs(config: CloudConfig) -> tuple[Any, dict[str, Any]]:
    kwargs: dict[str, Any] = {"retry_policy": retry_policy(config)}
    endpoint = config.get("arm_endpoint")
    if endpoint:
        kwargs["base_url"] = str(endpoint).rstrip("/")
    if config.sandbox:
        kwargs["authentication_policy"] = _sandbox_auth_policy()
        return _SandboxCredential(), kwargs
    return default_credential(), kwargs


def _mgmt_client(kind: str, config: CloudConfig, module: str, name: str) -> Any:
    """One ARM management client (class ``name`` of SDK ``module``) per process and
    settings; the SDK is imported on first use (the management SDKs are large)."""
    sub = subscription_id(config)

    def build() -> Any:
        credential, kwargs = _arm_kwargs(config)
        return getattr(importlib.import_module(module), name)(credential, sub, **kwargs)

    return CLIENTS.get(_client_key(kind, config, sub, config.get("arm_endpoint")), build)


def resource_client(config: CloudConfig) -> Any:
    """An ``azure.mgmt.resource.ResourceManagementClient``, one per process and settings
    (azure-core clients are thread-safe; see :mod:`providers.clients`)."""
    return _mgmt_client("resource", config, "azure.mgmt.resource.resources",
                        "ResourceManagementClient")


def storage_client(config: CloudConfig) -> Any:
    """An ``azure.mgmt.storage.StorageManagementClient``, one per process and settings."""
    return _mgmt_client("storage", config, "azure.mgmt.storage", "StorageManagementClient")


def network_client(config: CloudConfig) -> Any:
    """An ``azure.mgmt.network.NetworkManagementClient``, one per process and settings."""
    return _mgmt_client("network", config, "azure.mgmt.network", "NetworkManagementClient")


def blob_account_url(account: str, config: CloudConfig) -> str:
    """The blob service URL of ``account`` (see the module doc for ``blob_endpoint``).

    In the sandbox Azurite serves one account, so every ``account_name`` maps to
    its development account: containers of different accounts share one namespace.
    """
    endpoint = str(config.get("blob_endpoint") or "").rstrip("/")
    if not endpoint:
        return f"https://{account}.blob.core.windows.net"
    if "{account}" in endpoint:
        return endpoint.replace("{account}", account)
    if config.sandbox:
        suffix = "/" + AZURITE_ACCOUNT
        return endpoint if endpoint.endswith(suffix) else endpoint + suffix
    return f"{endpoint}/{account}"


def blob_service(account: str, config: CloudConfig) -> Any:
    """An ``azure.storage.blob.BlobServiceClient`` for one storage account, one per
    process and account URL. Retries use the storage SDK's own policies with
    ``max_attempts - 1`` retries: ``ExponentialRetry`` (15 s + 3^n s, jittered by
    +-3 s: the SDK's defaults) against Azure, ``LinearRetry`` (0.2 +- 0.1 s) in
    the sandbox, whose faults are local."""
    url = blob_account_url(account, config)

    def build() -> Any:
        from azure.storage.blob import BlobServiceClient, ExponentialRetry, LinearRetry

        retries = retry_settings(config).max_attempts - 1
        if config.sandbox:
            policy: Any = LinearRetry(backoff=0.2, random_jitter_range=0.1,  # type: ignore[arg-type]
                                      retry_total=retries)
            credential: Any = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
            return BlobServiceClient(url, credential=credential, retry_policy=policy)
        policy = ExponentialRetry(retry_total=retries)
        return BlobServiceClient(url, credential=default_credential(), retry_policy=policy)

    return CLIENTS.get(_client_key("blob", config, url), build)


def error_code(exc: BaseException) -> str:
    """The Azure error code carried by an azure-core ``HttpResponseError``."""
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "code", None):
        return str(error.code)
    status = getattr(exc, "status_code", None)
    return str(status) if status else ""


def is_not_found(exc: BaseException) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError) or error_code(exc) in NOT_FOUND_CODES \
        or getattr(exc, "status_code", None) == 404


def _message(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "message", None):
        return str(error.message)
    text = str(getattr(exc, "message", "") or exc)
    # Storage errors append "RequestId:...\nTime:...\nErrorCode:..." lines.
    return text.split("\n")[0] if "\n" in text else text


def map_error(exc: BaseException, *, resource: str = "", resource_type: str = "",
              config: CloudConfig | None = None) -> ProviderError | None:
    """The provision error for an azure-core exception; None if ``exc`` is not one."""
    from azure.core import exceptions as ax

    where = {"resource": resource, "resource_type": resource_type}
    secrets = (AZURITE_KEY,)
    hint = SANDBOX_CREDENTIALS_HINT if config is not None and config.sandbox else CREDENTIALS_HINT
    code = error_code(exc)
    detail = one_line(redact(_message(exc), secrets))
    rejected = code in CREDENTIAL_CODES or (code == "AuthorizationFailure"
                                            and "authenticate" in detail)
    if isinstance(exc, ax.ClientAuthenticationError) or (
            isinstance(exc, ax.HttpResponseError) and rejected):
        # Includes azure-identity's CredentialUnavailableError, 401 responses and
        # storage's rejected signatures.
        prefix = f"Azure error {code}: " if code and not code.isdigit() else ""
        return CredentialsError(f"Azure credentials not usable: {prefix}{detail}",
                                hint=hint, **where)
    if isinstance(exc, ax.HttpResponseError):
        code = code or "Unknown"
        text = f"Azure error {code}: {detail}"
        hint = ""
        if code in ("AuthorizationFailed", "AuthorizationPermissionMismatch", "403"):
            hint = "the identity lacks an RBAC role for this action; check its role assignments"
        return CloudError(text, hint=hint, **where)
    if isinstance(exc, (ax.ServiceRequestError, ax.ServiceResponseError)):
        hint = ("start it with: provision sandbox up" if config is not None and config.sandbox
                else "check the network and the arm_endpoint/blob_endpoint settings")
        return CloudError(f"cannot reach Azure: {one_line(redact(str(exc), secrets))}",
                          hint=hint, **where)
    if isinstance(exc, ax.AzureError):
        return CloudError(f"Azure SDK error: {one_line(redact(str(exc), secrets))}", **where)
    return None


def translate(resource_type: str, resource: str = "",
              config: CloudConfig | None = None) -> ContextManager[None]:
    """Turn azure-core exceptions raised inside the block into provision errors."""
    return translate_errors(map_error, resource_type, resource, config)


def plain(value: Any) -> Any:
    """SDK enum members (str subclasses) as plain strings; other values unchanged."""
    if value is None:
        return None
    inner = getattr(value, "value", value)
    return str(inner) if isinstance(value, str) else inner


def parse_id(resource_id: str) -> dict[str, str]:
    """``/subscriptions/S/resourceGroups/G/providers/P/T/N`` -> lower-cased keys to values."""
    parts = [p for p in resource_id.split("/") if p]
    return {parts[i].lower(): parts[i + 1] for i in range(0, len(parts) - 1, 2)}
