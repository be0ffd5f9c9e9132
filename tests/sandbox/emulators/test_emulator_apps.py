"""The ARM and CRM emulator apps called directly (no server): each emulator object owns
its state, so two of them never see each other's resources."""

from __future__ import annotations

import json
from typing import Any

from provision.sandbox.emulators._http import Reply, Request
from provision.sandbox.emulators.arm import ArmEmulator
from provision.sandbox.emulators.crm import CrmEmulator

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourcegroups/rg-app"


def _request(method: str, path: str, body: Any = None, **query: str) -> Request:
    return Request(method, path, query, {"authorization": "Bearer sandbox"},
                   json.dumps(body).encode() if body is not None else b"", "http://127.0.0.1:1")


def _call(app: Any, request: Request) -> Reply:
    try:
        reply: Reply = app(request)
    except Exception as exc:            # the apps raise their HTTP errors
        reply = exc.reply               # type: ignore[attr-defined]
    return reply


def test_two_arm_emulators_keep_their_own_resource_groups() -> None:
    first, second = ArmEmulator(), ArmEmulator()
    put = _request("PUT", RG, {"location": "westeurope"}, **{"api-version": "2022-09-01"})
    assert _call(first, put).status == 201
    get = _request("GET", RG, **{"api-version": "2022-09-01"})
    assert _call(first, get).status == 200
    assert _call(second, get).status == 404


def test_two_crm_emulators_keep_their_own_projects() -> None:
    first, second = CrmEmulator(), CrmEmulator()
    body = {"projectId": "app-project-1", "parent": "folders/123"}
    assert _call(first, _request("POST", "/v3/projects", body)).status == 200
    get = _request("GET", "/v3/projects/app-project-1")
    assert _call(first, get).status == 200
    assert _call(second, get).status == 404
