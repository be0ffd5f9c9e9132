"""Building boto3 clients from a :class:`CloudConfig`, and mapping botocore errors.

Settings (``CloudConfig.settings`` for cloud ``aws``):

``region``        the AWS region (falls back to boto3's own chain when absent)
``endpoint_url``  optional; absent means real AWS, set for the sandbox (moto)

Credentials come from boto3's default chain (environment, shared config and
profile, SSO, instance/role credentials). In the sandbox (``config.sandbox``)
fixed dummy keys are used: the emulator accepts any.
"""

from __future__ import annotations

from typing import Any, ContextManager

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig

from providers.base import one_line, redact, translate_errors
from providers.clients import CLIENTS, credential_fingerprint
from providers.retries import retry_settings

# Any non-empty keys satisfy moto; these are not secrets.
SANDBOX_ACCESS_KEY = "testing"
SANDBOX_SECRET_KEY = "testing"

CREDENTIALS_HINT = ("set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                    "(or run: aws sso login / aws configure)")

# Error codes that mean the caller's credentials are missing, wrong or expired.
CREDENTIAL_CODES = frozenset({
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
    "InvalidClientTokenId", "InvalidToken", "UnrecognizedClientException", "TokenRefreshRequired",
    "AuthFailure", "MissingAuthenticationToken",
})

# Error codes that mean "this resource does not exist".
NOT_FOUND_CODES = frozenset({"404", "NoSuchBucket", "NotFound", "NoSuchKey"})


def region(config: CloudConfig) -> str | None:
    value = config.get("region")
    return str(value) if value else None


# Environment variables boto3's default credential chain reads: a change to any
# of them gives a new client (see providers/clients.py).
CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
                  "AWS_CONFIG_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def client(service: str, config: CloudConfig) -> Any:
    """A boto3 client for ``service`` configured from ``config``.

    One client per (service, region, endpoint, sandbox, retry settings,
    credential environment) is built per process and then shared by every
    adapter and thread (botocore clients are thread-safe). Transient faults are
    retried by botocore's ``standard`` (or ``adaptive``) retry mode with
    ``max_attempts`` attempts in total (:mod:`providers.retries`).
    """
    endpoint = str(config.get("endpoint_url") or "") or None
    where = region(config) or ("us-east-1" if config.sandbox else None)
    retry = retry_settings(config)
    key = ("aws", service, where, endpoint, config.sandbox, retry.max_attempts, retry.mode,
           credential_fingerprint(*CREDENTIAL_ENV))
    return CLIENTS.get(key, lambda: _build(service, config, endpoint, where))


def _build(service: str, config: CloudConfig, endpoint: str | None, where: str | None) -> Any:
    import boto3
    from botocore.config import Config

    retry = retry_settings(config)
    options: dict[str, Any] = {
        "retries": {"total_max_attempts": retry.max_attempts, "mode": retry.mode},
        "connect_timeout": 10,
        "read_timeout": 60,
        # Pulumi runs up to --parallel operations at once through one client.
        "max_pool_connections": 50,
    }
    if endpoint:
        # Emulators serve every bucket under one host: path-style addressing.
        options["s3"] = {"addressing_style": "path"}
    kwargs: dict[str, Any] = {"config": Config(**options)}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if config.sandbox:
        kwargs["aws_access_key_id"] = SANDBOX_ACCESS_KEY
        kwargs["aws_secret_access_key"] = SANDBOX_SECRET_KEY
    with translate(service, config=config):
        session = boto3.session.Session(region_name=where)
        return session.client(service, **kwargs)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND_CODES


def map_error(exc: BaseException, *, resource: str = "", resource_type: str = "",
              config: CloudConfig | None = None) -> ProviderError | None:
    """The provision error for a botocore exception; None if ``exc`` is not one."""
    from botocore import exceptions as bx

    where = {"resource": resource, "resource_type": resource_type}
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError,
                        bx.CredentialRetrievalError, bx.ProfileNotFound)):
        return CredentialsError(f"AWS credentials not usable: {one_line(redact(str(exc)))}",
                                hint=CREDENTIALS_HINT, **where)
    if isinstance(exc, bx.NoRegionError):
        return ProviderError("no AWS region configured",
                             hint="set region in the environment's aws settings or AWS_REGION",
                             **where)
    if isinstance(exc, bx.ClientError):
        code = error_code(exc) or "Unknown"
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        text = f"AWS error {code}: {one_line(redact(str(message)))}"
        if code in CREDENTIAL_CODES:
            return CredentialsError(text, hint=CREDENTIALS_HINT, **where)
        hint = ""
        if code in ("AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403"):
            hint = "the credentials lack permission for this action; check the IAM policy"
        return CloudError(text, hint=hint, **where)
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError,
                        bx.ReadTimeoutError, bx.ConnectionClosedError)):
        hint = ("start it with: provision sandbox up" if config is not None and config.sandbox
                else "check the network and the endpoint_url setting")
        return CloudError(f"cannot reach AWS: {one_line(redact(str(exc)))}", hint=hint, **where)
    if isinstance(exc, bx.BotoCoreError):
        return CloudError(f"AWS SDK error: {one_line(redact(str(exc)))}", **where)
    return None


def translate(resource_type: str, resource: str = "",
              config: CloudConfig | None = None) -> ContextManager[None]:
    """Turn botocore exceptions raised inside the block into provision errors."""
    return translate_errors(map_error, resource_type, resource, config)
