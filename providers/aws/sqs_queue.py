"""``aws:sqs:Queue``: an SQS queue with its attributes and tags.

The id is the queue URL (as in Terraform). ``name``/``name_prefix`` and
``fifo_queue`` force a new queue (SQS cannot turn a queue into a FIFO queue); a
FIFO queue's name ends with ``.fifo`` (added to a ``name_prefix`` name). The other
attributes are Terraform's names for SetQueueAttributes keys and are updated in
place; one the spec leaves unset is left as SQS has it. CreateQueue answers an
existing name with that queue, so create reads first and refuses a name that is taken. ``policy`` and
``redrive_policy`` are JSON documents, given as a map or as JSON text.

Limits: CreateQueue (a name of 1-80 characters of ``[A-Za-z0-9_-]``, ``.fifo`` ending
for FIFO queues) and SetQueueAttributes (DelaySeconds 0-900, MaximumMessageSize
1024-1048576 bytes, MessageRetentionPeriod 60-1209600 s, ReceiveMessageWaitTimeSeconds
0-20, VisibilityTimeout 0-43200; ContentBasedDeduplication only for FIFO queues).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from provision.constraints import JsonDocument, Length, Pattern, Range, Related, Violation, When
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.aws import common, limits, session
from providers.base import finish_create, name_taken, plan_update, with_defaults

TYPE = "aws:sqs:Queue"

CREATE_QUEUE = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"
SET_ATTRIBUTES = ("https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
                  "API_SetQueueAttributes.html")

NOT_FOUND = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})

_NAME = (Length(1, 80, source=CREATE_QUEUE),
         Pattern(r"[A-Za-z0-9_-]+(\.fifo)?", "letters, digits, _ and - (and a .fifo ending)",
                 source=CREATE_QUEUE))

# property -> (SQS attribute, kind) for the attributes managed in place.
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "visibility_timeout_seconds": ("VisibilityTimeout", "integer"),
    "message_retention_seconds": ("MessageRetentionPeriod", "integer"),
    "delay_seconds": ("DelaySeconds", "integer"),
    "max_message_size": ("MaximumMessageSize", "integer"),
    "receive_wait_time_seconds": ("ReceiveMessageWaitTimeSeconds", "integer"),
    "content_based_deduplication": ("ContentBasedDeduplication", "boolean"),
    "sqs_managed_sse_enabled": ("SqsManagedSseEnabled", "boolean"),
    "kms_master_key_id": ("KmsMasterKeyId", "string"),
    "policy": ("Policy", "json"),
    "redrive_policy": ("RedrivePolicy", "json"),
}


@dataclass(frozen=True)
class FifoName:
    """A FIFO queue's ``name`` ends with ``.fifo``, and only a FIFO queue's does."""

    source: str = CREATE_QUEUE

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        name, fifo = props.get("name"), props.get("fifo_queue")
        if not isinstance(name, str) or not isinstance(fifo, bool):
            return []
        if fifo != name.endswith(".fifo"):
            return [Violation("a FIFO queue's name must end with .fifo" if fifo else
                              "only a FIFO queue's name may end with .fifo (set fifo_queue)",
                              "name", self.source)]
        return []


def _seconds(low: int, high: int) -> tuple[Range]:
    return (Range(low, high, source=SET_ATTRIBUTES),)


SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="aws",
    read_back=True,                 # create and update end with a read
    terraform_type="aws_sqs_queue",
    description="An SQS queue.",
    properties={
        **common.name_properties("queue", 80, _NAME, CREATE_QUEUE),
        "fifo_queue": PropertySchema("boolean", default=False, force_new=True,
                                     description="a FIFO queue (name ends with .fifo)"),
        "visibility_timeout_seconds": PropertySchema("integer", constraints=_seconds(0, 43200)),
        "message_retention_seconds": PropertySchema("integer",
                                                    constraints=_seconds(60, 1209600)),
        "delay_seconds": PropertySchema("integer", constraints=_seconds(0, 900)),
        "max_message_size": PropertySchema("integer", description="bytes",
                                           constraints=_seconds(1024, 1048576)),
        "receive_wait_time_seconds": PropertySchema("integer", constraints=_seconds(0, 20)),
        "content_based_deduplication": PropertySchema("boolean", description="FIFO only"),
        "sqs_managed_sse_enabled": PropertySchema("boolean",
                                                  description="SSE with SQS-owned keys"),
        "kms_master_key_id": PropertySchema("string", description="SSE with this KMS key"),
        "policy": PropertySchema("json", description="the access policy (map or JSON text)",
                                 constraints=(JsonDocument(source=SET_ATTRIBUTES),)),
        "redrive_policy": PropertySchema(
            "json", description="{deadLetterTargetArn, maxReceiveCount} (map or JSON text)",
            constraints=(JsonDocument(source=SET_ATTRIBUTES),)),
        "tags": PropertySchema(
            "map", items="string", description="resource tags", constraints=limits.TAGS),
    },
    outputs={"arn": "string", "url": "string"},
    rules=(*common.NAME_RULES,
           When("fifo_queue", False, forbids=("content_based_deduplication",),
                source=SET_ATTRIBUTES),
           FifoName()),
)


def _same_json(value: Any) -> Any:
    return json.dumps(common.policy_document(value, "policy", "", TYPE), sort_keys=True)


def _encode(prop: str, value: Any) -> str:
    kind = ATTRIBUTES[prop][1]
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "json":
        return json.dumps(common.policy_document(value, prop, "", TYPE))
    return common.text(value)  # the engine hands numbers over as floats (60.0)


def _decode(prop: str, raw: str, recorded: Any) -> Any:
    kind = ATTRIBUTES[prop][1]
    if kind == "integer":
        return int(raw)
    if kind == "boolean":
        return raw.lower() == "true"
    if kind == "json":
        return common.as_recorded(json.loads(raw), recorded, _same_json)
    return raw


def queue_name(values: Mapping[str, Any]) -> str:
    """The physical name: ``name``, or ``name_prefix``, a suffix and ``.fifo`` for FIFO."""
    return common.physical_name(values, TYPE, keep=".fifo" if values.get("fifo_queue") else "")


def _url(sqs: Any, name: str) -> str | None:
    """The URL of the queue named ``name``; None if there is none."""
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception as exc:
        if session.error_code(exc) in NOT_FOUND:
            return None
        raise


class SqsQueue:
    """CRUD for SQS queues through boto3."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(SCHEMA, props)
        name = queue_name(values)
        sqs = session.client("sqs", config)
        with session.translate(TYPE, name, config):
            # CreateQueue answers a name that exists with that queue (same attributes) or
            # QueueAlreadyExists: never adopt a queue this resource did not make.
            existing = _url(sqs, name)
            if existing is not None:
                raise name_taken("AWS error QueueAlreadyExists: the queue already exists",
                                 what="queue", name=name, resource_type=TYPE, cloud_id=existing)
            attributes = {api: _encode(prop, values[prop]) for prop, (api, _) in ATTRIBUTES.items()
                          if values[prop] is not None}
            if values["fifo_queue"]:
                attributes["FifoQueue"] = "true"
            params: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
            if values["tags"]:
                params["tags"] = {str(k): common.text(v) for k, v in values["tags"].items()}
            url = str(sqs.create_queue(**params)["QueueUrl"])

        def finish() -> ReadResult:
            return common.must_exist(self.read(url, {**values, "name": name}, config),
                                     url, TYPE, "create")

        return finish_create(finish, lambda: sqs.delete_queue(QueueUrl=url), resource=url,
                             resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The queue with the physical name the planned inputs give (its natural key)."""
        values = with_defaults(SCHEMA, props)
        name = queue_name(values)
        sqs = session.client("sqs", config)
        with session.translate(TYPE, name, config):
            url = _url(sqs, name)
        return None if url is None else self.read(url, {**values, "name": name}, config)

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        sqs = session.client("sqs", config)
        with session.translate(TYPE, id, config):
            try:
                live = sqs.get_queue_attributes(QueueUrl=id, AttributeNames=["All"])["Attributes"]
                tags = sqs.list_queue_tags(QueueUrl=id).get("Tags") or {}
            except Exception as exc:
                if session.error_code(exc) in NOT_FOUND:
                    return None
                raise
        arn = str(live.get("QueueArn", ""))
        properties: dict[str, Any] = {
            "name": arn.rsplit(":", 1)[-1] or id.rstrip("/").rsplit("/", 1)[-1],
            "name_prefix": props.get("name_prefix"),
            "fifo_queue": live.get("FifoQueue", "false").lower() == "true",
            **{prop: (_decode(prop, live[api], props.get(prop)) if api in live else None)
               for prop, (api, _) in ATTRIBUTES.items()},
            "tags": {str(k): str(v) for k, v in tags.items()},
            "arn": arn,
            "url": id,
        }
        return ReadResult(id=id, properties=properties)

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        desired = common.named(new, str(old.get("name") or ""))
        values, names = plan_update(SCHEMA, old, desired, resource=id)
        sqs = session.client("sqs", config)
        with session.translate(TYPE, id, config):
            changed = {ATTRIBUTES[p][0]: _encode(p, values[p]) for p in names
                       if p in ATTRIBUTES and values[p] is not None}
            if changed:
                sqs.set_queue_attributes(QueueUrl=id, Attributes=changed)
            if "tags" in names:
                put, remove = common.tag_changes(old.get("tags"), values["tags"])
                if remove:
                    sqs.untag_queue(QueueUrl=id, TagKeys=remove)
                if put:
                    sqs.tag_queue(QueueUrl=id, Tags=put)
        return common.must_exist(self.read(id, values, config), id, TYPE, "update")

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        sqs = session.client("sqs", config)
        with session.translate(TYPE, id, config):
            try:
                sqs.delete_queue(QueueUrl=id)
            except Exception as exc:
                if session.error_code(exc) not in NOT_FOUND:
                    raise
