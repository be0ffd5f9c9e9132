"""``gcp:resourcemanager:Project``: schema, and CRUD over HTTP against the CRM emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig
from providers.gcp.project import SCHEMA, Project


def test_schema() -> None:
    props = SCHEMA.properties
    assert props["project_id"].required and props["project_id"].force_new
    for name in ("display_name", "labels", "parent"):
        assert not props[name].force_new, name
    assert set(SCHEMA.outputs) == {"name", "number", "state"}


def test_update_refuses_a_new_project_id_without_calling_gcp() -> None:
    config = CloudConfig("gcp", {}, sandbox=True)
    with pytest.raises(ProviderError, match="cannot update project_id in place"):
        Project().update("p-one", {"project_id": "p-one"}, {"project_id": "p-two"}, config)


@pytest.mark.sandbox
def test_crud_round_trip(gcp_config: CloudConfig, crm: Any, unique: str) -> None:
    from google.cloud import resourcemanager_v3

    project_id = f"prov-{unique}"
    adapter = Project()
    created = adapter.create({"project_id": project_id, "display_name": "Provision Test",
                              "labels": {"team": "core"}, "parent": "folders/1001"}, gcp_config)
    props = created.properties
    assert created.id == project_id
    assert set(created.properties) == SCHEMA.readable() - {"id"}  # every input and output
    assert json.loads(json.dumps(created.properties)) == created.properties  # state-safe
    assert {type(v) for v in created.properties.values()} <= {str, int, bool, dict, type(None)}
    assert props["state"] == "ACTIVE"
    assert props["name"] == f"projects/{props['number']}" and props["number"].isdigit()
    direct = crm.get_project(name=f"projects/{project_id}")
    assert direct.display_name == "Provision Test" and dict(direct.labels) == {"team": "core"}
    assert direct.parent == "folders/1001" and direct.name == props["name"]

    read = adapter.read(project_id, props, gcp_config)
    assert read is not None and read.properties == props

    new = {"project_id": project_id, "display_name": "Provision Renamed",
           "labels": {"env": "dev"}, "parent": "folders/2002"}
    updated = adapter.update(project_id, props, new, gcp_config)
    assert updated.properties["display_name"] == "Provision Renamed"
    assert updated.properties["labels"] == {"env": "dev"}
    assert updated.properties["parent"] == "folders/2002"
    direct = crm.get_project(name=f"projects/{project_id}")
    assert direct.display_name == "Provision Renamed" and dict(direct.labels) == {"env": "dev"}
    assert direct.parent == "folders/2002"
    reread = adapter.read(project_id, {}, gcp_config)
    assert reread is not None and reread.properties == updated.properties

    adapter.delete(project_id, updated.properties, gcp_config)
    assert adapter.read(project_id, updated.properties, gcp_config) is None
    state = crm.get_project(name=f"projects/{project_id}").state
    assert state == resourcemanager_v3.Project.State.DELETE_REQUESTED
    adapter.delete(project_id, updated.properties, gcp_config)  # already gone: succeeds


@pytest.mark.sandbox
def test_invalid_project_id_is_a_clear_cloud_error(gcp_config: CloudConfig) -> None:
    with pytest.raises(CloudError) as info:
        Project().create({"project_id": "Not_Valid"}, gcp_config)
    message = info.value.message
    assert message.startswith("Not_Valid (gcp:resourcemanager:Project): GCP error 400 ")
    assert "project_id" in message and "http://" not in message


@pytest.mark.sandbox
def test_duplicate_project_is_a_conflict(gcp_config: CloudConfig, crm: Any, unique: str) -> None:
    project_id = f"prov-dup-{unique}"
    created = Project().create({"project_id": project_id}, gcp_config)
    with pytest.raises(CloudError, match="GCP error 409"):
        Project().create({"project_id": project_id}, gcp_config)
    Project().delete(created.id, created.properties, gcp_config)


@pytest.mark.sandbox
def test_update_of_a_project_deleted_elsewhere_is_a_clear_error(
        gcp_config: CloudConfig, crm: Any, unique: str) -> None:
    project_id = f"prov-gone-{unique}"
    created = Project().create({"project_id": project_id}, gcp_config)
    crm.delete_project(name=created.properties["name"]).result()
    with pytest.raises(CloudError, match="project no longer exists") as info:
        Project().update(project_id, created.properties,
                         {"project_id": project_id, "display_name": "Renamed Project"}, gcp_config)
    assert "refresh" in info.value.hint
