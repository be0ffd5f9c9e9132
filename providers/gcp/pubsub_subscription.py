"""``gcp:pubsub:Subscription``: a Pub/Sub subscription (google-cloud-pubsub).

The id is the subscription's full name ``projects/{project}/subscriptions/{name}``.
``name``, ``project``, ``topic``, ``filter`` and ``enable_message_ordering``
cannot change (the API refuses them in an update mask); the other properties
update in place through ``UpdateSubscription`` with a mask naming exactly the
changed fields. ``topic`` and ``dead_letter_topic`` take a topic id in the same
project or a full ``projects/P/topics/T`` name. An existing subscription is never
adopted: create reads first and refuses a name that is taken (``create_once``); a
retried ``CreateSubscription`` that meets ``ALREADY_EXISTS`` met its own first try.
If the read back after a create fails, the new subscription is deleted again
(``finish_create``). Every call retries throttling and transient errors
(``session.api_retry``). Each write is followed by a read.

API: https://cloud.google.com/pubsub/docs/reference/rpc/google.pubsub.v1#subscriber
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults
from providers.gcp import pubsub_limits as limits
from providers.gcp import session

TYPE = "gcp:pubsub:Subscription"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="gcp",
    read_back=True,                 # create and update end with a read
    terraform_type="google_pubsub_subscription",
    description="A Pub/Sub subscription to a topic.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="subscription id, 3-255 characters",
                               constraints=limits.ID),
        "project": PropertySchema("string", force_new=True,
                                  description="defaults to the gcp project"),
        "topic": PropertySchema("string", required=True, force_new=True,
                                description="topic id in the project, or projects/P/topics/T"),
        "ack_deadline_seconds": PropertySchema("integer", default=10,
                                               constraints=limits.ACK_DEADLINE),
        "message_retention_duration": PropertySchema(
            "string", default="604800s", description="\"600s\" to \"604800s\" (7 days)",
            constraints=limits.retention(limits.SUBSCRIPTION_DOCS)),
        "retain_acked_messages": PropertySchema("boolean", default=False),
        "labels": PropertySchema("map", items="string", constraints=limits.LABELS),
        "push_endpoint": PropertySchema("string", description="https URL for push delivery; "
                                                              "unset means pull"),
        "filter": PropertySchema("string", force_new=True,
                                 description="message filter on attributes"),
        "enable_message_ordering": PropertySchema("boolean", default=False, force_new=True),
        "dead_letter_topic": PropertySchema("string", description="topic for undeliverable "
                                                                  "messages"),
        "max_delivery_attempts": PropertySchema("integer",
                                                constraints=limits.DELIVERY_ATTEMPTS),
    },
    outputs={"full_name": "string", "topic_full_name": "string"},
)

MASK = {"ack_deadline_seconds": "ack_deadline_seconds",
        "message_retention_duration": "message_retention_duration",
        "retain_acked_messages": "retain_acked_messages", "labels": "labels",
        "push_endpoint": "push_config", "dead_letter_topic": "dead_letter_policy",
        "max_delivery_attempts": "dead_letter_policy"}


def topic_path(topic: str, project: str) -> str:
    return topic if topic.startswith("projects/") else f"projects/{project}/topics/{topic}"


def _as_written(live: str, written: Any, project: str) -> str:
    """``live`` (a full topic name) as the spec wrote it, when it names the same topic."""
    if isinstance(written, str) and written and topic_path(written, project) == live:
        return written
    return live


def _fields(values: Mapping[str, Any], project: str) -> dict[str, Any]:
    seconds = float(str(values["message_retention_duration"]).rstrip("s"))
    fields: dict[str, Any] = {
        "ack_deadline_seconds": int(values["ack_deadline_seconds"]),
        "message_retention_duration": {"seconds": int(seconds)},
        "retain_acked_messages": bool(values["retain_acked_messages"]),
        "labels": values["labels"] or {},
        "push_config": ({"push_endpoint": values["push_endpoint"]}
                        if values["push_endpoint"] else {}),
    }
    if values["dead_letter_topic"]:
        fields["dead_letter_policy"] = {
            "dead_letter_topic": topic_path(str(values["dead_letter_topic"]), project),
            "max_delivery_attempts": int(values["max_delivery_attempts"] or 5)}
    return fields


class PubSubSubscription:
    """CRUD for subscriptions through ``SubscriberClient``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props, {"project": session.project(config)})
        project = str(values["project"] or session.require_project(config, TYPE))
        path = f"projects/{project}/subscriptions/{values['name']}"
        request = {"name": path, "topic": topic_path(str(values["topic"]), project),
                   "filter": values["filter"] or "",
                   "enable_message_ordering": bool(values["enable_message_ordering"]),
                   **_fields(values, project)}
        retry = session.api_retry(config)
        with session.translate(TYPE, path, config):
            client = session.subscriber_client(config)
            create_once(
                lambda: client.create_subscription(request=request, retry=retry),
                exists=lambda: _exists(client, path, retry),
                conflict=session.is_already_exists, adopt=lambda: None,
                refuse=lambda: name_taken(
                    "GCP error 409 ALREADY_EXISTS: Subscription already exists",
                    what="subscription", name=path, resource_type=TYPE, cloud_id=path))

        def finish() -> ReadResult:
            with session.translate(TYPE, path, config):
                return _read(client, path, values, retry)

        return finish_create(finish, lambda: self.delete(path, values, config), resource=path,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The subscription ``projects/<project>/subscriptions/<name>`` (its natural key),
        if it exists."""
        if not props.get("name"):
            return None
        project = str(props.get("project") or session.require_project(config, TYPE))
        return self.read(f"projects/{project}/subscriptions/{props['name']}", props, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.subscriber_client(config)
            try:
                return _read(client, id, props, retry)
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(SCHEMA, old, new, {"project": session.project(config)},
                                    resource=id)
        project = id.split("/")[1]
        paths = sorted({MASK[n] for n in names if n in MASK})
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.subscriber_client(config)
            if paths:
                client.update_subscription(request={
                    "subscription": {"name": id, **_fields(values, project)},
                    "update_mask": {"paths": paths}}, retry=retry)
            return _read(client, id, values, retry)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.subscriber_client(config)
            session.found(lambda: client.delete_subscription(request={"subscription": id}, retry=retry))


def _exists(client: Any, path: str, retry: Any) -> bool:
    return session.found(lambda: client.get_subscription(request={"subscription": path}, retry=retry))


def _read(client: Any, path: str, written: Mapping[str, Any], retry: Any) -> ReadResult:
    sub = client.get_subscription(request={"subscription": path}, retry=retry)
    parts = str(sub.name).split("/")
    project = parts[1]
    dead_letter = sub.dead_letter_policy
    dead_topic = str(dead_letter.dead_letter_topic or "")
    return ReadResult(id=str(sub.name), properties={
        "name": parts[-1],
        "project": project,
        "topic": _as_written(str(sub.topic), written.get("topic"), project),
        "ack_deadline_seconds": int(sub.ack_deadline_seconds),
        "message_retention_duration": session.duration(sub.message_retention_duration),
        "retain_acked_messages": bool(sub.retain_acked_messages),
        "labels": dict(sub.labels),
        "push_endpoint": sub.push_config.push_endpoint or None,
        "filter": sub.filter or None,
        "enable_message_ordering": bool(sub.enable_message_ordering),
        "dead_letter_topic": (_as_written(dead_topic, written.get("dead_letter_topic"), project)
                              if dead_topic else None),
        "max_delivery_attempts": int(dead_letter.max_delivery_attempts) if dead_topic else None,
        "full_name": str(sub.name),
        "topic_full_name": str(sub.topic),
    })
