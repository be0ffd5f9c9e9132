"""``aws:s3:Bucket``: schema, and full CRUD over HTTP against the moto emulator."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.aws.s3_bucket import SCHEMA, S3Bucket


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["bucket"].required and props["bucket"].force_new
    assert props["tags"].type == "map" and not props["tags"].force_new
    assert props["versioning"].type == "boolean"
    assert props["force_destroy"].default is False
    assert props["public_access_block"].type == "map"
    assert props["server_side_encryption"].type == "string"
    assert set(SCHEMA.outputs) == {"arn", "region", "bucket_domain_name"}


def test_update_refuses_a_new_bucket_name_without_calling_aws() -> None:
    config = CloudConfig("aws", {"endpoint_url": "http://127.0.0.1:9"}, sandbox=True)
    with pytest.raises(ProviderError, match="cannot update bucket in place"):
        S3Bucket().update("a-bucket", {"bucket": "a-bucket"}, {"bucket": "b-bucket"}, config)


def test_create_of_a_name_owned_by_another_account_reports_aws_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HEAD answers 403 for someone else's bucket; create goes on and AWS refuses it."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("head_bucket", service_error_code="403", service_message="Forbidden",
                          http_status_code=403, expected_params={"Bucket": "taken-name"})
    stub.add_client_error("create_bucket", service_error_code="BucketAlreadyExists",
                          service_message="The requested bucket name is not available.",
                          http_status_code=409)
    monkeypatch.setattr("providers.aws.session.client", lambda service, config: client)
    with stub, pytest.raises(CloudError) as info:
        S3Bucket().create({"bucket": "taken-name"}, CloudConfig("aws", sandbox=True))
    assert info.value.message == ("taken-name (aws:s3:Bucket): AWS error BucketAlreadyExists: "
                                  "The requested bucket name is not available.")
    stub.assert_no_pending_responses()


def test_read_of_a_forbidden_bucket_is_a_cloud_error_not_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("head_bucket", service_error_code="403", service_message="Forbidden",
                          http_status_code=403)
    monkeypatch.setattr("providers.aws.session.client", lambda service, config: client)
    with stub, pytest.raises(CloudError, match="AWS error 403: Forbidden") as info:
        S3Bucket().read("taken-name", {}, CloudConfig("aws", sandbox=True))
    assert "IAM" in info.value.hint


def test_unknown_public_access_block_key_is_rejected_before_any_call() -> None:
    config = CloudConfig("aws", {"endpoint_url": "http://127.0.0.1:9"}, sandbox=True)
    with pytest.raises(ProviderError, match="unknown public_access_block keys: block_all") as info:
        S3Bucket().create({"bucket": "a-bucket", "public_access_block": {"block_all": True}},
                          config)
    assert "block_public_acls" in info.value.hint


def _tags(s3: Any, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}


@pytest.mark.sandbox
def test_crud_round_trip(aws_config: CloudConfig, s3: Any, unique: str) -> None:
    name = f"prov-{unique}"
    adapter = S3Bucket()
    props = {
        "bucket": name, "tags": {"team": "core"}, "versioning": True,
        "public_access_block": {"block_public_acls": True, "ignore_public_acls": True,
                                "block_public_policy": True, "restrict_public_buckets": True},
        "server_side_encryption": "aws:kms",
    }
    created = adapter.create(props, aws_config)
    assert created.id == name
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, list,
                                                              type(None)}
    assert created.properties["arn"] == f"arn:aws:s3:::{name}"
    assert created.properties["bucket_domain_name"] == f"{name}.s3.amazonaws.com"
    assert created.properties["region"] == aws_config.settings["region"]
    # Independently, through boto3 itself:
    assert _tags(s3, name) == {"team": "core"}
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    read = adapter.read(name, created.properties, aws_config)
    assert read is not None and read.properties == created.properties

    new = {"bucket": name, "tags": {"team": "platform", "env": "dev"}, "versioning": False,
           "public_access_block": {}, "server_side_encryption": "AES256"}
    updated = adapter.update(name, created.properties, new, aws_config)
    assert updated.properties["tags"] == {"team": "platform", "env": "dev"}
    assert updated.properties["versioning"] is False
    assert updated.properties["public_access_block"] == {}
    assert updated.properties["server_side_encryption"] == "AES256"
    assert _tags(s3, name) == {"team": "platform", "env": "dev"}
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket=name)
    reread = adapter.read(name, updated.properties, aws_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(name, updated.properties, aws_config)
    assert adapter.read(name, updated.properties, aws_config) is None
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    adapter.delete(name, updated.properties, aws_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_bucket_outside_us_east_1(aws_config: CloudConfig, s3: Any, unique: str) -> None:
    config = replace(aws_config, settings={**aws_config.settings, "region": "eu-west-1"})
    created = S3Bucket().create({"bucket": f"prov-eu-{unique}"}, config)
    assert created.properties["region"] == "eu-west-1"
    location = s3.get_bucket_location(Bucket=f"prov-eu-{unique}")["LocationConstraint"]
    assert location == "eu-west-1"
    S3Bucket().delete(created.id, created.properties, config)


@pytest.mark.sandbox
def test_delete_of_a_non_empty_bucket_needs_force_destroy(aws_config: CloudConfig, s3: Any,
                                                          unique: str) -> None:
    name = f"prov-full-{unique}"
    created = S3Bucket().create({"bucket": name, "versioning": True}, aws_config)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"one")
    s3.put_object(Bucket=name, Key="a.txt", Body=b"two")  # a second version
    with pytest.raises(CloudError, match="BucketNotEmpty") as info:
        S3Bucket().delete(name, created.properties, aws_config)
    assert "force_destroy" in info.value.hint
    assert S3Bucket().read(name, {}, aws_config) is not None

    S3Bucket().delete(name, {**created.properties, "force_destroy": True}, aws_config)
    assert S3Bucket().read(name, {}, aws_config) is None


@pytest.mark.sandbox
def test_create_is_rolled_back_when_configuring_the_bucket_fails(
        aws_config: CloudConfig, s3: Any, unique: str) -> None:
    name = f"prov-rollback-{unique}"
    with pytest.raises(CloudError, match="AWS error InvalidTag"):
        S3Bucket().create({"bucket": name, "tags": {"aws:reserved": "x"}}, aws_config)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    created = S3Bucket().create({"bucket": name}, aws_config)  # a retry is not blocked
    S3Bucket().delete(created.id, created.properties, aws_config)


@pytest.mark.sandbox
def test_cloud_errors_are_clear(aws_config: CloudConfig, s3: Any, unique: str) -> None:
    with pytest.raises(CloudError) as info:
        S3Bucket().create({"bucket": "ab"}, aws_config)  # too short for S3
    assert info.value.message == "ab (aws:s3:Bucket): AWS error InvalidBucketName: " \
                                 "The specified bucket is not valid."
    assert "Traceback" not in info.value.render()

    name = f"prov-dup-{unique}"
    s3.create_bucket(Bucket=name)
    with pytest.raises(CloudError, match="AWS error BucketAlreadyOwnedByYou") as taken:
        S3Bucket().create({"bucket": name}, aws_config)
    assert f"provision import SPEC --env ENV RESOURCE_ID {name}" in taken.value.hint
    assert "delete" not in taken.value.hint     # the way out keeps the bucket
    s3.delete_bucket(Bucket=name)


def _count_calls(client: Any) -> list[str]:
    calls: list[str] = []
    client.meta.events.register("before-call.s3.*",
                                lambda model, **kwargs: calls.append(model.name))
    return calls


@pytest.mark.sandbox
def test_read_is_six_calls_without_get_bucket_location(aws_config: CloudConfig,
                                                        unique: str) -> None:
    from providers.aws import session

    name = f"prov-calls-{unique}"
    adapter = S3Bucket()
    created = adapter.create({"bucket": name, "tags": {"a": "b"}}, aws_config)
    calls = _count_calls(session.client("s3", aws_config))
    read = adapter.read(name, created.properties, aws_config)
    assert read is not None and read.properties == created.properties
    assert sorted(calls) == ["GetBucketEncryption", "GetBucketLifecycleConfiguration",
                             "GetBucketTagging", "GetBucketVersioning", "GetPublicAccessBlock",
                             "HeadBucket"]
    assert read.properties["region"] == aws_config.settings["region"]
    adapter.delete(name, created.properties, aws_config)


@pytest.mark.sandbox
@pytest.mark.parametrize("props", [
    {"tags": {"owner": "bench", "n": "1"}},
    {},
    {"versioning": True, "lifecycle_rules": [{"id": "logs", "expiration": {"days": 9}}],
     "server_side_encryption": "AES256"},
])
def test_create_records_what_a_read_reports_with_fewer_calls(
        aws_config: CloudConfig, unique: str, props: dict[str, Any]) -> None:
    """The create's read-back asks S3 only for what it chooses itself (public access
    block, default encryption) and what create set in S3's own form (lifecycle rules);
    the rest is known from the create, and the result equals a full read."""
    from providers.aws import session

    name = f"prov-known-{unique}"
    adapter = S3Bucket()
    calls = _count_calls(session.client("s3", aws_config))
    created = adapter.create({"bucket": name, **props}, aws_config)
    if props == {"tags": {"owner": "bench", "n": "1"}}:
        assert sorted(calls) == ["CreateBucket", "GetBucketEncryption", "GetPublicAccessBlock",
                                 "HeadBucket", "PutBucketTagging"]
    read = adapter.read(name, {"bucket": name, **props}, aws_config)
    assert read is not None and read.properties == created.properties
    adapter.delete(name, created.properties, aws_config)


def test_a_retried_create_that_meets_its_own_bucket_succeeds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HEAD said the name was free; botocore retried a CreateBucket whose answer was
    lost, and the retry answers BucketAlreadyOwnedByYou: that bucket is this create's."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stub.add_client_error("create_bucket", service_error_code="BucketAlreadyOwnedByYou",
                          http_status_code=409)
    # The read-back asks only what S3 chooses for a new bucket (no second HEAD: the
    # region is the client's; tags, versioning and lifecycle are what create set).
    for operation, error in (("get_public_access_block", "NoSuchPublicAccessBlockConfiguration"),
                             ("get_bucket_encryption",
                              "ServerSideEncryptionConfigurationNotFoundError")):
        stub.add_client_error(operation, service_error_code=error, http_status_code=404)
    monkeypatch.setattr("providers.aws.session.client", lambda service, config: client)
    # The stubbed answers are ordered: read the settings one after another.
    monkeypatch.setattr("providers.aws.s3_bucket.ThreadPoolExecutor", _InlineExecutor)
    with stub:
        result = S3Bucket().create({"bucket": "mine"}, CloudConfig("aws", sandbox=True))
    assert result.id == "mine" and result.properties["region"] == "eu-west-1"
    stub.assert_no_pending_responses()


class _InlineExecutor:
    """Runs submitted calls at once, in order (the Stubber answers in order)."""

    def __init__(self, max_workers: int = 1) -> None:
        pass

    def __enter__(self) -> "_InlineExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@pytest.mark.sandbox
def test_create_is_rolled_back_when_the_read_back_fails(
        aws_config: CloudConfig, s3: Any, unique: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """All or nothing: a failed read after the cloud accepted the create deletes the
    bucket again, so the next apply creates it instead of meeting "already exists"."""
    name = f"prov-readfail-{unique}"

    def failing_read(s3: Any, id: str, props: Any, **_: Any) -> None:
        raise CloudError("AWS error InternalError: We encountered an internal error.",
                         resource=id, resource_type="aws:s3:Bucket")

    with monkeypatch.context() as patch:
        patch.setattr("providers.aws.s3_bucket._read_settings", failing_read)
        with pytest.raises(CloudError, match="InternalError"):
            S3Bucket().create({"bucket": name}, aws_config)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    created = S3Bucket().create({"bucket": name}, aws_config)
    S3Bucket().delete(created.id, created.properties, aws_config)


RULES = [
    {"id": "logs", "prefix": "logs/", "expiration": {"days": 90},
     "transitions": [{"days": 30, "storage_class": "STANDARD_IA"}]},
    {"id": "uploads", "enabled": False, "abort_incomplete_multipart_upload_days": 7},
]


def test_lifecycle_rule_constraints() -> None:
    from provision.constraints import check_property

    found = check_property(SCHEMA.properties["lifecycle_rules"].constraints, [
        {"id": "x" * 256, "expiration": {"days": 0},
         "transitions": [{"days": 30, "storage_class": "COLD"}]},
        {"prefix": "a/"}])
    assert sorted(f"{v.path}: {v.message}" for v in found) == [
        "0.expiration.days: 0 is out of range (at least 1)",
        "0.id: has 256 characters; allowed: 1 to 255",
        "0.transitions.0.storage_class: 'COLD' is not one of STANDARD_IA, ONEZONE_IA, "
        "INTELLIGENT_TIERING, GLACIER, GLACIER_IR, DEEP_ARCHIVE",
        "1: missing key 'id'",
    ]


@pytest.mark.sandbox
def test_lifecycle_rules_and_a_partial_public_access_block(aws_config: CloudConfig, s3: Any,
                                                           unique: str) -> None:
    name = f"prov-lc-{unique}"
    adapter = S3Bucket()
    props = {"bucket": name, "lifecycle_rules": RULES,
             "public_access_block": {"block_public_acls": True}}
    created = adapter.create(props, aws_config)
    live = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert {r["ID"]: r["Status"] for r in live} == {"logs": "Enabled", "uploads": "Disabled"}
    logs = next(r for r in live if r["ID"] == "logs")
    assert logs["Expiration"]["Days"] == 90 and logs["Filter"]["Prefix"] == "logs/"
    assert logs["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                   "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    # Read back in the spec's own form: no permanent diff for the partial map or the rules.
    assert created.properties["lifecycle_rules"] == RULES
    assert created.properties["public_access_block"] == {"block_public_acls": True}
    again = adapter.read(name, created.properties, aws_config)
    assert again is not None and again.properties == created.properties

    # An out-of-band change to a key the spec manages shows; one to another key does not.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        **pab, "BlockPublicAcls": False, "RestrictPublicBuckets": True})
    drifted = adapter.read(name, created.properties, aws_config)
    assert drifted is not None
    assert drifted.properties["public_access_block"] == {"block_public_acls": False}

    new = {**props, "lifecycle_rules": [RULES[1]],
           "public_access_block": {"block_public_acls": True, "block_public_policy": True}}
    updated = adapter.update(name, drifted.properties, new, aws_config)
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]] == \
        ["uploads"]
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                   "BlockPublicPolicy": True, "RestrictPublicBuckets": True}  # left as it was
    assert updated.properties["public_access_block"] == {"block_public_acls": True,
                                                         "block_public_policy": True}

    cleared = adapter.update(name, updated.properties, {**new, "lifecycle_rules": []}, aws_config)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=name)
    assert cleared.properties["lifecycle_rules"] == []
    adapter.delete(name, cleared.properties, aws_config)
