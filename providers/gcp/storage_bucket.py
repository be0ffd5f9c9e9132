"""``gcp:storage:Bucket``: a Cloud Storage bucket (google-cloud-storage).

The id is the bucket name. ``location`` defaults to the gcp ``region`` setting
and, like ``name``, cannot change in place; ``labels``, ``versioning`` and
``uniform_bucket_level_access`` update in place (one PATCH). ``force_destroy``
is a local switch: without it deleting a non-empty bucket fails clearly; with
it every object (all generations) is deleted first.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.base import finish_create, name_taken, plan_update, with_defaults
from providers.gcp import session

TYPE = "gcp:storage:Bucket"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="gcp",
    read_back=True,                 # create and update end with a read
    setting_defaults={"location": "region"},
    terraform_type="google_storage_bucket",
    description="A Cloud Storage bucket.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="globally unique bucket name"),
        "location": PropertySchema(
            "string", force_new=True,
            description="region or multi-region; defaults to the gcp region"),
        "labels": PropertySchema("map", items="string", description="bucket labels"),
        "uniform_bucket_level_access": PropertySchema("boolean", default=False),
        "versioning": PropertySchema("boolean", default=False),
        "force_destroy": PropertySchema(
            "boolean", default=False, description="delete all objects when the bucket is deleted"),
    },
    outputs={"self_link": "string", "url": "string", "project": "string"},
)


class StorageBucket:
    """CRUD for Cloud Storage buckets through ``google.cloud.storage.Client``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props, {"location": config.get("region")})
        name = str(values["name"])
        retry = session.storage_retry(config)
        with session.translate(TYPE, name, config):
            client = session.storage_client(config)
            # Read before create: a create whose answer is lost is retried by the SDK
            # and then meets its own bucket (409), which must not fail the create.
            if _get(client, name, retry) is not None:
                raise name_taken("GCP error 409 conflict: the bucket already exists",
                                 what="bucket", name=name, resource_type=TYPE, cloud_id=name)
            bucket = client.bucket(name)
            bucket.labels = _labels(values["labels"])
            bucket.versioning_enabled = bool(values["versioning"])
            bucket.iam_configuration.uniform_bucket_level_access_enabled = bool(
                values["uniform_bucket_level_access"])
            try:
                bucket = client.create_bucket(bucket, location=str(values["location"]),
                                              project=client.project, retry=retry)
            except Exception as exc:
                if session.status_code(exc) != 409:
                    raise
                # The name was free a moment ago: this is the bucket our first try made.
                bucket = client.get_bucket(name, retry=retry)

        def finish() -> ReadResult:
            with session.translate(TYPE, name, config):
                _converge(bucket, values, config, retry)
            return _result(bucket, values, client.project)

        return finish_create(finish, lambda: bucket.delete(retry=retry),
                             resource=name, resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The bucket named by ``props["name"]`` (its natural key), if it exists."""
        name = str(props.get("name") or "")
        return self.read(name, props, config) if name else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        with session.translate(TYPE, id, config):
            client = session.storage_client(config)
            bucket = _get(client, id, session.storage_retry(config))
        if bucket is None:
            return None
        return _result(bucket, props, client.project)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        defaults = {"location": config.get("region")}
        values, names = plan_update(SCHEMA, old, new, defaults, resource=id)
        retry = session.storage_retry(config)
        with session.translate(TYPE, id, config):
            client = session.storage_client(config)
            bucket = client.get_bucket(id, retry=retry)
            if "labels" in names:
                bucket.labels = _labels(values["labels"])
            if "versioning" in names:
                bucket.versioning_enabled = bool(values["versioning"])
            if "uniform_bucket_level_access" in names:
                bucket.iam_configuration.uniform_bucket_level_access_enabled = bool(
                    values["uniform_bucket_level_access"])
            if set(names) - {"force_destroy"}:
                # A PATCH sets fields to given values: safe to retry.
                bucket.patch(retry=retry)
        return _result(bucket, values, client.project)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        retry = session.storage_retry(config)
        with session.translate(TYPE, id, config):
            client = session.storage_client(config)
            try:
                bucket = client.get_bucket(id, retry=retry)
                if props.get("force_destroy"):
                    for blob in client.list_blobs(bucket, versions=True, retry=retry):
                        blob.delete(retry=retry)
                bucket.delete(retry=retry)
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                if session.status_code(exc) == 409:
                    raise CloudError(
                        "GCP error 409 conflict: the bucket still holds objects",
                        resource=id, resource_type=TYPE,
                        hint="empty it first, or set force_destroy: true to delete its objects"
                    ) from exc
                raise


def _get(client: Any, name: str, retry: Any) -> Any:
    """The bucket (one GET), or None if it does not exist."""
    try:
        return client.get_bucket(name, retry=retry)
    except Exception as exc:
        if session.is_not_found(exc):
            return None
        raise


def _converge(bucket: Any, values: Mapping[str, Any], config: CloudConfig, retry: Any) -> None:
    """Patch settings the create call did not apply (some emulators ignore them).

    Against real Cloud Storage the created bucket already matches and nothing is
    sent. ``location`` cannot change on a real bucket, so it is patched only in
    the sandbox, whose emulator creates every bucket in ``US``.
    """
    dirty = False
    if dict(bucket.labels or {}) != _labels(values["labels"]):
        bucket.labels = _labels(values["labels"])
        dirty = True
    if bool(bucket.versioning_enabled) != bool(values["versioning"]):
        bucket.versioning_enabled = bool(values["versioning"])
        dirty = True
    uniform = bool(values["uniform_bucket_level_access"])
    if bool(bucket.iam_configuration.uniform_bucket_level_access_enabled) != uniform:
        bucket.iam_configuration.uniform_bucket_level_access_enabled = uniform
        dirty = True
    wanted = str(values["location"])
    if config.sandbox and str(bucket.location or "").upper() != wanted.upper():
        # Bucket.location's setter is deprecated (it warns); patch the field directly.
        bucket._patch_property("location", wanted.upper())
        dirty = True
    if dirty:
        bucket.patch(retry=retry)


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def _result(bucket: Any, props: Mapping[str, Any], project: Any) -> ReadResult:
    location = str(bucket.location or "")
    wanted = props.get("location")
    # The API upper-cases locations; keep the spelling the spec used when equal.
    if isinstance(wanted, str) and wanted.upper() == location.upper():
        location = wanted
    return ReadResult(id=bucket.name, properties={
        "name": bucket.name,
        "location": location,
        # A PATCH removes a label by sending it as null; never report those.
        "labels": {k: v for k, v in (bucket.labels or {}).items() if v is not None},
        "uniform_bucket_level_access": bool(
            bucket.iam_configuration.uniform_bucket_level_access_enabled),
        "versioning": bool(bucket.versioning_enabled),
        "force_destroy": bool(props.get("force_destroy", False)),
        "self_link": bucket.self_link,
        "url": f"gs://{bucket.name}",
        "project": str(project) if project else None,
    })
