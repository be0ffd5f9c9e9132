"""A fake adapter for tests of the engine, planner and CLI: no cloud, no SDK.

``fake_registry()`` serves these types, all backed by :class:`FakeAdapter`:

``test:fake:Thing``   ``name`` (required, force_new), ``size`` (integer, default 1),
                      ``tags`` (map), ``members`` (list), ``secret_value`` (secret); outputs
                      ``arn`` = ``"arn:fake:thing/<name>"`` and ``created_serial``
                      (a counter value fixed at create)
``test:fake:Other``   the same, with ``arn`` = ``"arn:fake:other/<name>"``

All adapter instances share one :class:`FakeCloud` (``FakeAdapter.cloud``), so
the instances a registry loads by ``"module:Class"`` see the same resources.
It lives in memory, or, when the environment variable :data:`FILE_ENV` names a
JSON file, in that file (locked per operation): the Pulumi engine runs adapters
in a separate provider process, and the file lets that process and the test see
one cloud. Call ``FakeAdapter.cloud.reset()`` between tests. ``fail_next(op)``
makes the next ``create``/``read``/``update``/``delete`` fail with a
:class:`CloudError`; ``calls()`` lists ``(operation, type_name, id)``.

Example::

    from providers.testing import FakeAdapter, fake_registry
    reg = fake_registry()
    thing = reg.get("test:fake:Thing").create({"name": "a"}, CloudConfig("test"))
    assert thing.properties["arn"] == "arn:fake:thing/a"
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from provision.errors import CloudError
from provision.provider import (
    AdapterRegistry, CloudConfig, PropertySchema, ReadResult, ResourceSchema,
)

from providers.base import plan_update, with_defaults

FILE_ENV = "PROVISION_FAKE_CLOUD_FILE"

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
        description="A fake test resource.",
        properties={
            "name": PropertySchema("string", required=True, force_new=True),
            "size": PropertySchema("integer", default=1),
            "tags": PropertySchema("map", items="string"),
            "members": PropertySchema("list"),
            "secret_value": PropertySchema("string", secret=True),
        },
        outputs={"arn": "string", "created_serial": "integer"},
        read_back=True,                     # create and update return the stored record
    )


def _empty() -> dict[str, Any]:
    return {"resources": {}, "calls": [], "failures": {}, "serial": 0}


class FakeCloud:
    """The fake 'cloud': resources by type and id, a call log, injected failures."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory = _empty()

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """The cloud's data, exclusively, saved back when the block ends."""
        path = os.environ.get(FILE_ENV)
        with self._lock:
            if not path:
                yield self._memory
                return
            Path(path).touch(exist_ok=True)
            with open(path, "r+", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                text = fh.read()
                data = json.loads(text) if text.strip() else _empty()
                try:
                    yield data
                finally:
                    fh.seek(0)
                    fh.truncate()
                    fh.write(json.dumps(data, sort_keys=True))

    def reset(self) -> None:
        with self.transaction() as data:
            data.clear()
            data.update(_empty())

    def fail_next(self, operation: str, message: str = "") -> None:
        """Make the next ``operation`` ("create", "read", "update", "delete") fail."""
        with self.transaction() as data:
            data["failures"][operation] = message or f"injected {operation} failure"

    def resources(self) -> dict[tuple[str, str], dict[str, Any]]:
        """A copy of every resource, keyed by ``(type_name, id)``."""
        with self.transaction() as data:
            return {tuple(k.split("|", 1)): copy.deepcopy(v)  # type: ignore[misc]
                    for k, v in data["resources"].items()}

    def calls(self) -> list[tuple[str, str, str]]:
        """Every adapter call so far, in order: ``(operation, type_name, id)``."""
        with self.transaction() as data:
            return [(c[0], c[1], c[2]) for c in data["calls"]]


def _enter(data: dict[str, Any], operation: str, type_name: str, id: str) -> None:
    data["calls"].append([operation, type_name, id])
    message = data["failures"].pop(operation, None)
    if message is not None:
        raise CloudError(message, resource=id, resource_type=type_name)


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

    def _key(self, id: str) -> str:
        return f"{self.schema.type_name}|{id}"

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        values = with_defaults(self.schema, props)
        id = str(values["name"])
        kind = self.schema.type_name.rsplit(":", 1)[-1].lower()
        with self.cloud.transaction() as data:
            _enter(data, "create", self.schema.type_name, id)
            if self._key(id) in data["resources"]:
                raise CloudError(f"fake error Conflict: '{id}' already exists",
                                 resource=id, resource_type=self.schema.type_name)
            data["serial"] += 1
            values["arn"] = f"arn:fake:{kind}/{id}"
            values["created_serial"] = data["serial"]
            data["resources"][self._key(id)] = values
            return ReadResult(id=id, properties=copy.deepcopy(values))

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The fake resource named ``props["name"]`` (its natural key), if it exists."""
        name = str(props.get("name") or "")
        return self.read(name, props, config) if name else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        with self.cloud.transaction() as data:
            _enter(data, "read", self.schema.type_name, id)
            live = data["resources"].get(self._key(id))
            return None if live is None else ReadResult(id=id, properties=copy.deepcopy(live))

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        values, names = plan_update(self.schema, old, new, resource=id)
        with self.cloud.transaction() as data:
            _enter(data, "update", self.schema.type_name, id)
            live = data["resources"].get(self._key(id))
            if live is None:
                raise CloudError(f"fake error NotFound: '{id}' does not exist",
                                 resource=id, resource_type=self.schema.type_name)
            for name in names:
                live[name] = values[name]
            return ReadResult(id=id, properties=copy.deepcopy(live))

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        with self.cloud.transaction() as data:
            _enter(data, "delete", self.schema.type_name, id)
            data["resources"].pop(self._key(id), None)


class FakeThing(FakeAdapter):
    type_name = "test:fake:Thing"


class FakeOther(FakeAdapter):
    type_name = "test:fake:Other"


def fake_registry(extra: Mapping[str, str] | None = None) -> AdapterRegistry:
    """A registry of the fake types (plus ``extra`` entries, e.g. real adapters)."""
    return AdapterRegistry({**FAKE_TYPES, **(extra or {})})
