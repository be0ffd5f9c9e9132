"""google errors mapped to provision errors, and clients built from settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api_core import exceptions as gx
from google.auth import exceptions as ga

from provision.errors import CloudError, CredentialsError
from provision.provider import CloudConfig
from providers.gcp import session
from providers.gcp.storage_bucket import StorageBucket


def test_api_error_becomes_cloud_error_with_status_and_reason() -> None:
    exc = gx.Conflict("You already own this bucket.",
                      errors=[{"reason": "conflict", "message": "You already own this bucket."}])
    error = session.map_error(exc, resource="b", resource_type="gcp:storage:Bucket")
    assert isinstance(error, CloudError)
    assert error.message == "b (gcp:storage:Bucket): GCP error 409 conflict: " \
                            "You already own this bucket."


def test_permission_denied_hints_at_iam() -> None:
    error = session.map_error(gx.PermissionDenied("caller lacks storage.buckets.create"))
    assert isinstance(error, CloudError) and "IAM" in error.hint


def test_unauthenticated_is_a_credentials_error() -> None:
    error = session.map_error(gx.Unauthenticated("Invalid Credentials"))
    assert isinstance(error, CredentialsError)
    assert "gcloud auth application-default login" in error.hint


def test_missing_default_credentials_is_a_credentials_error() -> None:
    error = session.map_error(ga.DefaultCredentialsError("Your default credentials were not found"))
    assert isinstance(error, CredentialsError)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in error.hint


def test_access_token_is_redacted() -> None:
    error = session.map_error(ga.RefreshError("bad grant; access_token=ya29.a0AfH6SMsecret"))
    assert error is not None and "ya29.a0AfH6SMsecret" not in error.render()


def test_connection_errors_hint_at_the_sandbox() -> None:
    import requests

    error = session.map_error(requests.ConnectionError("refused"),
                              config=CloudConfig("gcp", sandbox=True))
    assert isinstance(error, CloudError) and "sandbox up" in error.hint


def test_other_exceptions_are_not_mapped() -> None:
    assert session.map_error(RuntimeError("bug")) is None


def test_not_found_detection() -> None:
    assert session.is_not_found(gx.NotFound("gone"))
    assert not session.is_not_found(gx.Conflict("busy"))


def test_sandbox_clients_use_endpoints_and_anonymous_credentials() -> None:
    from google.auth.credentials import AnonymousCredentials

    config = CloudConfig("gcp", {"storage_endpoint": "http://127.0.0.1:9023",
                                 "crm_endpoint": "http://127.0.0.1:9024", "project": "p"},
                         sandbox=True)
    storage = session.storage_client(config)
    assert storage.project == "p"
    assert storage._connection.API_BASE_URL == "http://127.0.0.1:9023"
    assert isinstance(storage._credentials, AnonymousCredentials)
    projects = session.projects_client(config)
    assert projects._transport.kind == "rest"
    assert "127.0.0.1:9024" in projects._transport._host


def test_real_cloud_without_credentials_is_a_credentials_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud ADC file
    # Never probe the GCE metadata server from a test.
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    config = CloudConfig("gcp", {"project": "p", "storage_endpoint": "http://127.0.0.1:9"})
    with pytest.raises(CredentialsError) as info:
        StorageBucket().read("some-bucket", {}, config)
    assert "gcloud auth application-default login" in info.value.hint


def test_one_client_per_project_and_endpoint() -> None:
    config = CloudConfig("gcp", {"project": "p", "storage_endpoint": "http://127.0.0.1:1",
                                 "crm_endpoint": "http://127.0.0.1:2"}, sandbox=True)
    first = session.storage_client(config)
    assert session.storage_client(CloudConfig("gcp", dict(config.settings), sandbox=True)) \
        is first
    assert session.storage_client(CloudConfig("gcp", {**config.settings, "project": "q"},
                                              sandbox=True)) is not first
    projects = session.projects_client(config)
    assert session.projects_client(config) is projects


def test_retries_are_google_api_core_retry_on_transient_errors_only() -> None:
    retry = session.api_retry(CloudConfig("gcp", sandbox=True))
    assert retry._predicate(gx.TooManyRequests("slow down"))
    assert retry._predicate(gx.ServiceUnavailable("busy"))
    assert retry._predicate(gx.InternalServerError("oops"))
    assert not retry._predicate(gx.Forbidden("no"))
    assert not retry._predicate(gx.Conflict("exists"))
    assert not retry._predicate(gx.BadRequest("invalid"))
    storage = session.storage_retry(CloudConfig("gcp"))
    assert storage._predicate(gx.TooManyRequests("slow down"))
    assert not storage._predicate(gx.Forbidden("no"))
    assert storage.timeout == 120.0
