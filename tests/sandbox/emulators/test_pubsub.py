"""The Pub/Sub emulator, spoken to over gRPC through google-cloud-pubsub's own clients.

Each test works in its own random project, so tests share the session's emulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.api_core import exceptions as gx
from google.pubsub_v1.services.publisher import PublisherClient
from google.pubsub_v1.services.publisher.transports.grpc import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber import SubscriberClient
from google.pubsub_v1.services.subscriber.transports.grpc import SubscriberGrpcTransport

from provision.sandbox import SandboxStatus

pytestmark = pytest.mark.sandbox


@pytest.fixture
def clients(sandbox: SandboxStatus) -> Iterator[tuple[Any, Any, str]]:
    channel = grpc.insecure_channel(sandbox.cloud_settings()["gcp"]["pubsub_endpoint"])
    yield (PublisherClient(transport=PublisherGrpcTransport(channel=channel)),
           SubscriberClient(transport=SubscriberGrpcTransport(channel=channel)),
           f"projects/p-{uuid.uuid4().hex[:8]}")
    channel.close()


@pytest.mark.parametrize("topic_id", ["ab", "1abc", "goog-x", "has space", "x" * 256])
def test_topic_ids_follow_the_resource_name_rules(clients: tuple[Any, Any, str],
                                                   topic_id: str) -> None:
    publisher, _, project = clients
    with pytest.raises(gx.InvalidArgument, match="Invalid resource name given"):
        publisher.create_topic(request={"name": f"{project}/topics/{topic_id}"})


def test_update_needs_a_mask_of_mutable_fields(clients: tuple[Any, Any, str]) -> None:
    publisher, subscriber, project = clients
    topic = publisher.create_topic(request={"name": f"{project}/topics/orders"})
    with pytest.raises(gx.InvalidArgument, match="update_mask .* must be set"):
        publisher.update_topic(request={"topic": {"name": topic.name, "labels": {"a": "b"}}})
    with pytest.raises(gx.InvalidArgument, match="'name' is not a known Topic field"):
        publisher.update_topic(request={"topic": {"name": topic.name},
                                        "update_mask": {"paths": ["name"]}})
    sub = subscriber.create_subscription(request={"name": f"{project}/subscriptions/work",
                                                  "topic": topic.name})
    assert sub.ack_deadline_seconds == 10  # the documented default
    assert sub.message_retention_duration.total_seconds() == 7 * 86400
    with pytest.raises(gx.InvalidArgument, match="'filter' field cannot be updated"):
        subscriber.update_subscription(request={"subscription": {"name": sub.name,
                                                                 "filter": "x"},
                                                "update_mask": {"paths": ["filter"]}})
    with pytest.raises(gx.AlreadyExists, match="Subscription already exists"):
        subscriber.create_subscription(request={"name": sub.name, "topic": topic.name})


def test_deleting_a_topic_detaches_its_subscriptions(clients: tuple[Any, Any, str]) -> None:
    publisher, subscriber, project = clients
    topic = publisher.create_topic(request={"name": f"{project}/topics/gone"})
    sub = subscriber.create_subscription(request={"name": f"{project}/subscriptions/left",
                                                  "topic": topic.name})
    assert list(publisher.list_topic_subscriptions(request={"topic": topic.name})) == [sub.name]
    publisher.delete_topic(request={"topic": topic.name})
    assert subscriber.get_subscription(request={"subscription": sub.name}).topic == \
        "_deleted-topic_"
    with pytest.raises(gx.NotFound, match=r"Resource not found \(resource=gone\)"):
        publisher.get_topic(request={"topic": topic.name})
    assert [t.name for t in publisher.list_topics(request={"project": project})] == []


def test_iam_policy_etag_guards_concurrent_changes(clients: tuple[Any, Any, str]) -> None:
    publisher, _, project = clients
    topic = publisher.create_topic(request={"name": f"{project}/topics/guarded"})
    first = publisher.get_iam_policy(request={"resource": topic.name})
    binding = {"role": "roles/pubsub.publisher", "members": ["allUsers"]}
    publisher.set_iam_policy(request={"resource": topic.name,
                                      "policy": {"etag": first.etag, "bindings": [binding]}})
    with pytest.raises(gx.Aborted):
        publisher.set_iam_policy(request={"resource": topic.name,
                                          "policy": {"etag": first.etag, "bindings": []}})
    with pytest.raises(gx.InvalidArgument, match="Invalid member"):
        publisher.set_iam_policy(request={"resource": topic.name, "policy": {"bindings": [
            {"role": "roles/pubsub.publisher", "members": ["someone"]}]}})
    policy = publisher.get_iam_policy(request={"resource": topic.name})
    assert [(b.role, list(b.members)) for b in policy.bindings] == \
        [("roles/pubsub.publisher", ["allUsers"])]
