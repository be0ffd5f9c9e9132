"""An in-memory fake adapter for tests of the engine, planner and CLI: no cloud at all.

``fake_registry()`` serves these types, all backed by :class:`FakeAdapter`:

``test:fake:Thing``   ``name`` (required, force_new), ``size`` (integer), ``tags`` (map),
                      ``secret_value`` (secret); output ``arn`` = ``"arn:fake:thing/<name>"``
                      and ``created_serial`` (a counter value fixed at create)
``test:fake:Other``   like Thing, output ``arn`` = ``"arn:fake:other/<name>"``

Resources live in a process-wide :class:`FakeCloud` (``FakeAdapter.cloud``), so
the adapter instances a registry loads by ``"module:Class"`` share state; call
``FakeAdapter.cloud.reset()`` between tests. Failures can be injected with
``cloud.fail_next(operation, error)``. Every call is appended to
``cloud.calls`` as ``(operation, type_name, id)`` for assertions.

Example::

    from providers.testing import FakeAdapter, fake_registry
    reg = fake_registry()
    thing = reg.get("test:fake:Thing").create({"name": "a"}, CloudConfig("test"))
    assert thing.properties["arn"] == "arn:fake:thing/a"
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from provision.errors import CloudError, ProviderError
from provision.provider import (
    AdapterRegistry, CloudConfig, PropertySchema, ReadResult, ResourceSchema,
)

from providers.base import updatable_changes, with_defaults

FAKE_TYPES: dict[str, str] = {
    "test:fake:Thing": "providers.testing:FakeThing",
    "test:fake:Other": "providers.testing:FakeOther",
}


def fake_schema(type_name: str) -> ResourceSchema:
    """The schema every fake type shares, named ``type_name``."""
    return ResourceSchema(
        type_name=type_name,
        cloud="test",
        terraform_type="fake_" + type_name.rsplit(":", 1)[-1].lower(),
        description="An in-memory test resource.",
        properties={
            "name": PropertySchema("string", required=True, force_new=True),
            "size": PropertySchema("integer", default=1),
            "tags": PropertySchema("map"),
            "secret_value": PropertySchema("string", secret=True),
        },
        outputs={"arn": "string", "created_serial": "integer"},
    )


@dataclass
class FakeCloud:
    """The in-memory 'cloud': resources by (type, id), a call log, injected failures."""

    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    failures: dict[str, ProviderError] = field(default_factory=dict)
    serial: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.resources.clear()
            self.calls.clear()
            self.failures.clear()
            self.serial = 0

    def fail_next(self, operation: str, error: ProviderError | None = None) -> None:
        """Make the next ``operation`` ("create", "read", "update", "delete") fail."""
        self.failures[operation] = error or CloudError(f"injected {operation} failure")

    def _enter(self, operation: str, type_name: str, id: str) -> None:
        self.calls.append((operation, type_name, id))
        error = self.failures.pop(operation, None)
        if error is not None:
            raise error


class FakeAdapter:
    """An :class:`~provision.provider.Adapter` keeping resources in :attr:`cloud`.

    The id of a resource is its ``name``. Creating a name that exists fails with
    :class:`CloudError` (like a real cloud's conflict); update refuses
    ``force_new`` properties; delete of a missing resource succeeds.
    """

    cloud = FakeCloud()
    type_name = "test:fake:Thing"

    def __init__(self, type_name: str | None = None) -> None:
        self.schema = fake_schema(type_name or self.type_name)

    @property
    def _kind(self) -> str:
        return self.schema.type_name.rsplit(":", 1)[-1].lower()

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(self.schema, props)
        id = str(values["name"])
        key = (self.schema.type_name, id)
        with self.cloud.lock:
            self.cloud._enter("create", self.schema.type_name, id)
            if key in self.cloud.resources:
                raise CloudError(f"fake error Conflict: '{id}' already exists",
                                 resource=id, resource_type=self.schema.type_name)
            self.cloud.serial += 1
            values["arn"] = f"arn:fake:{self._kind}/{id}"
            values["created_serial"] = self.cloud.serial
            self.cloud.resources[key] = values
            return ReadResult(id=id, properties=copy.deepcopy(values))

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        with self.cloud.lock:
            self.cloud._enter("read", self.schema.type_name, id)
            live = self.cloud.resources.get((self.schema.type_name, id))
            return None if live is None else ReadResult(id=id, properties=copy.deepcopy(live))

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values = with_defaults(self.schema, new)
        names = updatable_changes(self.schema, with_defaults(self.schema, old), values,
                                  resource=id)
        with self.cloud.lock:
            self.cloud._enter("update", self.schema.type_name, id)
            live = self.cloud.resources.get((self.schema.type_name, id))
            if live is None:
                raise CloudError(f"fake error NotFound: '{id}' does not exist",
                                 resource=id, resource_type=self.schema.type_name)
            for name in names:
                live[name] = values[name]
            return ReadResult(id=id, properties=copy.deepcopy(live))

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        with self.cloud.lock:
            self.cloud._enter("delete", self.schema.type_name, id)
            self.cloud.resources.pop((self.schema.type_name, id), None)


class FakeThing(FakeAdapter):
    type_name = "test:fake:Thing"


class FakeOther(FakeAdapter):
    type_name = "test:fake:Other"


def fake_registry(extra: Mapping[str, str] | None = None) -> AdapterRegistry:
    """A registry of the fake types (plus ``extra`` entries, e.g. real adapters)."""
    return AdapterRegistry({**FAKE_TYPES, **(extra or {})})
