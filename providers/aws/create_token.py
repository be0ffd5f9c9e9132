"""One create, one VPC: a token tag that finds the copies a retried create made, and
the VPC a crashed run created but never recorded.

CreateVpc takes neither a client token nor a unique name, so when botocore
retries a CreateVpc whose answer was lost (AWS made the VPC, the client saw a 5xx
or a reset) a second VPC appears. Each create therefore tags the new resource
with a token (botocore sends the same parameters on every retry, so every copy
carries the same one); once the create returns, every other resource with that
token is a copy and is deleted.

The token comes from the engine (``provision.provider.CREATE_TOKEN`` in the
create's inputs, see ``ResourceSchema.create_token``), so it is also recorded with
a create that a killed run left pending; the tag stays on the resource, and
``find`` looks the token up to adopt that resource instead of orphaning it. Reads
leave the tag out of ``tags``: it is bookkeeping, never drift.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Mapping

from provision.provider import CREATE_TOKEN

TOKEN_TAG = "provision:create-token"

Describe = Callable[..., list[dict[str, Any]]]


def new_token() -> str:
    """A fresh token for one create (32 hex digits)."""
    return uuid.uuid4().hex


def split(props: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A create's properties without the engine's token, and the token (a fresh one
    when the caller gave none: a direct call, not through the engine)."""
    rest = {k: v for k, v in props.items() if k != CREATE_TOKEN}
    return rest, str(props.get(CREATE_TOKEN) or new_token())


def tag_specifications(resource_type: str, tags: list[dict[str, str]],
                       token: str) -> list[dict[str, Any]]:
    """EC2 ``TagSpecifications`` carrying ``tags`` and the create token."""
    return [{"ResourceType": resource_type,
             "Tags": [*tags, {"Key": TOKEN_TAG, "Value": token}]}]


def without_token(tags: Mapping[str, str]) -> dict[str, str]:
    """A resource's tags as the spec sees them: without the token tag."""
    return {k: v for k, v in tags.items() if k != TOKEN_TAG}


def tagged(describe: Describe, id_key: str, token: str) -> list[str]:
    """The ids of every resource carrying ``token``, sorted.

    ``describe(Filters=...)`` lists the resources (``describe_vpcs`` and its ``Vpcs``)."""
    found = describe(Filters=[{"Name": f"tag:{TOKEN_TAG}", "Values": [token]}])
    return sorted(str(r[id_key]) for r in found)


def drop_copies(describe: Describe, id_key: str, keep: str, token: str,
                delete: Callable[[str], None]) -> list[str]:
    """Delete every resource but ``keep`` that carries ``token``; the ids deleted."""
    copies = [found for found in tagged(describe, id_key, token) if found != keep]
    for copy in copies:
        delete(copy)
    return copies
