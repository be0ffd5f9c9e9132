"""``gcp:pubsub:Topic``: a Pub/Sub topic and its IAM bindings (google-cloud-pubsub).

The id is the topic's full name ``projects/{project}/topics/{name}``. ``name``
and ``project`` cannot change in place; ``labels``,
``message_retention_duration`` and ``allowed_persistence_regions`` update in
place through ``UpdateTopic`` with an update mask naming exactly the changed
fields; ``iam_bindings`` (role -> members) is the topic's whole IAM policy, set
with the etag read just before (``SetIamPolicy``), so a concurrent change is an
``ABORTED`` error rather than lost. An existing topic is never adopted: create
reads first and refuses a name that is taken (``create_once``); a retried
``CreateTopic`` that meets ``ALREADY_EXISTS`` met its own first try. A create is
all or nothing (``finish_create``): if setting the policy or reading back fails,
the new topic is deleted again. Every call retries throttling and transient
errors (``session.api_retry``). Each write is followed by a read of the topic and
its policy.

API: https://cloud.google.com/pubsub/docs/reference/rpc/google.pubsub.v1#publisher
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.constraints import Each, Pattern
from provision.errors import ProviderError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.base import create_once, finish_create, name_taken, plan_update, with_defaults
from providers.gcp import pubsub_limits as limits
from providers.gcp import session

TYPE = "gcp:pubsub:Topic"
IAM_DOCS = "https://cloud.google.com/pubsub/docs/access-control"
MEMBER = Pattern(r"allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|principal"
                 r"|principalSet):.+", "an IAM principal such as user:x@example.com, "
                 "serviceAccount:..., group:..., domain:..., allUsers", source=IAM_DOCS)

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="gcp",
    read_back=True,                 # create and update end with a read
    terraform_type="google_pubsub_topic",
    description="A Pub/Sub topic.",
    properties={
        "name": PropertySchema("string", required=True, force_new=True,
                               description="topic id, 3-255 characters", constraints=limits.ID),
        "project": PropertySchema("string", force_new=True,
                                  description="defaults to the gcp project"),
        "labels": PropertySchema("map", items="string", constraints=limits.LABELS),
        "message_retention_duration": PropertySchema(
            "string", description="how long published messages are kept, \"600s\" to "
                                  "\"2678400s\" (31 days)",
            constraints=limits.retention(limits.TOPIC_RETENTION_DOCS)),
        "allowed_persistence_regions": PropertySchema(
            "list", description="regions where messages may be stored"),
        "iam_bindings": PropertySchema(
            "map", description="role -> list of members, the topic's whole IAM policy",
            constraints=(Each((Each((MEMBER,)),)),)),
    },
    outputs={"full_name": "string"},
)

MASK = {"labels": "labels", "message_retention_duration": "message_retention_duration",
        "allowed_persistence_regions": "message_storage_policy"}


def _project(values: Mapping[str, Any], config: CloudConfig) -> str:
    return str(values.get("project") or session.require_project(config, TYPE))


def full_name(project: str, name: str) -> str:
    return f"projects/{project}/topics/{name}"


def _topic_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"labels": values["labels"] or {}}
    if values["message_retention_duration"]:
        seconds = float(str(values["message_retention_duration"]).rstrip("s"))
        fields["message_retention_duration"] = {"seconds": int(seconds)}
    if values["allowed_persistence_regions"]:
        fields["message_storage_policy"] = {
            "allowed_persistence_regions": list(values["allowed_persistence_regions"])}
    return fields


def _members(value: Any, name: str) -> dict[str, list[str]]:
    bindings: dict[str, list[str]] = {}
    for role, members in (value or {}).items():
        if not isinstance(members, list):
            raise ProviderError(f"iam_bindings['{role}'] must be a list of members",
                                resource=name, resource_type=TYPE)
        bindings[str(role)] = sorted(str(m) for m in members)
    return bindings


class PubSubTopic:
    """CRUD for topics through ``PublisherClient``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props, {"project": session.project(config)})
        path = full_name(_project(values, config), str(values["name"]))
        bindings = _members(values["iam_bindings"], path)
        retry = session.api_retry(config)
        with session.translate(TYPE, path, config):
            client = session.publisher_client(config)
            create_once(
                lambda: client.create_topic(request={"name": path, **_topic_fields(values)},
                                            retry=retry),
                exists=lambda: _exists(client, path, retry),
                conflict=session.is_already_exists, adopt=lambda: None,
                refuse=lambda: name_taken(
                    "GCP error 409 ALREADY_EXISTS: Topic already exists", what="topic",
                    name=path, resource_type=TYPE, cloud_id=path))

        def finish() -> ReadResult:
            with session.translate(TYPE, path, config):
                if bindings:
                    _set_policy(client, path, bindings, retry)
                return _read(client, path, values["iam_bindings"], retry)

        return finish_create(finish, lambda: self.delete(path, values, config), resource=path,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The topic ``projects/<project>/topics/<name>`` (its natural key), if it exists."""
        if not props.get("name"):
            return None
        return self.read(full_name(_project(props, config), str(props["name"])), props, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.publisher_client(config)
            try:
                return _read(client, id, props.get("iam_bindings"), retry)
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        defaults = {"project": session.project(config)}
        values, names = plan_update(SCHEMA, old, new, defaults, resource=id)
        paths = sorted({MASK[n] for n in names if n in MASK})
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.publisher_client(config)
            if paths:
                client.update_topic(request={"topic": {"name": id, **_topic_fields(values)},
                                             "update_mask": {"paths": paths}}, retry=retry)
            if "iam_bindings" in names:
                _set_policy(client, id, _members(values["iam_bindings"], id), retry)
            return _read(client, id, values["iam_bindings"], retry)

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.publisher_client(config)
            session.found(lambda: client.delete_topic(request={"topic": id}, retry=retry))


def _exists(client: Any, path: str, retry: Any) -> bool:
    return session.found(lambda: client.get_topic(request={"topic": path}, retry=retry))


def _set_policy(client: Any, path: str, bindings: dict[str, list[str]], retry: Any) -> None:
    current = client.get_iam_policy(request={"resource": path}, retry=retry)
    client.set_iam_policy(request={"resource": path, "policy": {
        "etag": current.etag,
        "bindings": [{"role": role, "members": members}
                     for role, members in sorted(bindings.items()) if members]}}, retry=retry)


def _in_order(live: dict[str, list[str]], wanted: Any) -> dict[str, list[str]]:
    """Members are a set: keep the order the spec wrote them in when the sets agree."""
    if not isinstance(wanted, Mapping):
        return live
    ordered = {}
    for role, members in live.items():
        listed = wanted.get(role)
        same = isinstance(listed, list) and sorted(map(str, listed)) == sorted(members)
        ordered[role] = [str(m) for m in listed] if same else members  # type: ignore[union-attr]
    return ordered


def _read(client: Any, path: str, wanted: Any, retry: Any) -> ReadResult:
    topic = client.get_topic(request={"topic": path}, retry=retry)
    policy = client.get_iam_policy(request={"resource": path}, retry=retry)
    parts = str(topic.name).split("/")
    storage = topic.message_storage_policy
    return ReadResult(id=str(topic.name), properties={
        "name": parts[-1],
        "project": parts[1],
        "labels": dict(topic.labels),
        "message_retention_duration": session.duration(topic.message_retention_duration),
        "allowed_persistence_regions": list(storage.allowed_persistence_regions),
        "iam_bindings": _in_order({b.role: sorted(b.members) for b in policy.bindings}, wanted),
        "full_name": str(topic.name),
    })
