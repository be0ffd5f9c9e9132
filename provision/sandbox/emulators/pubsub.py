"""A local Pub/Sub emulator speaking ``google.pubsub.v1`` over gRPC, as the SDK does.

Google's own Pub/Sub emulator ships only with the gcloud SDK, which no package
registry this project installs from carries, so the sandbox runs this one. It
serves the admin surface of the ``Publisher`` and ``Subscriber`` services
(topics and subscriptions: create, get, update with an update mask, list,
delete) and ``google.iam.v1.IAMPolicy`` (get/set/test) on the same port, with
the message types of google-cloud-pubsub itself, so every request and answer is
the SDK's own wire format. Rules and error codes are in :mod:`pubsub_store`.
Other methods answer ``UNIMPLEMENTED``. Plaintext, 127.0.0.1 only, as Google's
emulator (``PUBSUB_EMULATOR_HOST``).

This module runs in its own process (``python -m``); the core never imports it.

    python -m provision.sandbox.emulators.pubsub --port 8085
"""

from __future__ import annotations

import argparse
import sys
from concurrent import futures
from typing import Any, Callable

from provision.sandbox.emulators.pubsub_store import ApiError, PubSubStore

HOST = "127.0.0.1"
DURATIONS = ("message_retention_duration", "topic_message_retention_duration")


def _seconds(text: str) -> float:
    return float(text.rstrip("s"))


def _to_store(message: Any) -> dict[str, Any]:
    """A proto-plus message as the store's dict: proto field names, durations in seconds."""
    data: dict[str, Any] = type(message).to_dict(message, preserving_proto_field_name=True)
    for key in DURATIONS:
        if isinstance(data.get(key), str):
            data[key] = _seconds(data[key])
    return {k: v for k, v in data.items() if v not in (None, "", {}, [], 0, False)}


def _from_store(cls: Any, data: dict[str, Any]) -> Any:
    from google.protobuf import json_format

    wire = dict(data)
    for key in DURATIONS:
        if wire.get(key):
            wire[key] = f"{wire[key]:g}s"
    message = cls()
    json_format.ParseDict(wire, cls.pb(message), ignore_unknown_fields=True)
    return message


class Servicer:
    """The RPC handlers; each takes a request message and returns a response message."""

    def __init__(self, store: PubSubStore) -> None:
        self.store = store

    def handlers(self) -> list[Any]:
        import grpc
        from google.iam.v1 import iam_policy_pb2, policy_pb2
        from google.protobuf import empty_pb2
        from google.pubsub_v1 import types as t

        def unary(fn: Callable[[Any], Any], request: Any, response: Any) -> Any:
            def call(message: Any, context: Any) -> Any:
                try:
                    with self.store.lock:
                        return fn(message)
                except ApiError as exc:
                    context.abort(getattr(grpc.StatusCode, exc.status), exc.message)

            # proto-plus classes (the SDK's types) or plain protobuf classes (IAM, Empty)
            return grpc.unary_unary_rpc_method_handler(
                call,
                request_deserializer=getattr(request, "deserialize", None) or request.FromString,
                response_serializer=(getattr(response, "serialize", None)
                                     or response.SerializeToString))

        empty = empty_pb2.Empty
        publisher = {
            "CreateTopic": unary(self.create_topic, t.Topic, t.Topic),
            "GetTopic": unary(self.get_topic, t.GetTopicRequest, t.Topic),
            "UpdateTopic": unary(self.update_topic, t.UpdateTopicRequest, t.Topic),
            "DeleteTopic": unary(self.delete_topic, t.DeleteTopicRequest, empty),
            "ListTopics": unary(self.list_topics, t.ListTopicsRequest, t.ListTopicsResponse),
            "ListTopicSubscriptions": unary(self.topic_subscriptions,
                                            t.ListTopicSubscriptionsRequest,
                                            t.ListTopicSubscriptionsResponse),
        }
        subscriber = {
            "CreateSubscription": unary(self.create_subscription, t.Subscription,
                                        t.Subscription),
            "GetSubscription": unary(self.get_subscription, t.GetSubscriptionRequest,
                                     t.Subscription),
            "UpdateSubscription": unary(self.update_subscription, t.UpdateSubscriptionRequest,
                                        t.Subscription),
            "DeleteSubscription": unary(self.delete_subscription, t.DeleteSubscriptionRequest,
                                        empty),
            "ListSubscriptions": unary(self.list_subscriptions, t.ListSubscriptionsRequest,
                                       t.ListSubscriptionsResponse),
        }
        iam = {
            "GetIamPolicy": unary(self.get_policy, iam_policy_pb2.GetIamPolicyRequest,
                                  policy_pb2.Policy),
            "SetIamPolicy": unary(self.set_policy, iam_policy_pb2.SetIamPolicyRequest,
                                  policy_pb2.Policy),
            "TestIamPermissions": unary(self.test_permissions,
                                        iam_policy_pb2.TestIamPermissionsRequest,
                                        iam_policy_pb2.TestIamPermissionsResponse),
        }
        return [grpc.method_handlers_generic_handler("google.pubsub.v1.Publisher", publisher),
                grpc.method_handlers_generic_handler("google.pubsub.v1.Subscriber", subscriber),
                grpc.method_handlers_generic_handler("google.iam.v1.IAMPolicy", iam)]

    # -- Publisher -------------------------------------------------------------------
    def create_topic(self, topic: Any) -> Any:
        return _from_store(type(topic), self.store.create_topic(_to_store(topic)))

    def get_topic(self, request: Any) -> Any:
        from google.pubsub_v1.types import Topic

        return _from_store(Topic, self.store.topic(request.topic))

    def update_topic(self, request: Any) -> Any:
        from google.pubsub_v1.types import Topic

        updated = self.store.update_topic(_to_store(request.topic),
                                          list(request.update_mask.paths))
        return _from_store(Topic, updated)

    def delete_topic(self, request: Any) -> Any:
        from google.protobuf import empty_pb2

        self.store.delete_topic(request.topic)
        return empty_pb2.Empty()

    def list_topics(self, request: Any) -> Any:
        from google.pubsub_v1.types import ListTopicsResponse, Topic

        project = str(request.project).split("/")[-1]
        return ListTopicsResponse(topics=[_from_store(Topic, t)
                                          for t in self.store.list_topics(project)])

    def topic_subscriptions(self, request: Any) -> Any:
        from google.pubsub_v1.types import ListTopicSubscriptionsResponse

        return ListTopicSubscriptionsResponse(
            subscriptions=self.store.topic_subscriptions(request.topic))

    # -- Subscriber --------------------------------------------------------------------
    def create_subscription(self, sub: Any) -> Any:
        return _from_store(type(sub), self.store.create_subscription(_to_store(sub)))

    def get_subscription(self, request: Any) -> Any:
        from google.pubsub_v1.types import Subscription

        return _from_store(Subscription, self.store.subscription(request.subscription))

    def update_subscription(self, request: Any) -> Any:
        from google.pubsub_v1.types import Subscription

        updated = self.store.update_subscription(_to_store(request.subscription),
                                                 list(request.update_mask.paths))
        return _from_store(Subscription, updated)

    def delete_subscription(self, request: Any) -> Any:
        from google.protobuf import empty_pb2

        self.store.delete_subscription(request.subscription)
        return empty_pb2.Empty()

    def list_subscriptions(self, request: Any) -> Any:
        from google.pubsub_v1.types import ListSubscriptionsResponse, Subscription

        project = str(request.project).split("/")[-1]
        return ListSubscriptionsResponse(subscriptions=[
            _from_store(Subscription, s) for s in self.store.list_subscriptions(project)])

    # -- IAMPolicy ---------------------------------------------------------------------
    def get_policy(self, request: Any) -> Any:
        return _policy(self.store.get_policy(request.resource))

    def set_policy(self, request: Any) -> Any:
        bindings: dict[str, list[str]] = {}
        for binding in request.policy.bindings:
            bindings.setdefault(binding.role, []).extend(binding.members)
        return _policy(self.store.set_policy(request.resource, bindings, request.policy.etag))

    def test_permissions(self, request: Any) -> Any:
        from google.iam.v1 import iam_policy_pb2

        self.store.get_policy(request.resource)  # NOT_FOUND for a missing resource
        return iam_policy_pb2.TestIamPermissionsResponse(permissions=list(request.permissions))


def _policy(policy: Any) -> Any:
    from google.iam.v1 import policy_pb2

    return policy_pb2.Policy(version=1, etag=policy.etag, bindings=[
        policy_pb2.Binding(role=role, members=members)
        for role, members in sorted(policy.bindings.items())])


def main(argv: list[str] | None = None) -> None:
    import grpc

    parser = argparse.ArgumentParser(description="Pub/Sub emulator (gRPC)")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(Servicer(PubSubStore()).handlers())
    if server.add_insecure_port(f"{HOST}:{args.port}") == 0:
        sys.exit(f"cannot bind {HOST}:{args.port}")
    server.start()
    print(f"Pub/Sub emulator listening on {HOST}:{args.port}", file=sys.stderr, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=1)


if __name__ == "__main__":
    main()
