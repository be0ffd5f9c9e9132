"""Natural-key lookups used to reconcile a create a crashed run left pending: the
adapter finds the live resource from the planned inputs alone (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from provision.provider import CloudConfig, NaturalKeyLookup
from providers.aws.iam_role import IamRole
from providers.aws.s3_bucket import S3Bucket
from providers.aws.sqs_queue import SqsQueue

pytestmark = pytest.mark.sandbox

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
     "Action": "sts:AssumeRole"}]}


@pytest.mark.parametrize("adapter,props", [
    (S3Bucket(), lambda u: {"bucket": f"find-{u}"}),
    (SqsQueue(), lambda u: {"name_prefix": f"find-{u}-"}),
    (IamRole(), lambda u: {"name_prefix": f"find-{u}-", "assume_role_policy": TRUST}),
], ids=["s3", "sqs-name-prefix", "iam-name-prefix"])
def test_find_by_the_planned_inputs(adapter: Any, props: Any, aws_config: CloudConfig,
                                    unique: str) -> None:
    assert isinstance(adapter, NaturalKeyLookup)
    planned = props(unique)
    assert adapter.find(planned, aws_config) is None
    created = adapter.create(planned, aws_config)
    found = adapter.find(planned, aws_config)
    assert found is not None and found.id == created.id
    adapter.delete(created.id, created.properties, aws_config)
    assert adapter.find(planned, aws_config) is None
