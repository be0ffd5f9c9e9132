"""An in-memory Azure Resource Manager emulator for the local sandbox.

Speaks the public ARM REST contract that ``azure-mgmt-resource`` and
``azure-mgmt-storage`` use: resource groups (create/update, get, existence
check, tag patch, list, delete as a long-running operation) and storage
accounts (create as a long-running operation with ``Azure-AsyncOperation`` and
``Location``, get, update, list, delete, name availability). ``api-version`` is
required, path segments are case-insensitive, errors carry ARM's codes.

    python -m provision.sandbox.emulators.arm --port 8443
"""

from __future__ import annotations

import argparse
import re
import traceback
from typing import Any

from provision.sandbox.emulators import _http
from provision.sandbox.emulators._http import Reply, Request
from provision.sandbox.emulators.arm_resources import ResourceTable, split_types
from provision.sandbox.emulators.arm_store import ArmStore, Operation, arm_error

# Clients wait this long between polls of a long-running operation
# (azure-core reads it; ARM's own Retry-After is whole seconds, too slow locally).
RETRY_AFTER_MS = 100
STORAGE = "microsoft.storage"


def _headers() -> dict[str, str]:
    rid = _http.request_id()
    return {"x-ms-request-id": rid, "x-ms-correlation-request-id": rid}


API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def _api_version(request: Request) -> str:
    for key, value in request.query.items():
        if key.lower() == "api-version" and value:
            if not API_VERSION.match(value):
                raise arm_error(400, "InvalidApiVersionParameter",
                                f"The api-version '{value}' is invalid. The supported versions look "
                                "like 'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.")
            return value
    raise arm_error(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise arm_error(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {exc}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise arm_error(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return body


def _poll_headers(location: str | None = None, async_op: str | None = None) -> dict[str, str]:
    headers = {"x-ms-retry-after-ms": str(RETRY_AFTER_MS)}
    if location:
        headers["Location"] = location
    if async_op:
        headers["Azure-AsyncOperation"] = async_op
    return headers


def _storage_op_urls(request: Request, sub: str, location: str, op: Operation, version: str) -> tuple[str, str]:
    base = f"{request.base_url}/subscriptions/{sub}/providers/Microsoft.Storage/locations/{location}"
    return (f"{base}/asyncoperations/{op.id}?monitor=true&api-version={version}",
            f"{base}/operationresults/{op.id}?api-version={version}")


def _no_route(request: Request) -> Exception:
    return arm_error(404, "InvalidResourceType",
                     f"The resource type could not be found for {request.method} {request.path}.")


def _provider_op_urls(request: Request, sub: str, namespace: str, location: str, op: Operation,
                      version: str) -> tuple[str, str]:
    """(Azure-AsyncOperation, Location) URLs of an operation, as the network RP forms them."""
    base = f"{request.base_url}/subscriptions/{sub}/providers/{namespace}/locations/{location}"
    return (f"{base}/operations/{op.id}?api-version={version}",
            f"{base}/operationResults/{op.id}?api-version={version}")


def _async_status(request: Request, op: Operation) -> Reply:
    """The Azure-AsyncOperation status resource: InProgress until done, then Succeeded."""
    status = {"id": request.path, "name": op.id,
              "status": "Succeeded" if op.done else "InProgress", "startTime": op.started}
    if op.done:
        status["endTime"] = op.ended
    return Reply(200, status, {} if op.done else _poll_headers())


def _generic(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: resource[k] for k in ("id", "name", "type", "location", "kind", "sku", "tags") if k in resource}


def _operation_result(op: Operation, request: Request, version: str) -> Reply:
    """Location polling: 202 (and the same Location) while running, then 200 with the result."""
    if not op.done:
        return Reply(202, None, _poll_headers(location=f"{request.base_url}{request.path}?api-version={version}"))
    result = op.result()
    return Reply(200, result)


_TAG_FILTER = re.compile(r"tagname\s+eq\s+'([^']*)'(?:\s+and\s+tagvalue\s+eq\s+'([^']*)')?", re.I)


def _filter_by_tag(groups: list[dict[str, Any]], expression: str) -> list[dict[str, Any]]:
    if not expression.strip():
        return groups
    match = _TAG_FILTER.fullmatch(expression.strip())
    if match is None:
        raise arm_error(400, "InvalidFilterInQueryString", f"The $filter '{expression}' is not supported.")
    name, value = match.group(1), match.group(2)
    return [g for g in groups if name in g.get("tags", {})
            and (value is None or g["tags"][name] == value)]


class ArmEmulator:
    """One emulated Resource Manager: its resource groups, storage accounts and generic
    resources, and the HTTP app (``emulator(request) -> Reply``) that serves them."""

    def __init__(self) -> None:
        self.store = ArmStore()
        self.resources = ResourceTable(self.store)
        self.store.on_group_deleted.append(self.resources.drop_group)

    def __call__(self, request: Request) -> Reply:
        if not request.header("Authorization"):
            raise arm_error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        segments = [s for s in request.path.split("/") if s]
        lower = [s.lower() for s in segments]
        version = _api_version(request)
        if len(lower) < 2 or lower[0] != "subscriptions":
            raise _no_route(request)
        with self.store.lock:
            self.store.sweep()
            sub = self.store.check_subscription(segments[1])
            rest, names = lower[2:], segments[2:]
            if rest[:1] == ["resourcegroups"]:
                return self._resource_groups(request, sub, rest[1:], names[1:], version)
            if rest[:1] == ["operationresults"] and len(rest) == 2:
                return _operation_result(self.store.poll(names[1]), request, version)
            if rest[:2] == ["providers", STORAGE]:
                return self._storage_subscription(request, sub, rest[2:], names[2:], version)
            if rest[:1] == ["providers"] and len(rest) == 6 and rest[2] == "locations":
                return self._provider_operation(request, rest[4], names[5], version)
        raise _no_route(request)

    def _resource_groups(self, request: Request, sub: str, rest: list[str], names: list[str], version: str) -> Reply:
        method = request.method
        if not rest:
            if method != "GET":
                raise _no_route(request)
            groups = [g.to_json() for g in self.store.groups_of(sub)]
            groups = _filter_by_tag(groups, request.query.get("$filter", ""))
            top = request.query.get("$top")
            return Reply(200, {"value": groups[: int(top)] if top and top.isdigit() else groups})
        rg = names[0]
        if len(rest) == 1:
            if method == "GET":
                return Reply(200, self.store.group(sub, rg).to_json())
            if method == "HEAD":
                return Reply(204 if self.store.find_group(sub, rg) else 404)
            if method == "PUT":
                group, created = self.store.put_group(sub, rg, _body(request))
                return Reply(201 if created else 200, group.to_json())
            if method == "PATCH":
                return Reply(200, self.store.patch_group(sub, rg, _body(request)).to_json())
            if method == "DELETE":
                op = self.store.delete_group(sub, rg)
                location = f"{request.base_url}/subscriptions/{sub}/operationresults/{op.id}?api-version={version}"
                return Reply(202, None, _poll_headers(location=location))
            raise _no_route(request)
        if rest[1:] == ["resources"] and method == "GET":
            self.store.group(sub, rg)
            found = [a.to_json() for a in self.store.accounts_of(sub, rg)]
            found += [r.to_json() for r in self.resources.in_group(sub, rg)]
            return Reply(200, {"value": [_generic(r) for r in found]})
        if rest[1:4] == ["providers", STORAGE, "storageaccounts"]:
            return self._storage_accounts(request, sub, rg, names[4:], version)
        if rest[1:2] == ["providers"] and rest[2:3] != [STORAGE]:
            return self._provider_resource(request, sub, names[0], names[2:], version)
        raise _no_route(request)

    def _provider_resource(self, request: Request, sub: str, rg: str, names: list[str], version: str) -> Reply:
        """Any other provider's resource (see ``arm_resources``): PUT, GET, PATCH, DELETE."""
        group = self.store.group(sub, rg)
        resource_id = f"/subscriptions/{sub}/resourceGroups/{group.name}/providers/{'/'.join(names)}"
        method = request.method
        if len(names) >= 2 and len(names) % 2 == 0 and method == "GET":
            return Reply(200, {"value": [r.to_json() for r in self.resources.listed(resource_id)]})
        parsed = split_types(names)
        if parsed is None:
            raise _no_route(request)
        type_name, name = parsed
        if method == "GET":
            return Reply(200, self.resources.get(resource_id, group.name).to_json())
        if method == "HEAD":
            return Reply(204 if self.resources.find(resource_id) else 404)
        if method == "PATCH":
            return Reply(200, self.resources.patch(resource_id, group.name, _body(request)).to_json())
        namespace = names[0]
        if method == "PUT":
            resource, created, op = self.resources.put(resource_id, type_name, name, _body(request))
            urls = _provider_op_urls(request, sub, namespace, resource.location or group.location,
                                     op, version)
            if resource.namespace == "microsoft.network":
                return Reply(201 if created else 200, resource.to_json(),
                             _poll_headers(async_op=urls[0]))
            return Reply(202, None, _poll_headers(location=urls[1], async_op=urls[0]))
        if method == "DELETE":
            existing = self.resources.find(resource_id)
            deleting = self.resources.delete(resource_id)
            if deleting is None or existing is None:
                return Reply(204)
            urls = _provider_op_urls(request, sub, namespace, existing.location or group.location,
                                     deleting, version)
            return Reply(202, None, _poll_headers(location=urls[1], async_op=urls[0]))
        raise _no_route(request)

    def _provider_operation(self, request: Request, kind: str, op_id: str, version: str) -> Reply:
        op = self.store.poll(op_id)
        if kind == "operations":
            return _async_status(request, op)
        if kind == "operationresults":
            if op.done and op.result() is None:
                return Reply(204)
            return _operation_result(op, request, version)
        raise _no_route(request)

    def _storage_accounts(self, request: Request, sub: str, rg: str, names: list[str], version: str) -> Reply:
        method = request.method
        if not names:
            if method != "GET":
                raise _no_route(request)
            self.store.group(sub, rg)
            return Reply(200, {"value": [a.to_json() for a in self.store.accounts_of(sub, rg)]})
        if len(names) == 2 and names[1].lower() == "listkeys" and method == "POST":
            account = self.store.account(sub, rg, names[0])
            return Reply(200, {"keys": [{"keyName": k, "value": v, "permissions": "FULL"}
                                        for k, v in account.keys.items()]})
        if len(names) != 1:
            raise _no_route(request)
        name = names[0]
        if method == "GET":
            return Reply(200, self.store.account(sub, rg, name).to_json())
        if method == "PUT":
            account, op = self.store.put_account(sub, rg, name, _body(request))
            if op is None:
                return Reply(200, account.to_json())
            async_url, location_url = _storage_op_urls(request, sub, account.location, op, version)
            return Reply(202, None, _poll_headers(location=location_url, async_op=async_url))
        if method == "PATCH":
            return Reply(200, self.store.patch_account(sub, rg, name, _body(request)).to_json())
        if method == "DELETE":
            return Reply(200 if self.store.delete_account(sub, rg, name) else 204)
        raise _no_route(request)

    def _storage_subscription(self, request: Request, sub: str, rest: list[str], names: list[str], version: str) -> Reply:
        if rest == ["storageaccounts"] and request.method == "GET":
            return Reply(200, {"value": [a.to_json() for a in self.store.accounts_of(sub)]})
        if rest == ["checknameavailability"] and request.method == "POST":
            body = _body(request)
            kind = str(body.get("type") or "")
            if kind.lower() != "microsoft.storage/storageaccounts":
                raise arm_error(400, "InvalidResourceType",
                                f"The resource type '{kind}' is not valid; expected 'Microsoft.Storage/storageAccounts'.")
            return Reply(200, self.store.name_availability(str(body.get("name") or "")))
        if len(rest) == 4 and rest[0] == "locations" and request.method == "GET":
            op = self.store.poll(names[3])
            if rest[2] == "asyncoperations":
                status = {"id": request.path, "name": op.id, "status": "Succeeded" if op.done else "InProgress",
                          "startTime": op.started}
                if op.done:
                    status["endTime"] = op.ended
                return Reply(200, status, {} if op.done else _poll_headers())
            if rest[2] == "operationresults":
                return _operation_result(op, request, version)
        raise _no_route(request)


def _internal_error(exc: Exception) -> Reply:
    traceback.print_exception(exc)
    return Reply(500, {"error": {"code": "InternalServerError", "message": f"emulator bug: {exc!r}"}})


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lro-polls", type=int, default=1,
                        help="status reads that see a long-running operation still in progress")


def main(argv: list[str] | None = None) -> None:
    emulator = ArmEmulator()

    def apply(args: argparse.Namespace) -> None:
        emulator.store.lro_polls = args.lro_polls

    _http.serve("Azure Resource Manager emulator", emulator, argv, extra_headers=_headers,
                on_error=_internal_error, configure=_configure, apply=apply)


if __name__ == "__main__":
    main()
