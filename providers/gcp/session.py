"""Building Google Cloud clients from a :class:`CloudConfig`, and mapping google errors.

Settings (``CloudConfig.settings`` for cloud ``gcp``):

``project``           the project resources are created in (and billed to)
``region``            default location for new buckets
``storage_endpoint``  optional; the Cloud Storage API endpoint (sandbox emulator)
``crm_endpoint``      optional; the Resource Manager API endpoint (sandbox emulator)
``pubsub_endpoint``   optional; the Pub/Sub gRPC target ``host:port``. In the sandbox
                      it is the emulator, reached over a plaintext channel as with
                      ``PUBSUB_EMULATOR_HOST``

Credentials: google-auth's Application Default Credentials for real clouds; in
the sandbox, ``AnonymousCredentials`` against the emulator endpoints.
"""

from __future__ import annotations

import re
from typing import Any, Callable, ContextManager

from provision.errors import CloudError, CredentialsError, ProviderError
from provision.provider import CloudConfig

from providers.base import one_line, redact, translate_errors
from providers.clients import CLIENTS, credential_fingerprint
from providers.retries import retry_settings

CREDENTIALS_HINT = ("run `gcloud auth application-default login`, or set "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service account key file")


def project(config: CloudConfig) -> str | None:
    value = config.get("project")
    return str(value) if value else None


# Environment variables Application Default Credentials read: a change to any of
# them gives new clients (see providers/clients.py).
CREDENTIAL_ENV = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN",
                  "CLOUDSDK_CONFIG", "GOOGLE_CLOUD_PROJECT")


def _client_key(kind: str, config: CloudConfig, endpoint: Any) -> tuple[Any, ...]:
    return ("gcp", kind, project(config), str(endpoint or ""), config.sandbox,
            credential_fingerprint(*CREDENTIAL_ENV))


def storage_client(config: CloudConfig) -> Any:
    """A ``google.cloud.storage.Client``, one per process and settings (it shares one
    HTTP session between threads; see :mod:`providers.clients`). Pass
    :func:`storage_retry` to its calls."""
    endpoint = config.get("storage_endpoint")

    def build() -> Any:
        from google.cloud import storage  # type: ignore[attr-defined]

        kwargs: dict[str, Any] = {"project": project(config)}
        if endpoint:
            kwargs["client_options"] = {"api_endpoint": str(endpoint)}
        if config.sandbox:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
            kwargs["project"] = kwargs["project"] or "sandbox"
        with translate("gcp:storage", config=config):
            return storage.Client(**kwargs)

    return CLIENTS.get(_client_key("storage", config, endpoint), build)


def projects_client(config: CloudConfig) -> Any:
    """A ``google.cloud.resourcemanager_v3.ProjectsClient``, one per process and settings.
    Pass :func:`api_retry` to its calls and to ``.result(retry=...)`` of operations."""
    endpoint = config.get("crm_endpoint")

    def build() -> Any:
        from google.cloud import resourcemanager_v3

        kwargs: dict[str, Any] = {}
        if endpoint:
            kwargs["client_options"] = {"api_endpoint": str(endpoint)}
        if config.sandbox:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
            # The emulator speaks the REST (JSON/HTTP) API, not gRPC.
            kwargs["transport"] = "rest"
        with translate("gcp:resourcemanager", config=config):
            return resourcemanager_v3.ProjectsClient(**kwargs)

    return CLIENTS.get(_client_key("projects", config, endpoint), build)


def _backoff(retry: Any, config: CloudConfig) -> Any:
    settings = retry_settings(config)
    return retry.with_delay(initial=settings.initial, maximum=settings.maximum,
                            multiplier=2.0).with_timeout(settings.timeout)


def storage_retry(config: CloudConfig) -> Any:
    """google-cloud-storage's own retry (429, 5xx, connection resets and timeouts),
    jittered exponential backoff bounded by the settings' ``timeout``. Safe on every
    call provision makes: each names its bucket, so a retry cannot make a second one."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return _backoff(DEFAULT_RETRY, config)


def api_retry(config: CloudConfig) -> Any:
    """A ``google.api_core.retry.Retry`` for the other Google APIs: throttling (429),
    500/502/503/504 and connection errors, jittered exponential backoff."""
    from google.api_core import exceptions as gx
    from google.api_core import retry as gr

    transient = gr.if_exception_type(
        gx.TooManyRequests, gx.InternalServerError, gx.BadGateway, gx.ServiceUnavailable,
        gx.GatewayTimeout, ConnectionError, _requests_connection_error())
    return _backoff(gr.Retry(predicate=transient), config)


def _requests_connection_error() -> type[Exception]:
    import requests

    return requests.ConnectionError


def _pubsub_kwargs(config: CloudConfig, transport_class: Any) -> dict[str, Any]:
    endpoint = str(config.get("pubsub_endpoint") or "")
    if config.sandbox and endpoint:
        import grpc

        return {"transport": transport_class(channel=grpc.insecure_channel(endpoint))}
    return {"client_options": {"api_endpoint": endpoint}} if endpoint else {}


def publisher_client(config: CloudConfig) -> Any:
    """A ``google.pubsub_v1.PublisherClient`` (topics, and their IAM policies), one per
    process and settings. Pass :func:`api_retry` to its calls."""
    endpoint = config.get("pubsub_endpoint")

    def build() -> Any:
        from google.pubsub_v1.services.publisher import PublisherClient
        from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport

        with translate("gcp:pubsub", config=config):
            return PublisherClient(**_pubsub_kwargs(config, PublisherGrpcTransport))

    return CLIENTS.get(_client_key("publisher", config, endpoint), build)


def subscriber_client(config: CloudConfig) -> Any:
    """A ``google.pubsub_v1.SubscriberClient`` (subscriptions), one per process and
    settings. Pass :func:`api_retry` to its calls."""
    endpoint = config.get("pubsub_endpoint")

    def build() -> Any:
        from google.pubsub_v1.services.subscriber import SubscriberClient
        from google.pubsub_v1.services.subscriber.transports.grpc import SubscriberGrpcTransport

        with translate("gcp:pubsub", config=config):
            return SubscriberClient(**_pubsub_kwargs(config, SubscriberGrpcTransport))

    return CLIENTS.get(_client_key("subscriber", config, endpoint), build)


def require_project(config: CloudConfig, resource_type: str, resource: str = "") -> str:
    value = project(config)
    if not value:
        raise ProviderError("no GCP project configured", resource=resource,
                            resource_type=resource_type,
                            hint="set project on the resource, or in the environment's gcp "
                                 "settings")
    return value


def duration(value: Any) -> str | None:
    """A protobuf Duration (a ``timedelta`` in proto-plus) as the API's JSON text ``"600s"``."""
    if value is None:
        return None
    seconds = value.total_seconds()
    return f"{seconds:g}s" if seconds else None


def status_code(exc: BaseException) -> int:
    code = getattr(exc, "code", None)
    return int(code) if isinstance(code, int) else 0


def is_not_found(exc: BaseException) -> bool:
    from google.api_core import exceptions as gx

    return isinstance(exc, gx.NotFound)


def found(call: Callable[[], Any]) -> bool:
    """Run ``call``; False when the API answers NOT_FOUND, True otherwise (other errors
    propagate). For a get it says whether the resource exists; for a delete, whether
    there was anything to delete."""
    try:
        call()
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def is_already_exists(exc: BaseException) -> bool:
    """``ALREADY_EXISTS`` (409), not ``ABORTED``, which shares the HTTP status."""
    from google.api_core import exceptions as gx

    return isinstance(exc, gx.AlreadyExists)


def reason(exc: BaseException) -> str:
    """The API's error reason ('notFound', 'conflict', ...) or status name."""
    grpc_status = getattr(exc, "grpc_status_code", None)
    if grpc_status is not None:
        return str(getattr(grpc_status, "name", grpc_status))
    errors = getattr(exc, "errors", None) or []
    for error in errors:
        if isinstance(error, dict) and error.get("reason"):
            return str(error["reason"])
    return type(exc).__name__


_REQUEST_PREFIX = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD) \S+: ")


def _message(exc: Any) -> str:
    """The API's message without the "POST https://...: " prefix the clients add."""
    return _REQUEST_PREFIX.sub("", one_line(redact(str(exc.message))))


def map_error(exc: BaseException, *, resource: str = "", resource_type: str = "",
              config: CloudConfig | None = None) -> ProviderError | None:
    """The provision error for a google exception; None if ``exc`` is not one."""
    from google.api_core import exceptions as gx
    from google.auth import exceptions as ga

    where = {"resource": resource, "resource_type": resource_type}
    if isinstance(exc, (ga.DefaultCredentialsError, ga.RefreshError)):
        return CredentialsError(f"Google credentials not usable: {one_line(redact(str(exc)))}",
                                hint=CREDENTIALS_HINT, **where)
    if isinstance(exc, gx.Unauthenticated):
        return CredentialsError(f"GCP error {exc.code} UNAUTHENTICATED: {_message(exc)}",
                                hint=CREDENTIALS_HINT, **where)
    if isinstance(exc, gx.GoogleAPICallError):
        hint = ""
        if isinstance(exc, gx.PermissionDenied):
            hint = ("the credentials lack an IAM role for this action, "
                    "or the resource is not visible to them")
        code = f"{exc.code} " if exc.code else ""
        return CloudError(f"GCP error {code}{reason(exc)}: {_message(exc)}",
                          hint=hint, **where)
    if isinstance(exc, (gx.RetryError, ga.TransportError)) or _is_connection_error(exc):
        hint = ("start it with: provision sandbox up" if config is not None and config.sandbox
                else "check the network and the storage_endpoint/crm_endpoint settings")
        return CloudError(f"cannot reach GCP: {one_line(redact(str(exc)))}", hint=hint, **where)
    if isinstance(exc, ga.GoogleAuthError):
        return CredentialsError(f"Google auth error: {one_line(redact(str(exc)))}",
                                hint=CREDENTIALS_HINT, **where)
    return None


def _is_connection_error(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def translate(resource_type: str, resource: str = "",
              config: CloudConfig | None = None) -> ContextManager[None]:
    """Turn google exceptions raised inside the block into provision errors."""
    return translate_errors(map_error, resource_type, resource, config)
