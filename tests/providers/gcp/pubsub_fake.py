"""An in-memory Pub/Sub client for adapter unit tests: topics and subscriptions by full
name, with faults injected per method that run through the ``retry`` the adapter
passes, as a real google-cloud-pubsub client does.

``fail(method, exc)`` makes the next call of ``method`` raise ``exc`` before doing
anything; ``fail(method, exc, after=True)`` does the work first and then raises (the
cloud did it, the answer was lost). ``calls`` lists every attempt's method name.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

from google.api_core import exceptions as gx


class FakePubSub:
    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.calls: list[str] = []
        self._faults: dict[str, list[tuple[Exception, bool]]] = {}

    def fail(self, method: str, exc: Exception, *, after: bool = False) -> None:
        self._faults.setdefault(method, []).append((exc, after))

    def _run(self, method: str, retry: Any, work: Callable[[], Any]) -> Any:
        def attempt() -> Any:
            self.calls.append(method)
            queue = self._faults.get(method) or []
            exc, after = queue.pop(0) if queue else (None, False)
            if exc is not None and not after:
                raise exc
            out = work()
            if exc is not None:
                raise exc
            return out

        return retry(attempt)() if retry is not None else attempt()

    def _get(self, path: str) -> Any:
        if path not in self.items:
            raise gx.NotFound(f"Resource not found (resource={path}).")
        return self.items[path]

    def _create(self, path: str, item: Any) -> Any:
        if path in self.items:
            raise gx.AlreadyExists("Resource already exists in the project")
        self.items[path] = item
        return item

    def _delete(self, path: str) -> None:
        self._get(path)
        del self.items[path]

    # -- publisher -----------------------------------------------------------------------
    def create_topic(self, request: dict[str, Any], retry: Any = None) -> Any:
        topic = SimpleNamespace(name=request["name"], labels=dict(request.get("labels") or {}),
                                message_retention_duration=None,
                                message_storage_policy=SimpleNamespace(
                                    allowed_persistence_regions=[]))
        return self._run("create_topic", retry, lambda: self._create(request["name"], topic))

    def get_topic(self, request: dict[str, Any], retry: Any = None) -> Any:
        return self._run("get_topic", retry, lambda: self._get(request["topic"]))

    def delete_topic(self, request: dict[str, Any], retry: Any = None) -> None:
        self._run("delete_topic", retry, lambda: self._delete(request["topic"]))

    def get_iam_policy(self, request: dict[str, Any], retry: Any = None) -> Any:
        return self._run("get_iam_policy", retry,
                         lambda: SimpleNamespace(bindings=[], etag=b"e"))

    # -- subscriber ----------------------------------------------------------------------
    def create_subscription(self, request: dict[str, Any], retry: Any = None) -> Any:
        sub = SimpleNamespace(
            name=request["name"], topic=request["topic"],
            ack_deadline_seconds=request["ack_deadline_seconds"],
            message_retention_duration=None, retain_acked_messages=False,
            labels=dict(request.get("labels") or {}),
            push_config=SimpleNamespace(push_endpoint=""), filter="",
            enable_message_ordering=False,
            dead_letter_policy=SimpleNamespace(dead_letter_topic="", max_delivery_attempts=0))
        return self._run("create_subscription", retry, lambda: self._create(request["name"], sub))

    def get_subscription(self, request: dict[str, Any], retry: Any = None) -> Any:
        return self._run("get_subscription", retry, lambda: self._get(request["subscription"]))

    def delete_subscription(self, request: dict[str, Any], retry: Any = None) -> None:
        self._run("delete_subscription", retry, lambda: self._delete(request["subscription"]))
