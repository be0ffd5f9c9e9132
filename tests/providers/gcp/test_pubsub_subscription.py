"""``gcp:pubsub:Subscription``: schema, CRUD over gRPC against the Pub/Sub emulator, and
retries with an idempotent create on an in-memory client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions as gx

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.gcp.pubsub_subscription import SCHEMA, PubSubSubscription
from providers.gcp import session
from providers.gcp.pubsub_topic import PubSubTopic
from pubsub_fake import FakePubSub


def test_schema() -> None:
    props = SCHEMA.properties
    for name in ("name", "project", "topic", "filter", "enable_message_ordering"):
        assert props[name].force_new, name
    for name in ("ack_deadline_seconds", "message_retention_duration", "labels",
                 "push_endpoint", "dead_letter_topic", "retain_acked_messages"):
        assert not props[name].force_new, name
    assert props["ack_deadline_seconds"].default == 10


@pytest.fixture
def topics(gcp_config: CloudConfig, unique: str) -> Iterator[tuple[str, str]]:
    made = [PubSubTopic().create({"name": f"{n}-{unique}"}, gcp_config) for n in ("t", "dlq")]
    yield f"t-{unique}", f"dlq-{unique}"
    for topic in made:
        PubSubTopic().delete(topic.id, topic.properties, gcp_config)


@pytest.mark.sandbox
def test_crud_round_trip(gcp_config: CloudConfig, pubsub: Any, topics: tuple[str, str],
                         unique: str) -> None:
    _, subscriber = pubsub
    topic, dead = topics
    project = gcp_config.settings["project"]
    adapter = PubSubSubscription()
    spec = {"name": f"workers-{unique}", "topic": topic, "ack_deadline_seconds": 30,
            "labels": {"team": "shop"}, "filter": 'attributes.kind = "order"'}
    created = adapter.create(spec, gcp_config)
    path = f"projects/{project}/subscriptions/workers-{unique}"
    props = created.properties
    assert created.id == path and props["topic"] == topic  # as the spec wrote it
    assert props["topic_full_name"] == f"projects/{project}/topics/{topic}"
    assert props["message_retention_duration"] == "604800s"  # the API's default, as the schema's
    assert set(props) == SCHEMA.readable() - {"id"}
    assert json.loads(json.dumps(props)) == props
    direct = subscriber.get_subscription(request={"subscription": path})
    assert direct.ack_deadline_seconds == 30 and direct.filter == 'attributes.kind = "order"'
    assert direct.topic == f"projects/{project}/topics/{topic}"
    assert adapter.read(created.id, props, gcp_config).properties == props  # type: ignore[union-attr]

    new = {**spec, "ack_deadline_seconds": 60, "message_retention_duration": "3600s",
           "push_endpoint": "https://example.com/push", "dead_letter_topic": dead,
           "max_delivery_attempts": 7, "labels": {"team": "platform"}}
    updated = adapter.update(created.id, props, new, gcp_config)
    assert updated.properties["dead_letter_topic"] == dead
    direct = subscriber.get_subscription(request={"subscription": path})
    assert direct.ack_deadline_seconds == 60 and dict(direct.labels) == {"team": "platform"}
    assert direct.message_retention_duration.total_seconds() == 3600
    assert direct.push_config.push_endpoint == "https://example.com/push"
    assert direct.dead_letter_policy.dead_letter_topic == f"projects/{project}/topics/{dead}"
    assert direct.dead_letter_policy.max_delivery_attempts == 7

    refiltered = {**new, "filter": 'attributes.kind = "refund"'}
    with pytest.raises(ProviderError, match="cannot update filter in place"):
        adapter.update(created.id, updated.properties, refiltered, gcp_config)
    adapter.delete(created.id, updated.properties, gcp_config)
    with pytest.raises(gx.NotFound):
        subscriber.get_subscription(request={"subscription": path})
    replaced = adapter.create(refiltered, gcp_config)
    assert subscriber.get_subscription(request={"subscription": path}).filter == \
        'attributes.kind = "refund"'

    adapter.delete(replaced.id, replaced.properties, gcp_config)
    assert adapter.read(replaced.id, replaced.properties, gcp_config) is None
    adapter.delete(replaced.id, replaced.properties, gcp_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_missing_topic_and_bad_deadline_are_the_apis_errors(gcp_config: CloudConfig,
                                                             topics: tuple[str, str],
                                                             unique: str) -> None:
    with pytest.raises(CloudError) as info:
        PubSubSubscription().create({"name": f"orphan-{unique}", "topic": f"none-{unique}"},
                                    gcp_config)
    assert "GCP error 404 NOT_FOUND: Resource not found" in info.value.message
    assert f"subscriptions/orphan-{unique}" in info.value.message
    with pytest.raises(CloudError, match="400 INVALID_ARGUMENT: Invalid ack_deadline_seconds"):
        PubSubSubscription().create({"name": f"slow-{unique}", "topic": topics[0],
                                     "ack_deadline_seconds": 601}, gcp_config)


def test_retries_and_a_lost_create_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePubSub()
    monkeypatch.setattr(session, "subscriber_client", lambda config: fake)
    config = CloudConfig("gcp", {"project": "p"}, sandbox=True)
    fake.fail("get_subscription", gx.TooManyRequests("slow down"))
    fake.fail("create_subscription", gx.ServiceUnavailable("answer lost"), after=True)
    created = PubSubSubscription().create({"name": "s", "topic": "t"}, config)
    assert created.id == "projects/p/subscriptions/s" and list(fake.items) == [created.id]
    assert created.properties["topic"] == "t"
    assert fake.calls.count("create_subscription") == 2   # the retry met ALREADY_EXISTS
    with pytest.raises(CloudError, match="409 ALREADY_EXISTS"):
        PubSubSubscription().create({"name": "s", "topic": "t"}, config)
    assert fake.calls.count("create_subscription") == 2   # refused before creating
    fake.fail("delete_subscription", gx.ServiceUnavailable("try again"))
    PubSubSubscription().delete(created.id, created.properties, config)
    assert fake.items == {}
