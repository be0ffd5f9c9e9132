"""In-memory state and rules of the Pub/Sub emulator (``google.pubsub.v1``), SDK-free.

Topics, subscriptions and their IAM policies per project, kept as plain
dictionaries in the API's field names (``messageRetentionDuration`` as seconds).
The rules are the public API's (cloud.google.com/pubsub/docs, "Resource names",
"Subscription properties", and the ``google.pubsub.v1`` reference):

- topic and subscription ids: 3-255 characters, starting with a letter, of letters,
  digits and ``-_.~+%``, not starting with ``goog``;
- ``ack_deadline_seconds`` 10-600 (0 means the default 10); subscription
  retention 10 minutes to 7 days (default 7 days); topic retention 10 minutes to
  31 days;
- an update needs a non-empty ``update_mask`` naming known, mutable fields;
  ``topic``, ``filter`` and ``enable_message_ordering`` of a subscription never change;
- deleting a topic leaves its subscriptions pointing at ``_deleted-topic_``.

Errors are :class:`ApiError` with the canonical gRPC status names the real
service uses (``INVALID_ARGUMENT``, ``NOT_FOUND``, ``ALREADY_EXISTS``,
``FAILED_PRECONDITION``, ``ABORTED``).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

ID = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$")
NAME_HELP = "https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names"
LABEL_KEY = re.compile(r"^[\w-]{0,63}$")
DELETED_TOPIC = "_deleted-topic_"
MINUTE, DAY = 60, 86400
TOPIC_RETENTION = (10 * MINUTE, 31 * DAY)
SUBSCRIPTION_RETENTION = (10 * MINUTE, 7 * DAY)
TOPIC_FIELDS = frozenset({"labels", "message_storage_policy", "message_retention_duration",
                          "kms_key_name", "schema_settings"})
SUBSCRIPTION_FIELDS = frozenset({
    "push_config", "ack_deadline_seconds", "retain_acked_messages",
    "message_retention_duration", "labels", "expiration_policy", "dead_letter_policy",
    "retry_policy", "enable_exactly_once_delivery"})
SUBSCRIPTION_FIXED = frozenset({"topic", "filter", "enable_message_ordering", "name"})


class ApiError(Exception):
    """A failed call: the gRPC status name and the service's message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad_name(name: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", f"Invalid resource name given (name={name}). Refer to "
                                        f"{NAME_HELP} for more information.")


def parse(name: str, collection: str) -> tuple[str, str]:
    """``projects/P/{collection}/ID`` -> (P, ID), checking the id rules."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != collection or not parts[1]:
        raise _bad_name(name)
    if not ID.match(parts[3]) or parts[3].lower().startswith("goog"):
        raise _bad_name(name)
    return parts[1], parts[3]


def check_labels(labels: dict[str, str]) -> None:
    if len(labels) > 64:
        raise ApiError("INVALID_ARGUMENT", "A resource can have at most 64 labels.")
    for key, value in labels.items():
        if not key or not key[0].islower() or not LABEL_KEY.match(key) or key != key.lower():
            raise ApiError("INVALID_ARGUMENT",
                           f"Invalid label key '{key}': keys are 1-63 lowercase letters, digits, "
                           "underscores or dashes and start with a lowercase letter.")
        if not LABEL_KEY.match(value) or value != value.lower():
            raise ApiError("INVALID_ARGUMENT",
                           f"Invalid label value '{value}' for key '{key}': values are at most "
                           "63 lowercase letters, digits, underscores or dashes.")


def check_retention(seconds: float, bounds: tuple[int, int], what: str) -> None:
    if not bounds[0] <= seconds <= bounds[1]:
        raise ApiError("INVALID_ARGUMENT",
                       f"Invalid {what} message_retention_duration: must be between "
                       f"{bounds[0] // MINUTE} minutes and {bounds[1] // DAY} days.")


def check_ack_deadline(seconds: int) -> None:
    if seconds and not 10 <= seconds <= 600:
        raise ApiError("INVALID_ARGUMENT",
                       f"Invalid ack_deadline_seconds {seconds}: must be between 10 and 600.")


@dataclass
class Policy:
    """An IAM policy: ``bindings`` as role -> members, and an etag per version."""

    bindings: dict[str, list[str]] = field(default_factory=dict)
    etag: bytes = field(default_factory=lambda: uuid.uuid4().bytes[:8])


class PubSubStore:
    """All state of one emulator process; callers hold ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.topics: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, Policy] = {}

    # -- topics ----------------------------------------------------------------------
    def create_topic(self, topic: dict[str, Any]) -> dict[str, Any]:
        name = str(topic.get("name") or "")
        parse(name, "topics")
        if name in self.topics:
            raise ApiError("ALREADY_EXISTS", "Topic already exists")
        self._check_topic(topic)
        self.topics[name] = topic
        return topic

    def _check_topic(self, topic: dict[str, Any]) -> None:
        check_labels(topic.get("labels") or {})
        retention = topic.get("message_retention_duration")
        if retention:
            check_retention(retention, TOPIC_RETENTION, "topic")

    def topic(self, name: str) -> dict[str, Any]:
        parse(name, "topics")
        found = self.topics.get(name)
        if found is None:
            raise ApiError("NOT_FOUND", f"Resource not found (resource={name.split('/')[-1]}).")
        return found

    def update_topic(self, topic: dict[str, Any], mask: list[str]) -> dict[str, Any]:
        current = self.topic(str(topic.get("name") or ""))
        if not mask:
            raise ApiError("INVALID_ARGUMENT", "The update_mask in the UpdateTopicRequest must "
                                               "be set, and must be non-empty.")
        unknown = [p for p in mask if p.split(".")[0] not in TOPIC_FIELDS]
        if unknown:
            raise ApiError("INVALID_ARGUMENT", f"Invalid update_mask provided in the "
                                               f"UpdateTopicRequest: '{unknown[0]}' is not a "
                                               "known Topic field.")
        updated = dict(current)
        for path in mask:
            key = path.split(".")[0]
            updated[key] = topic.get(key)
        self._check_topic(updated)
        self.topics[current["name"]] = updated
        return updated

    def delete_topic(self, name: str) -> None:
        self.topic(name)
        del self.topics[name]
        self.policies.pop(name, None)
        for sub in self.subscriptions.values():
            if sub.get("topic") == name:
                sub["topic"] = DELETED_TOPIC

    def list_topics(self, project: str) -> list[dict[str, Any]]:
        return [t for n, t in sorted(self.topics.items()) if n.split("/")[1] == project]

    def topic_subscriptions(self, name: str) -> list[str]:
        self.topic(name)
        return sorted(n for n, s in self.subscriptions.items() if s.get("topic") == name)

    # -- subscriptions -----------------------------------------------------------------
    def create_subscription(self, sub: dict[str, Any]) -> dict[str, Any]:
        name = str(sub.get("name") or "")
        parse(name, "subscriptions")
        topic = str(sub.get("topic") or "")
        parse(topic, "topics")
        if topic not in self.topics:
            raise ApiError("NOT_FOUND", f"Resource not found (resource={topic.split('/')[-1]}).")
        if name in self.subscriptions:
            raise ApiError("ALREADY_EXISTS", "Subscription already exists")
        sub = dict(sub)
        sub["ack_deadline_seconds"] = sub.get("ack_deadline_seconds") or 10
        sub["message_retention_duration"] = sub.get("message_retention_duration") or 7 * DAY
        self._check_subscription(sub)
        self.subscriptions[name] = sub
        return sub

    def _check_subscription(self, sub: dict[str, Any]) -> None:
        check_ack_deadline(int(sub.get("ack_deadline_seconds") or 0))
        check_retention(sub["message_retention_duration"], SUBSCRIPTION_RETENTION,
                        "subscription")
        check_labels(sub.get("labels") or {})
        dead_letter = sub.get("dead_letter_policy") or {}
        if dead_letter.get("dead_letter_topic"):
            parse(str(dead_letter["dead_letter_topic"]), "topics")
            attempts = dead_letter.get("max_delivery_attempts") or 5
            if not 5 <= attempts <= 100:
                raise ApiError("INVALID_ARGUMENT", "Invalid max_delivery_attempts: must be "
                                                   "between 5 and 100.")

    def subscription(self, name: str) -> dict[str, Any]:
        parse(name, "subscriptions")
        found = self.subscriptions.get(name)
        if found is None:
            raise ApiError("NOT_FOUND", f"Resource not found (resource={name.split('/')[-1]}).")
        return found

    def update_subscription(self, sub: dict[str, Any], mask: list[str]) -> dict[str, Any]:
        current = self.subscription(str(sub.get("name") or ""))
        if not mask:
            raise ApiError("INVALID_ARGUMENT", "The update_mask in the UpdateSubscriptionRequest "
                                               "must be set, and must be non-empty.")
        for path in mask:
            key = path.split(".")[0]
            if key in SUBSCRIPTION_FIXED:
                raise ApiError("INVALID_ARGUMENT", f"Invalid update_mask provided in the "
                                                   f"UpdateSubscriptionRequest: the '{key}' "
                                                   "field cannot be updated.")
            if key not in SUBSCRIPTION_FIELDS:
                raise ApiError("INVALID_ARGUMENT", f"Invalid update_mask provided in the "
                                                   f"UpdateSubscriptionRequest: '{path}' is not "
                                                   "a known Subscription field.")
        updated = dict(current)
        for path in mask:
            key = path.split(".")[0]
            updated[key] = sub.get(key)
        updated["ack_deadline_seconds"] = updated.get("ack_deadline_seconds") or 10
        updated["message_retention_duration"] = (updated.get("message_retention_duration")
                                                 or 7 * DAY)
        self._check_subscription(updated)
        self.subscriptions[current["name"]] = updated
        return updated

    def delete_subscription(self, name: str) -> None:
        self.subscription(name)
        del self.subscriptions[name]
        self.policies.pop(name, None)

    def list_subscriptions(self, project: str) -> list[dict[str, Any]]:
        return [s for n, s in sorted(self.subscriptions.items()) if n.split("/")[1] == project]

    # -- IAM ---------------------------------------------------------------------------
    def _resource(self, name: str) -> None:
        if "/topics/" in name:
            self.topic(name)
        else:
            self.subscription(name)

    def get_policy(self, name: str) -> Policy:
        self._resource(name)
        return self.policies.get(name) or Policy(etag=b"\x00")

    def set_policy(self, name: str, bindings: dict[str, list[str]], etag: bytes) -> Policy:
        self._resource(name)
        current = self.policies.get(name)
        if etag and current is not None and etag != current.etag:
            raise ApiError("ABORTED", "There were concurrent policy changes. Please retry the "
                                      "whole read-modify-write with exponential backoff.")
        for role, members in bindings.items():
            if not role.startswith("roles/"):
                raise ApiError("INVALID_ARGUMENT", f"Role {role} is not a valid role.")
            for member in members:
                if member not in ("allUsers", "allAuthenticatedUsers") and \
                        not re.match(r"^(user|serviceAccount|group|domain|principal"
                                     r"|principalSet):.+", member):
                    raise ApiError("INVALID_ARGUMENT", f"Invalid member: {member}.")
        policy = Policy({r: sorted(set(m)) for r, m in bindings.items() if m})
        self.policies[name] = policy
        return policy
