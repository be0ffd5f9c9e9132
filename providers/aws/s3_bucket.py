"""``aws:s3:Bucket``: an S3 bucket with tags, versioning, public access block and SSE.

The id is the bucket name. ``force_destroy`` is a local safety switch with no
API counterpart: without it, deleting a bucket that still holds objects fails
with a clear error; with it, every object version and delete marker is removed
first. ``public_access_block`` uses Terraform's snake_case keys
(``block_public_acls``, ``ignore_public_acls``, ``block_public_policy``,
``restrict_public_buckets``); ``server_side_encryption`` is the default SSE
algorithm (``AES256``, ``aws:kms``, ``aws:kms:dsse``); None leaves the bucket's
default encryption as the cloud sets it.

``public_access_block`` is compared key by key: the keys the spec gives are
managed, the others are left as they are (a new block starts them false), so a
partial map never shows a permanent diff; ``{}`` removes the block.
``lifecycle_rules`` are in Terraform's inline ``lifecycle_rule`` shape
(:mod:`providers.aws.s3_lifecycle`), compared in any order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from provision.errors import CloudError, ProviderError
from provision.constraints import Fields, Length, OneOf, Pattern
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, s3_lifecycle, session
from providers.base import finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:s3:Bucket"

PAB_KEYS = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}

# "General purpose bucket naming rules".
NAMING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
# ServerSideEncryptionByDefault.SSEAlgorithm, "Valid Values".
SSE_API = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html"
# PublicAccessBlockConfiguration: four booleans.
PAB_API = ("https://docs.aws.amazon.com/AmazonS3/latest/API/"
           "API_PublicAccessBlockConfiguration.html")

BUCKET_NAME = (
    Length(3, 63, source=NAMING),
    Pattern(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "lowercase letters, digits, dots and hyphens, "
            "beginning and ending with a letter or digit", source=NAMING),
    Pattern(r"\.\.", "two adjacent periods", forbid=True, source=NAMING),
    Pattern(r"^\d+\.\d+\.\d+\.\d+$", "a name formatted as an IP address", forbid=True,
            source=NAMING),
    Pattern(r"^(xn--|sthree-|amzn-s3-demo-)", "the prefixes xn--, sthree- and amzn-s3-demo-",
            forbid=True, source=NAMING),
    Pattern(r"(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$",
            "the suffixes -s3alias, --ol-s3, .mrap, --x-s3 and --table-s3", forbid=True,
            source=NAMING),
)

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    setting_defaults={"region": "region"},
    terraform_type="aws_s3_bucket",
    description="An S3 bucket.",
    properties={
        "bucket": PropertySchema("string", required=True, force_new=True,
                                 description="globally unique bucket name",
                                 constraints=BUCKET_NAME),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
        "versioning": PropertySchema("boolean", default=False,
                                     description="keep every version of every object"),
        "force_destroy": PropertySchema(
            "boolean", default=False, description="delete all objects when the bucket is deleted"),
        "public_access_block": PropertySchema(
            "map", description="block_public_acls, ignore_public_acls, block_public_policy, "
                               "restrict_public_buckets (booleans; compared key by key, an "
                               "omitted key is left as it is, false on a new block)",
            constraints=(Fields({key: () for key in PAB_KEYS}, source=PAB_API),)),
        "server_side_encryption": PropertySchema(
            "string", description="default encryption: AES256, aws:kms or aws:kms:dsse",
            constraints=(OneOf(("AES256", "aws:kms", "aws:kms:dsse"), source=SSE_API),)),
        "lifecycle_rules": PropertySchema(
            "list", description="[{id, enabled, prefix, expiration: {days}, transitions: "
                                "[{days, storage_class}], noncurrent_version_expiration: {days}, "
                                "abort_incomplete_multipart_upload_days}]",
            constraints=s3_lifecycle.CONSTRAINTS),
    },
    outputs={"arn": "string", "region": "string", "bucket_domain_name": "string"},
)


class S3Bucket:
    """CRUD for S3 buckets through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        name = str(values["bucket"])
        _check_public_access_block(values["public_access_block"], name)
        s3 = session.client("s3", config)
        with session.translate(TYPE, name, config):
            if _exists(s3, name, foreign_is_missing=True):
                # us-east-1 answers 200 to creating a bucket you own: never adopt one.
                raise name_taken("AWS error BucketAlreadyOwnedByYou: the bucket already exists",
                                 what="bucket", name=name, resource_type=TYPE, cloud_id=name)
            params: dict[str, Any] = {"Bucket": name}
            where = s3.meta.region_name
            if where and where != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": where}
            _create_bucket(s3, params)

        def finish() -> ReadResult:
            with session.translate(TYPE, name, config):
                for prop in ("tags", "versioning", "public_access_block",
                             "server_side_encryption", "lifecycle_rules"):
                    if values.get(prop):
                        _apply(s3, name, prop, values[prop])
            # Created where the client points (no LocationConstraint: us-east-1).
            with session.translate(TYPE, name, config):
                return _read_settings(s3, name, values, region=str(where or "us-east-1"),
                                      known=_known_after_create(values))

        return finish_create(finish, lambda: s3.delete_bucket(Bucket=name),
                             resource=name, resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The bucket named by ``props["bucket"]`` (its natural key), if it exists."""
        name = str(props.get("bucket") or "")
        return self.read(name, props, config) if name else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """Six calls: HEAD (existence and region), then the five settings S3 keeps in
        separate sub-resources, fetched side by side (S3 has no call returning them
        together; HeadBucket's ``x-amz-bucket-region`` makes GetBucketLocation
        unneeded, see the S3 API reference for HeadBucket)."""
        s3 = session.client("s3", config)
        with session.translate(TYPE, id, config):
            head = _head(s3, id)
            if head is None:
                return None
            return _read_settings(s3, id, props, region=_region(head, s3, id), known={})

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, new, resource=id)
        _check_public_access_block(values["public_access_block"], id)
        s3 = session.client("s3", config)
        with session.translate(TYPE, id, config):
            for prop in names:
                if prop != "force_destroy":
                    _apply(s3, id, prop, values[prop])
        result = self.read(id, values, config)
        if result is None:
            raise CloudError("bucket no longer exists", resource=id, resource_type=TYPE,
                             hint="it was deleted outside provision; refresh and apply again")
        return result

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        s3 = session.client("s3", config)
        with session.translate(TYPE, id, config):
            try:
                if props.get("force_destroy"):
                    _empty(s3, id)
                s3.delete_bucket(Bucket=id)
            except Exception as exc:
                code = session.error_code(exc)
                if code in session.NOT_FOUND_CODES:
                    return
                if code == "BucketNotEmpty":
                    raise CloudError(
                        "AWS error BucketNotEmpty: the bucket still holds objects",
                        resource=id, resource_type=TYPE,
                        hint="empty it first, or set force_destroy: true to delete its objects"
                    ) from exc
                raise


def _known_after_create(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a bucket that ``create`` made a moment ago holds without asking S3:
    the tag set it was just given (PutBucketTagging replaces the whole set), versioning
    only if create enabled it, and no lifecycle rules unless create set some (those are
    read back, in S3's form). The public access block and the default encryption are
    always read: the cloud chooses them for a new bucket (AWS turns both on)."""
    known: dict[str, Any] = {
        "tags": {str(k): str(v) for k, v in (values.get("tags") or {}).items()},
        "versioning": bool(values.get("versioning")),
    }
    if not values.get("lifecycle_rules"):
        known["lifecycle_rules"] = []
    return known


def _read_settings(s3: Any, name: str, props: Mapping[str, Any], *, region: str,
                   known: Mapping[str, Any]) -> ReadResult:
    """The bucket's properties: the five settings S3 keeps in separate sub-resources,
    those not in ``known`` fetched side by side."""
    fetch: dict[str, Callable[[], Any]] = {
        "versioning": lambda: s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled",
        "tags": lambda: _get_tags(s3, name),
        "public_access_block": lambda: _get_public_access_block(s3, name),
        "server_side_encryption": lambda: _get_encryption(s3, name),
        "lifecycle_rules": lambda: s3_lifecycle.get(s3, name, session.error_code),
    }
    wanted = {key: read for key, read in fetch.items() if key not in known}
    with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
        futures = {key: pool.submit(read) for key, read in wanted.items()}
        got = {**known, **{key: future.result() for key, future in futures.items()}}
    properties: dict[str, Any] = {
        "bucket": name,
        "tags": got["tags"],
        "versioning": got["versioning"],
        "force_destroy": bool(props.get("force_destroy", False)),
        "public_access_block": _as_specified(got["public_access_block"],
                                             props.get("public_access_block")),
        "server_side_encryption": got["server_side_encryption"],
        "arn": f"arn:aws:s3:::{name}",
        "region": region,
        "bucket_domain_name": f"{name}.s3.amazonaws.com",
        "lifecycle_rules": common.as_recorded(got["lifecycle_rules"],
                                              props.get("lifecycle_rules"), s3_lifecycle.normal),
    }
    return ReadResult(id=name, properties=properties)


def _head(s3: Any, name: str, *, foreign_is_missing: bool = False) -> dict[str, Any] | None:
    """HeadBucket's response if the bucket exists and we can see it, else None.

    A 403 means another account owns the name: with ``foreign_is_missing`` it
    counts as not ours (creating it then fails with AWS's BucketAlreadyExists);
    otherwise, like any other error, it propagates.
    """
    try:
        return dict(s3.head_bucket(Bucket=name))
    except Exception as exc:
        if session.is_not_found(exc):
            return None
        if foreign_is_missing and session.error_code(exc) in ("403", "Forbidden"):
            return None
        raise


def _exists(s3: Any, name: str, *, foreign_is_missing: bool = False) -> bool:
    """Whether the bucket exists and we can see it (see :func:`_head`)."""
    return _head(s3, name, foreign_is_missing=foreign_is_missing) is not None


def _region(head: Mapping[str, Any], s3: Any, name: str) -> str:
    """The bucket's region from HeadBucket (``BucketRegion``, or the raw header);
    GetBucketLocation only where an endpoint leaves both out."""
    region = head.get("BucketRegion") or head.get("ResponseMetadata", {}).get(
        "HTTPHeaders", {}).get("x-amz-bucket-region")
    if region:
        return str(region)
    return str(s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1")


def _check_public_access_block(value: Any, name: str) -> None:
    unknown = sorted(set(value or {}) - set(PAB_KEYS))
    if unknown:
        raise ProviderError(f"unknown public_access_block keys: {', '.join(unknown)}",
                            resource=name, resource_type=TYPE,
                            hint=f"use: {', '.join(PAB_KEYS)}")


def _create_bucket(s3: Any, params: Mapping[str, Any]) -> None:
    """CreateBucket for a name HEAD has just reported free.

    botocore retries a CreateBucket whose answer was lost (a 5xx or a reset after
    S3 accepted it); the retry then meets the bucket the first attempt made:
    BucketAlreadyOwnedByYou outside us-east-1 (us-east-1 answers 200). Since the
    name was free a moment ago, that bucket is this create's own: not an error,
    and never a second bucket (bucket names are unique).
    """
    try:
        s3.create_bucket(**params)
    except Exception as exc:
        if session.error_code(exc) != "BucketAlreadyOwnedByYou":
            raise


def _apply(s3: Any, name: str, prop: str, value: Any) -> None:
    """Make the live bucket's ``prop`` equal ``value``."""
    if prop == "tags":
        if value:
            tag_set = common.tag_list(value)
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set})
        else:
            s3.delete_bucket_tagging(Bucket=name)
    elif prop == "versioning":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
            "Status": "Enabled" if value else "Suspended"})
    elif prop == "lifecycle_rules":
        s3_lifecycle.put(s3, name, value)
    elif prop == "public_access_block":
        if value:
            # Keys the spec leaves out keep their live value (false on a new block).
            live = _get_public_access_block(s3, name)
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                api: bool(value.get(key, live.get(key, False))) for key, api in PAB_KEYS.items()})
        else:
            s3.delete_public_access_block(Bucket=name)
    elif prop == "server_side_encryption":
        # None leaves the bucket's default (AWS encrypts new buckets with AES256
        # and that cannot be turned off), so it never causes a perpetual diff.
        if value:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": str(value)}}]})


def _get_tags(s3: Any, name: str) -> dict[str, str]:
    try:
        tag_set = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
    except Exception as exc:
        if session.error_code(exc) == "NoSuchTagSet":
            return {}
        raise
    return {str(t["Key"]): str(t["Value"]) for t in tag_set}


def _get_public_access_block(s3: Any, name: str) -> dict[str, bool]:
    try:
        conf = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except Exception as exc:
        if session.error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise
    return {key: bool(conf.get(api, False)) for key, api in PAB_KEYS.items()}


def _as_specified(live: dict[str, bool], recorded: Any) -> dict[str, bool]:
    """The live block, restricted to the keys the spec manages when it gives some."""
    if isinstance(recorded, dict) and recorded:
        return {key: live.get(key, False) for key in recorded if key in PAB_KEYS}
    return live


def _get_encryption(s3: Any, name: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except Exception as exc:
        if session.error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            return None
        raise
    for rule in rules:
        algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        if algorithm:
            return str(algorithm)
    return None


def _empty(s3: Any, name: str) -> None:
    """Delete every object version and delete marker in the bucket."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=name):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=name, Delete={"Objects": doomed[start:start + 1000],
                                                   "Quiet": True})
