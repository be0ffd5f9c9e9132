"""An S3 bucket's lifecycle rules, in Terraform's inline ``lifecycle_rule`` shape.

One rule is a map::

    {id: logs, enabled: true, prefix: logs/, expiration: {days: 90},
     transitions: [{days: 30, storage_class: STANDARD_IA}],
     noncurrent_version_expiration: {days: 30}, abort_incomplete_multipart_upload_days: 7}

Rules are compared by content, in any order; ``enabled`` defaults to true and
``prefix`` to the whole bucket. Limits: LifecycleRule (ID at most 255 characters,
at most 1,000 rules), Transition (storage classes), LifecycleExpiration and
AbortIncompleteMultipartUpload (days: a positive integer).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from provision.constraints import Each, Fields, Length, OneOf, Range

LIFECYCLE_RULE = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html"
TRANSITION = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_Transition.html"
LIMITS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html"

STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR",
                   "DEEP_ARCHIVE")

_DAYS = (Range(1, None, source=LIFECYCLE_RULE),)

CONSTRAINTS = (
    Length(0, 1000, source=LIMITS),
    Each((Fields({
        "id": (Length(1, 255, source=LIFECYCLE_RULE),),
        "enabled": (),
        "prefix": (),
        "expiration": (Fields({"days": _DAYS}, required=("days",), source=LIFECYCLE_RULE),),
        "transitions": (Each((Fields({"days": (Range(0, None, source=TRANSITION),),
                                      "storage_class": (OneOf(STORAGE_CLASSES,
                                                              source=TRANSITION),)},
                                     required=("days", "storage_class"), source=TRANSITION),)),),
        "noncurrent_version_expiration": (Fields({"days": _DAYS}, required=("days",),
                                                 source=LIFECYCLE_RULE),),
        "abort_incomplete_multipart_upload_days": _DAYS,
    }, required=("id",), source=LIFECYCLE_RULE),)),
)


def to_api(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules as PutBucketLifecycleConfiguration's ``Rules``."""
    result = []
    for rule in rules:
        api: dict[str, Any] = {
            "ID": str(rule["id"]),
            "Status": "Enabled" if rule.get("enabled", True) else "Disabled",
            "Filter": {"Prefix": str(rule.get("prefix") or "")},
        }
        if rule.get("expiration"):
            api["Expiration"] = {"Days": int(rule["expiration"]["days"])}
        if rule.get("transitions"):
            api["Transitions"] = [{"Days": int(t["days"]), "StorageClass": str(t["storage_class"])}
                                  for t in rule["transitions"]]
        if rule.get("noncurrent_version_expiration"):
            api["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["noncurrent_version_expiration"]["days"])}
        if rule.get("abort_incomplete_multipart_upload_days"):
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(rule["abort_incomplete_multipart_upload_days"])}
        result.append(api)
    return result


def from_api(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GetBucketLifecycleConfiguration's ``Rules`` in the spec's shape."""
    result = []
    for api in rules:
        filter_ = api.get("Filter") or {}
        rule: dict[str, Any] = {
            "id": api.get("ID", ""),
            "enabled": api.get("Status") == "Enabled",
            "prefix": filter_.get("Prefix", api.get("Prefix", "")) or "",
        }
        if api.get("Expiration", {}).get("Days"):
            rule["expiration"] = {"days": int(api["Expiration"]["Days"])}
        if api.get("Transitions"):
            rule["transitions"] = [{"days": int(t.get("Days", 0)),
                                    "storage_class": t["StorageClass"]}
                                   for t in api["Transitions"]]
        if api.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"):
            rule["noncurrent_version_expiration"] = {
                "days": int(api["NoncurrentVersionExpiration"]["NoncurrentDays"])}
        if api.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"):
            rule["abort_incomplete_multipart_upload_days"] = int(
                api["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        result.append(rule)
    return result


def normal(rules: Any) -> list[str]:
    """A comparable form: each rule with its defaults filled in, order ignored."""
    return sorted(json.dumps(from_api(to_api([r]))[0], sort_keys=True) for r in rules or [])


def put(s3: Any, bucket: str, rules: Sequence[Mapping[str, Any]] | None) -> None:
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": to_api(rules)})
    else:
        s3.delete_bucket_lifecycle(Bucket=bucket)


def get(s3: Any, bucket: str, error_code: Any) -> list[dict[str, Any]]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except Exception as exc:
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            return []
        raise
    return from_api(rules)
