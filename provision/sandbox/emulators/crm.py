"""An in-memory Google Cloud Resource Manager v3 emulator for the local sandbox.

Speaks the REST contract of ``google-cloud-resource-manager``'s
``ProjectsClient(transport="rest")``: create/update/delete/undelete/move return
long-running Operations read back through ``GET /v3/operations/...``; get by
id or number; list by parent; search; Google JSON errors.

    python -m provision.sandbox.emulators.crm --port 8444
"""

from __future__ import annotations

import argparse
import itertools
import threading
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from provision.sandbox.emulators import _http
from provision.sandbox.emulators._http import Reply, Request
from provision.sandbox.emulators.crm_store import CrmStore, Project, google_error, invalid, timestamp

TYPE_PREFIX = "type.googleapis.com/google.cloud.resourcemanager.v3."


@dataclass
class Operation:
    name: str
    metadata_type: str
    project: Project
    polls_left: int
    create_time: str

    @property
    def done(self) -> bool:
        return self.polls_left < 0

    def to_json(self, int_enums: bool) -> dict[str, Any]:
        metadata: dict[str, Any] = {"@type": TYPE_PREFIX + self.metadata_type}
        if self.metadata_type == "CreateProjectMetadata":
            metadata.update(createTime=self.create_time, gettable=True, ready=self.done)
        body: dict[str, Any] = {"name": self.name, "metadata": metadata}
        if self.done:
            body["done"] = True
            body["response"] = {"@type": TYPE_PREFIX + "Project", **self.project.to_json(int_enums)}
        return body


class Operations:
    """Operations are not done when returned and done once read ``polls`` + 1 times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, Operation] = {}
        self.polls = 0
        self._ids = itertools.count(1000000000001, 104729)

    def start(self, prefix: str, metadata_type: str, project: Project) -> Operation:
        with self.lock:
            op = Operation(f"operations/{prefix}.{next(self._ids)}", metadata_type, project,
                           self.polls, timestamp())
            self.items[op.name] = op
            return op

    def read(self, name: str) -> Operation:
        with self.lock:
            op = self.items.get(name)
            if op is None:
                raise google_error(404, f"Operation '{name}' not found.", "NOT_FOUND")
            if not op.done:
                op.polls_left -= 1
            return op


def _int_enums(request: Request) -> bool:
    return "enum-encoding=int" in request.query.get("$alt", "")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return body


def _page(request: Request, items: list[Project], key: str) -> Reply:
    size_text = request.query.get("pageSize") or "0"
    token = request.query.get("pageToken") or "0"
    if not size_text.isdigit() or not token.isdigit():
        raise invalid("field [page_size or page_token] has issue [invalid value]")
    start, size = int(token), int(size_text) or 500
    window = items[start:start + size]
    body: dict[str, Any] = {}
    if window:
        body[key] = [p.to_json(_int_enums(request)) for p in window]
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return Reply(200, body)


class CrmEmulator:
    """One emulated Cloud Resource Manager: its projects and operations, and the HTTP
    app (``emulator(request) -> Reply``) that serves them."""

    def __init__(self) -> None:
        self.store = CrmStore()
        self.operations = Operations()

    def __call__(self, request: Request) -> Reply:
        path = unquote(request.path)
        method = request.method
        if not path.startswith("/v3/"):
            raise _no_route(request)
        resource = path[len("/v3/"):]
        if resource.startswith("operations/") and method == "GET":
            return Reply(200, self.operations.read(resource).to_json(_int_enums(request)))
        store = self.store
        with store.lock:
            if resource == "projects":
                if method == "POST":
                    return self._op_reply(request, "cp", "CreateProjectMetadata",
                                          store.create(_body(request)))
                if method == "GET":
                    show_deleted = request.query.get("showDeleted", "").lower() == "true"
                    items = store.children(request.query.get("parent", ""), show_deleted)
                    return _page(request, items, "projects")
            if resource == "projects:search" and method == "GET":
                return _page(request, store.search(request.query.get("query", "")), "projects")
            if resource.startswith("projects/"):
                name, _, verb = resource.partition(":")
                if name.count("/") != 1:
                    raise _no_route(request)
                return self._project(request, name, verb)
        raise _no_route(request)

    def _op_reply(self, request: Request, prefix: str, metadata_type: str,
                  project: Project) -> Reply:
        op = self.operations.start(prefix, metadata_type, project)
        return Reply(200, op.to_json(_int_enums(request)))

    def _project(self, request: Request, name: str, verb: str) -> Reply:
        method, store = request.method, self.store
        if not verb:
            if method == "GET":
                return Reply(200, store.get(name).to_json(_int_enums(request)))
            if method == "PATCH":
                mask = [p.strip() for p in request.query.get("updateMask", "").split(",")
                        if p.strip()]
                project = store.update(name, _body(request), mask)
                return self._op_reply(request, "up", "UpdateProjectMetadata", project)
            if method == "DELETE":
                return self._op_reply(request, "dp", "DeleteProjectMetadata", store.delete(name))
        elif method == "POST" and verb == "undelete":
            return self._op_reply(request, "udp", "UndeleteProjectMetadata", store.undelete(name))
        elif method == "POST" and verb == "move":
            destination = str(_body(request).get("destinationParent") or "")
            return self._op_reply(request, "mp", "MoveProjectMetadata",
                                  store.move(name, destination))
        raise _no_route(request)


def _no_route(request: Request) -> Exception:
    return google_error(404, f"The requested URL {request.path} was not found on this server "
                             f"(method {request.method}).", "NOT_FOUND")


def _internal_error(exc: Exception) -> Reply:
    traceback.print_exception(exc)
    return Reply(500, {"error": {"code": 500, "message": f"emulator bug: {exc!r}", "status": "INTERNAL"}})


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lro-polls", type=int, default=0,
                        help="extra reads that see an operation not yet done (each costs a client >= 1s)")


def main(argv: list[str] | None = None) -> None:
    emulator = CrmEmulator()

    def apply(args: argparse.Namespace) -> None:
        emulator.operations.polls = args.lro_polls

    _http.serve("Cloud Resource Manager v3 emulator", emulator, argv,
                on_error=_internal_error, configure=_configure, apply=apply)


if __name__ == "__main__":
    main()
