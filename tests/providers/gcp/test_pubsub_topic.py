"""``gcp:pubsub:Topic``: schema, CRUD over gRPC against the sandbox's Pub/Sub emulator,
and retries with an idempotent create on an in-memory client (the fault proxy speaks
HTTP/1.1 only, so it cannot fault the gRPC emulator)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.api_core import exceptions as gx

from provision.constraints import check_resource
from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.gcp import session
from providers.gcp.pubsub_topic import SCHEMA, PubSubTopic
from pubsub_fake import FakePubSub


def test_schema_and_limits() -> None:
    assert SCHEMA.properties["name"].force_new and SCHEMA.properties["project"].force_new
    for name in ("labels", "message_retention_duration", "iam_bindings"):
        assert not SCHEMA.properties[name].force_new
    constraints = {n: p.constraints for n, p in SCHEMA.properties.items()}
    found = check_resource(constraints, (), {
        "name": "goog-topic", "labels": {"Team": "x"}, "message_retention_duration": "1d",
        "iam_bindings": {"roles/pubsub.publisher": ["nobody"]}})
    assert sorted(v.path for v in found) == [
        "iam_bindings.roles/pubsub.publisher.0", "labels.Team", "message_retention_duration",
        "name"]
    assert check_resource(constraints, (), {"name": "orders.v1", "labels": {"team": "x"},
                                            "message_retention_duration": "86400s"}) == []


def test_members_must_be_a_list() -> None:
    config = CloudConfig("gcp", {"project": "p"}, sandbox=True)
    with pytest.raises(ProviderError, match="must be a list of members"):
        PubSubTopic().create({"name": "orders", "iam_bindings": {"roles/x": "allUsers"}}, config)


@pytest.mark.sandbox
def test_crud_round_trip(gcp_config: CloudConfig, pubsub: Any, unique: str) -> None:
    publisher, _ = pubsub
    adapter = PubSubTopic()
    project = gcp_config.settings["project"]
    spec = {"name": f"orders-{unique}", "labels": {"team": "shop"},
            "message_retention_duration": "86400s",
            "iam_bindings": {"roles/pubsub.publisher": ["user:b@example.com",
                                                        "serviceAccount:a@p.iam.gserviceaccount.com"]}}
    created = adapter.create(spec, gcp_config)
    path = f"projects/{project}/topics/orders-{unique}"
    props = created.properties
    assert created.id == path == props["full_name"]
    assert set(props) == SCHEMA.readable() - {"id"}
    assert json.loads(json.dumps(props)) == props
    assert props["iam_bindings"] == spec["iam_bindings"]  # the spec's order of a set
    direct = publisher.get_topic(request={"topic": path})
    assert dict(direct.labels) == {"team": "shop"}
    assert direct.message_retention_duration.total_seconds() == 86400
    policy = publisher.get_iam_policy(request={"resource": path})
    assert {b.role: sorted(b.members) for b in policy.bindings} == {
        "roles/pubsub.publisher": ["serviceAccount:a@p.iam.gserviceaccount.com",
                                   "user:b@example.com"]}
    assert adapter.read(created.id, props, gcp_config).properties == props  # type: ignore[union-attr]

    new = {**spec, "labels": {"team": "platform"}, "message_retention_duration": "3600s",
           "iam_bindings": {"roles/pubsub.subscriber": ["group:ops@example.com"]}}
    updated = adapter.update(created.id, props, new, gcp_config)
    assert updated.properties["labels"] == {"team": "platform"}
    direct = publisher.get_topic(request={"topic": path})
    assert dict(direct.labels) == {"team": "platform"}
    assert direct.message_retention_duration.total_seconds() == 3600
    policy = publisher.get_iam_policy(request={"resource": path})
    assert [(b.role, list(b.members)) for b in policy.bindings] == [
        ("roles/pubsub.subscriber", ["group:ops@example.com"])]

    renamed = {**new, "name": f"orders2-{unique}"}
    with pytest.raises(ProviderError, match="cannot update name in place"):
        adapter.update(created.id, updated.properties, renamed, gcp_config)
    adapter.delete(created.id, updated.properties, gcp_config)
    with pytest.raises(gx.NotFound):
        publisher.get_topic(request={"topic": path})
    replaced = adapter.create(renamed, gcp_config)
    assert publisher.get_topic(request={"topic": replaced.id}).name.endswith(f"orders2-{unique}")

    adapter.delete(replaced.id, replaced.properties, gcp_config)
    assert adapter.read(replaced.id, replaced.properties, gcp_config) is None
    names = [t.name for t in publisher.list_topics(request={"project": f"projects/{project}"})]
    assert replaced.id not in names
    adapter.delete(replaced.id, replaced.properties, gcp_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_errors_carry_the_code_and_never_adopt(gcp_config: CloudConfig, pubsub: Any,
                                               unique: str) -> None:
    publisher, _ = pubsub
    path = f"projects/{gcp_config.settings['project']}/topics/taken-{unique}"
    publisher.create_topic(request={"name": path, "labels": {"owner": "someone"}})
    with pytest.raises(CloudError) as info:
        PubSubTopic().create({"name": f"taken-{unique}", "labels": {"owner": "me"}}, gcp_config)
    assert info.value.message == (f"{path} (gcp:pubsub:Topic): GCP error 409 ALREADY_EXISTS: "
                                  "Topic already exists")
    assert dict(publisher.get_topic(request={"topic": path}).labels) == {"owner": "someone"}
    with pytest.raises(CloudError, match="INVALID_ARGUMENT: Invalid topic message_retention"):
        PubSubTopic().create({"name": f"short-{unique}", "message_retention_duration": "60s"},
                             gcp_config)


# -- retries and an idempotent create, on an in-memory client (no emulator) ------------

@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> FakePubSub:
    fake = FakePubSub()
    monkeypatch.setattr(session, "publisher_client", lambda config: fake)
    return fake


FAST = CloudConfig("gcp", {"project": "p"}, sandbox=True)   # the sandbox's short backoff


def test_throttling_and_unavailable_are_retried(flaky: FakePubSub) -> None:
    flaky.fail("create_topic", gx.TooManyRequests("slow down"))
    flaky.fail("create_topic", gx.ServiceUnavailable("try again"))
    flaky.fail("get_iam_policy", gx.ServiceUnavailable("try again"))
    created = PubSubTopic().create({"name": "t", "labels": {"a": "b"}}, FAST)
    assert created.id == "projects/p/topics/t" and created.properties["labels"] == {"a": "b"}
    assert flaky.calls.count("create_topic") == 3 and list(flaky.items) == [created.id]
    flaky.fail("delete_topic", gx.TooManyRequests("slow down"))
    PubSubTopic().delete(created.id, created.properties, FAST)
    assert flaky.items == {}


def test_a_create_whose_answer_was_lost_meets_its_own_topic(flaky: FakePubSub) -> None:
    flaky.fail("create_topic", gx.ServiceUnavailable("answer lost"), after=True)
    created = PubSubTopic().create({"name": "t"}, FAST)
    assert created.id == "projects/p/topics/t" and list(flaky.items) == [created.id]
    assert flaky.calls.count("create_topic") == 2      # the retry met ALREADY_EXISTS


def test_a_taken_name_is_refused_before_any_create(flaky: FakePubSub) -> None:
    flaky.items["projects/p/topics/t"] = object()
    with pytest.raises(CloudError, match="409 ALREADY_EXISTS"):
        PubSubTopic().create({"name": "t"}, FAST)
    assert "create_topic" not in flaky.calls


def test_a_create_that_cannot_be_read_back_is_undone(flaky: FakePubSub) -> None:
    flaky.fail("get_iam_policy", gx.PermissionDenied("no getIamPolicy"))
    with pytest.raises(CloudError, match="403"):
        PubSubTopic().create({"name": "t"}, FAST)
    assert flaky.items == {} and flaky.calls[-1] == "delete_topic"
