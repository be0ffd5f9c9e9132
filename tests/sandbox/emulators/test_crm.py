"""The Cloud Resource Manager v3 emulator, spoken to through ProjectsClient (REST).

Project ids are global in the emulator as in GCP, so every test makes its own
ids and parent folder.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import resourcemanager_v3
from google.protobuf import field_mask_pb2

from provision.sandbox import SandboxStatus

pytestmark = pytest.mark.sandbox

Project = resourcemanager_v3.Project
State = resourcemanager_v3.Project.State


@pytest.fixture
def endpoint(sandbox: SandboxStatus) -> str:
    return sandbox.endpoints["gcp_crm"]


@pytest.fixture
def client(endpoint: str) -> resourcemanager_v3.ProjectsClient:
    return resourcemanager_v3.ProjectsClient(
        transport="rest", client_options={"api_endpoint": endpoint}, credentials=AnonymousCredentials())


@pytest.fixture
def folder() -> str:
    return f"folders/{uuid.uuid4().int % 10**12}"


def google_status(exc: exceptions.GoogleAPICallError) -> str:
    """The ``error.status`` of the JSON body (REST errors map to exception classes by HTTP code)."""
    assert exc.response is not None
    return str(exc.response.json()["error"]["status"])


def project_id() -> str:
    return "p-" + uuid.uuid4().hex[:16]


def create(client: resourcemanager_v3.ProjectsClient, folder: str, **fields: object) -> Project:
    project = Project(project_id=fields.pop("project_id", None) or project_id(), parent=folder, **fields)
    return client.create_project(project=project).result(timeout=30)


def test_create_project_is_an_operation(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    pid = project_id()
    operation = client.create_project(project=Project(
        project_id=pid, parent=folder, display_name="Web shop", labels={"env": "dev"}))
    project = operation.result(timeout=30)
    assert operation.done()
    assert project.project_id == pid and project.parent == folder
    assert project.name.startswith("projects/") and project.name.split("/")[1].isdigit()
    assert project.state == State.ACTIVE and project.display_name == "Web shop"
    assert dict(project.labels) == {"env": "dev"} and project.etag
    assert project.create_time.year >= 2024


def test_operation_protocol(endpoint: str, folder: str) -> None:
    pid = project_id()
    created = requests.post(f"{endpoint}/v3/projects", json={"projectId": pid, "parent": folder}, timeout=10)
    assert created.status_code == 200
    operation = created.json()
    assert operation["name"].startswith("operations/") and not operation.get("done")
    assert operation["metadata"]["@type"].endswith("CreateProjectMetadata")
    polled = requests.get(f"{endpoint}/v3/{operation['name']}", timeout=10).json()
    assert polled["done"] is True
    assert polled["response"]["@type"] == "type.googleapis.com/google.cloud.resourcemanager.v3.Project"
    assert polled["response"]["projectId"] == pid and polled["response"]["state"] == "ACTIVE"
    missing = requests.get(f"{endpoint}/v3/operations/cp.0", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


def test_get_by_id_and_by_number(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    project = create(client, folder)
    assert client.get_project(name=f"projects/{project.project_id}").name == project.name
    assert client.get_project(name=project.name).project_id == project.project_id


def test_missing_project_is_not_found(client: resourcemanager_v3.ProjectsClient, endpoint: str) -> None:
    with pytest.raises(exceptions.NotFound) as info:
        client.get_project(name="projects/no-such-project")
    assert google_status(info.value) == "NOT_FOUND"
    body = requests.get(f"{endpoint}/v3/projects/no-such-project", timeout=10).json()
    assert body["error"]["code"] == 404 and body["error"]["status"] == "NOT_FOUND" and body["error"]["message"]


def test_duplicate_project_id_already_exists(client: resourcemanager_v3.ProjectsClient, endpoint: str,
                                             folder: str) -> None:
    project = create(client, folder)
    with pytest.raises(exceptions.Conflict) as info:
        create(client, folder, project_id=project.project_id)
    assert info.value.code == 409 and google_status(info.value) == "ALREADY_EXISTS"
    raw = requests.post(f"{endpoint}/v3/projects", json={"projectId": project.project_id}, timeout=10)
    assert raw.status_code == 409 and raw.json()["error"]["status"] == "ALREADY_EXISTS"


@pytest.mark.parametrize("bad", [
    "short", "Upper-case-id", "ends-with-hyphen-", "1starts-with-digit", "has_underscore",
    "x" * 31, "my-google-project", "ssl-project",
])
def test_invalid_project_ids(client: resourcemanager_v3.ProjectsClient, folder: str, bad: str) -> None:
    with pytest.raises(exceptions.BadRequest) as info:
        client.create_project(project=Project(project_id=bad, parent=folder))
    assert google_status(info.value) == "INVALID_ARGUMENT" and "project_id" in info.value.message


@pytest.mark.parametrize("fields", [
    {"labels": {"Bad-Key": "v"}},
    {"labels": {"key": "Upper"}},
    {"display_name": "ab"},
    {"parent": "projects/123"},
])
def test_invalid_project_fields(client: resourcemanager_v3.ProjectsClient, fields: dict[str, object]) -> None:
    body = {"project_id": project_id(), "parent": "folders/1", **fields}
    with pytest.raises(exceptions.BadRequest) as info:
        client.create_project(project=Project(**body))
    assert google_status(info.value) == "INVALID_ARGUMENT"


def test_update_with_mask(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    project = create(client, folder, display_name="Before", labels={"env": "dev"})
    change = Project(name=project.name, display_name="After", labels={"env": "prod"})
    updated = client.update_project(project=change,
                                    update_mask=field_mask_pb2.FieldMask(paths=["labels"])).result(timeout=30)
    assert dict(updated.labels) == {"env": "prod"} and updated.display_name == "Before"
    updated = client.update_project(project=change,
                                    update_mask=field_mask_pb2.FieldMask(paths=["display_name"])).result(timeout=30)
    assert updated.display_name == "After"
    assert client.get_project(name=project.name).display_name == "After"
    with pytest.raises(exceptions.BadRequest) as info:
        client.update_project(project=Project(name=project.name, parent="folders/9"),
                              update_mask=field_mask_pb2.FieldMask(paths=["parent"]))
    assert google_status(info.value) == "INVALID_ARGUMENT"


def test_delete_and_undelete(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    project = create(client, folder)
    deleted = client.delete_project(name=project.name).result(timeout=30)
    assert deleted.state == State.DELETE_REQUESTED and deleted.delete_time.year >= 2024
    assert client.get_project(name=project.name).state == State.DELETE_REQUESTED
    assert project.project_id not in [p.project_id for p in client.list_projects(parent=folder)]
    shown = client.list_projects(request={"parent": folder, "show_deleted": True})
    assert project.project_id in [p.project_id for p in shown]
    with pytest.raises(exceptions.BadRequest) as info:
        client.delete_project(name=project.name)
    assert google_status(info.value) == "FAILED_PRECONDITION"
    restored = client.undelete_project(name=project.name).result(timeout=30)
    assert restored.state == State.ACTIVE
    with pytest.raises(exceptions.BadRequest) as info:
        client.undelete_project(name=project.name)
    assert google_status(info.value) == "FAILED_PRECONDITION"


def test_list_projects_pages_through_a_parent(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    made = sorted(create(client, folder).project_id for _ in range(3))
    create(client, f"folders/{uuid.uuid4().int % 10**12}")  # elsewhere
    pages = client.list_projects(request={"parent": folder, "page_size": 1})
    assert sorted(p.project_id for p in pages) == made
    with pytest.raises(exceptions.BadRequest) as info:
        list(client.list_projects(parent=""))
    assert google_status(info.value) == "INVALID_ARGUMENT"


def test_search_projects(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    tag = uuid.uuid4().hex[:8]
    red = create(client, folder, display_name="Red shop", labels={"color": "red", "run": tag})
    blue = create(client, folder, display_name="Blue shop", labels={"color": "blue", "run": tag})
    both = sorted([red.project_id, blue.project_id])

    def ids(query: str) -> list[str]:
        return sorted(p.project_id for p in client.search_projects(query=query))

    assert ids(f"labels.run:{tag}") == both
    assert ids(f"labels.run:{tag} AND labels.color:red") == [red.project_id]
    assert ids(f"id:{blue.project_id}") == [blue.project_id]
    # Separate terms match ANY of them, as the v3 API documents.
    assert ids(f"id:{red.project_id} id:{blue.project_id}") == both
    assert ids(f"labels.run:{tag} AND NAME:BLUE*") == [blue.project_id]
    assert ids(f"parent:{folder} AND labels.run:{tag}") == both
    assert ids(f"labels:{tag}") == both
    client.delete_project(name=red.name).result(timeout=30)
    assert ids(f"labels.run:{tag} AND state:ACTIVE") == [blue.project_id]
    assert ids(f"labels.run:{tag} AND state:DELETE_REQUESTED") == [red.project_id]
    for bad in ("nonsense", "colour:red", "AND id:x"):
        with pytest.raises(exceptions.BadRequest) as info:
            ids(bad)
        assert google_status(info.value) == "INVALID_ARGUMENT"


def test_move_project(client: resourcemanager_v3.ProjectsClient, folder: str) -> None:
    project = create(client, folder)
    moved = client.move_project(name=project.name, destination_parent="organizations/42").result(timeout=30)
    assert moved.parent == "organizations/42"
    assert client.get_project(name=project.name).parent == "organizations/42"
