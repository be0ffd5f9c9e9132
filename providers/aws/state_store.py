"""The environment lock and run journal on an S3 state backend (``s3://bucket/prefix``).

A :class:`provision.engine.statestore.StateStore` over S3's conditional writes:
``PutObject`` with ``If-None-Match: *`` creates only when the key is absent, and
with ``If-Match: <etag>`` replaces only the version that was read; both answer
412 Precondition Failed (or 409 ConditionalRequestConflict while another
conditional write to the key is in flight) otherwise. Source:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html .
A conditional ``DeleteObject`` (``If-Match``) is used where the service honours it.

The URL is Pulumi's S3 backend URL: ``s3://bucket/optional/prefix?region=...&endpoint=...``
(``endpoint`` for S3-compatible stores and the sandbox). Credentials come from the
standard AWS chain.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", ""))


_CONFLICT = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3StateStore:
    """Conditional key/value operations on one S3 state backend."""

    def __init__(self, url: str) -> None:
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.url = url
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client: Any = boto3.client(
            "s3", region_name=query.get("region"), endpoint_url=query.get("endpoint"),
            config=Config(retries={"mode": "standard", "max_attempts": 5},
                          s3={"addressing_style": "path"} if query.get("endpoint") else {}))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def create(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   IfNoneMatch="*")
            return True
        except Exception as exc:
            if _code(exc) in _CONFLICT:
                return False
            raise

    def read(self, key: str) -> tuple[bytes, str] | None:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return obj["Body"].read(), str(obj["ETag"])

    def replace(self, key: str, data: bytes, version: str) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   IfMatch=version)
            return True
        except Exception as exc:
            if _code(exc) in _CONFLICT | _MISSING:
                return False
            raise

    def delete(self, key: str, version: str | None = None) -> bool:
        current = self.read(key)
        if current is None or (version is not None and current[1] != version):
            return False
        extra = {"IfMatch": version} if version is not None else {}
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key), **extra)
            return True
        except Exception as exc:
            if _code(exc) in _CONFLICT | _MISSING:
                return False
            raise

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        start = self._key(prefix.strip("/")) + "/"
        cut = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start):
            keys += [str(o["Key"])[cut:] for o in page.get("Contents") or []]
        return sorted(keys)
