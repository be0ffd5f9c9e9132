"""``aws:sqs:Queue``: schema, constraints, FIFO as force-new, and the lifecycle against moto."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from provision.constraints import check_resource
from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.aws.sqs_queue import SCHEMA, SqsQueue


def _violations(props: dict[str, Any]) -> list[str]:
    constraints = {n: p.constraints for n, p in SCHEMA.properties.items()}
    return sorted(f"{v.path}: {v.message}"
                  for v in check_resource(constraints, SCHEMA.rules, props))


def test_schema_and_constraints() -> None:
    assert SCHEMA.properties["fifo_queue"].force_new and SCHEMA.properties["name"].force_new
    assert not SCHEMA.properties["visibility_timeout_seconds"].force_new
    assert _violations({"name": "jobs", "fifo_queue": True, "delay_seconds": 901}) == [
        "delay_seconds: 901 is out of range (0 to 900)",
        "name: a FIFO queue's name must end with .fifo"]
    assert _violations({"name": "jobs.fifo", "fifo_queue": False,
                        "content_based_deduplication": True}) == [
        "content_based_deduplication: 'content_based_deduplication' must not be set when "
        "fifo_queue is False",
        "name: only a FIFO queue's name may end with .fifo (set fifo_queue)"]
    assert _violations({"name": "q" * 81}) == ["name: has 81 characters; allowed: 1 to 80"]


@pytest.mark.sandbox
def test_lifecycle(aws_config: CloudConfig, aws: Callable[[str], Any], unique: str) -> None:
    sqs = aws("sqs")
    adapter = SqsQueue()
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sqs:SendMessage",
         "Resource": "*"}]}
    props = {"name": f"jobs-{unique}", "visibility_timeout_seconds": 45,
             "policy": json.dumps(policy), "tags": {"team": "core"}}
    created = adapter.create(props, aws_config)
    url = created.id
    assert url == sqs.get_queue_url(QueueName=f"jobs-{unique}")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45" and json.loads(attrs["Policy"]) == policy
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    assert created.properties["policy"] == json.dumps(policy)  # the spec's form
    assert created.properties["arn"].endswith(f":jobs-{unique}")
    again = adapter.read(url, created.properties, aws_config)
    assert again is not None and again.properties == created.properties
    # CreateQueue would hand back the existing queue: a second create must not adopt it.
    with pytest.raises(CloudError, match="QueueAlreadyExists") as taken:
        adapter.create(props, aws_config)
    assert f"provision import SPEC --env ENV RESOURCE_ID {url}" in taken.value.hint
    assert "delete" not in taken.value.hint

    new = {**props, "visibility_timeout_seconds": 120, "delay_seconds": 5,
           "tags": {"team": "ops"}}
    updated = adapter.update(url, created.properties, new, aws_config)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["VisibilityTimeout"], attrs["DelaySeconds"]) == ("120", "5")
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "ops"}

    fifo = {**new, "name": f"jobs-{unique}.fifo", "fifo_queue": True}
    with pytest.raises(ProviderError, match="cannot update name, fifo_queue in place"):
        adapter.update(url, updated.properties, fifo, aws_config)
    adapter.delete(url, updated.properties, aws_config)
    assert not any(u.endswith(f"/jobs-{unique}") for u in sqs.list_queues().get("QueueUrls", []))
    replaced = adapter.create(fifo, aws_config)
    attrs = sqs.get_queue_attributes(QueueUrl=replaced.id, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true" and replaced.properties["fifo_queue"] is True

    adapter.delete(replaced.id, replaced.properties, aws_config)
    assert adapter.read(replaced.id, replaced.properties, aws_config) is None
    adapter.delete(replaced.id, replaced.properties, aws_config)


@pytest.mark.sandbox
def test_name_prefix_of_a_fifo_queue(aws_config: CloudConfig, unique: str) -> None:
    created = SqsQueue().create({"name_prefix": f"ev-{unique}-", "fifo_queue": True}, aws_config)
    assert created.properties["name"].startswith(f"ev-{unique}-")
    assert created.properties["name"].endswith(".fifo")
    SqsQueue().delete(created.id, created.properties, aws_config)
