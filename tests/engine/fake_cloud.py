"""A file-backed fake cloud for engine tests: no SDK, but shared across processes.

The Pulumi engine runs dynamic providers in a separate process, so the fake's
state lives in a JSON file named by ``FAKE_CLOUD_FILE``; the test and the
provider process both see it.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema


def _path() -> Path:
    return Path(os.environ["FAKE_CLOUD_FILE"])


@contextmanager
def cloud() -> Iterator[dict[str, Any]]:
    path = _path()
    path.touch(exist_ok=True)
    with open(path, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read()
        data: dict[str, Any] = json.loads(text) if text.strip() else {"items": {}, "calls": []}
        yield data
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(data))


def snapshot() -> dict[str, Any]:
    with cloud() as data:
        return json.loads(json.dumps(data))


class FileThing:
    schema = ResourceSchema(
        type_name="test:file:Thing", cloud="test", terraform_type="test_thing",
        properties={
            "name": PropertySchema("string", required=True, force_new=True),
            "size": PropertySchema("integer"),
            "tags": PropertySchema("map"),
            "ref": PropertySchema("string"),
            "password": PropertySchema("string", secret=True),
            "fail": PropertySchema("boolean"),
        },
        outputs={"arn": "string"},
    )

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        if props.get("fail"):
            raise CloudError("the fake cloud refused the request (InvalidRequest)",
                             resource=str(props.get("name")), resource_type="test:file:Thing",
                             hint="remove `fail: true`")
        with cloud() as data:
            rid = uuid.uuid4().hex[:10]
            item = {**props, "arn": f"arn:test:{props['name']}:{config.get('zone', 'none')}"}
            data["items"][rid] = item
            data["calls"].append(["create", props["name"]])
            return ReadResult(rid, dict(item))

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        with cloud() as data:
            item = data["items"].get(id)
            return ReadResult(id, dict(item)) if item is not None else None

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        with cloud() as data:
            item = {**data["items"][id], **{k: v for k, v in new.items() if k in self.schema.properties}}
            data["items"][id] = item
            data["calls"].append(["update", item["name"]])
            return ReadResult(id, dict(item))

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        with cloud() as data:
            gone = data["items"].pop(id, None)
            data["calls"].append(["delete", (gone or props).get("name")])
