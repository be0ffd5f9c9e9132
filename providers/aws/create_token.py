"""One create, one VPC: a token tag that finds the copies a retried create made.

CreateVpc takes neither a client token nor a unique name, so when botocore
retries a CreateVpc whose answer was lost (AWS made the VPC, the client saw a 5xx
or a reset) a second VPC appears. Each create therefore tags the new resource
with a fresh token (botocore sends the same parameters on every retry, so every
copy carries the same one); once the create returns, every other resource with
that token is a copy and is deleted, and the tag is removed from the one kept.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

TOKEN_TAG = "provision:create-token"


def new_token() -> str:
    """A fresh token for one create (32 hex digits)."""
    return uuid.uuid4().hex


def tag_specifications(resource_type: str, tags: list[dict[str, str]],
                       token: str) -> list[dict[str, Any]]:
    """EC2 ``TagSpecifications`` carrying ``tags`` and the create token."""
    return [{"ResourceType": resource_type,
             "Tags": [*tags, {"Key": TOKEN_TAG, "Value": token}]}]


def drop_copies(ec2: Any, describe: Callable[..., list[dict[str, Any]]], id_key: str,
                keep: str, token: str, delete: Callable[[str], None]) -> list[str]:
    """Delete every resource but ``keep`` that carries ``token``; untag ``keep``.

    ``describe(Filters=...)`` lists the resources (``describe_vpcs`` and its
    ``Vpcs``); returns the ids of the copies deleted.
    """
    found = describe(Filters=[{"Name": f"tag:{TOKEN_TAG}", "Values": [token]}])
    copies = [str(r[id_key]) for r in found if str(r[id_key]) != keep]
    for copy in copies:
        delete(copy)
    ec2.delete_tags(Resources=[keep], Tags=[{"Key": TOKEN_TAG}])
    return copies
