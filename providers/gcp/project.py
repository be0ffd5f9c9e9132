"""``gcp:resourcemanager:Project``: a Google Cloud project (Resource Manager v3).

The id is the project id. ``display_name`` and ``labels`` update in place (one
``update_project`` with a field mask); a new ``parent`` (``folders/N`` or
``organizations/N``) moves the project. Create, update, move and delete are
long-running operations, awaited with ``.result()``. A project pending deletion
(``DELETE_REQUESTED``) reads as gone.
"""

from __future__ import annotations

from typing import Any, Mapping

from provision.errors import CloudError
from provision.provider import CloudConfig, PropertySchema, ReadResult, ResourceSchema

from providers.base import finish_create, name_taken, plan_update, with_defaults
from providers.gcp import session

TYPE = "gcp:resourcemanager:Project"

SCHEMA = ResourceSchema(
    type_name=TYPE,
    cloud="gcp",
    read_back=True,                 # create and update end with a read
    terraform_type="google_project",
    description="A Google Cloud project.",
    properties={
        "project_id": PropertySchema("string", required=True, force_new=True,
                                     description="6-30 lowercase letters, digits and hyphens"),
        "display_name": PropertySchema("string", description="human readable name"),
        "labels": PropertySchema("map", items="string"),
        "parent": PropertySchema("string", description="folders/N or organizations/N"),
    },
    outputs={"name": "string", "number": "string", "state": "string"},
)


class Project:
    """CRUD for projects through ``resourcemanager_v3.ProjectsClient``."""

    schema = SCHEMA

    def create(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult:
        from google.cloud import resourcemanager_v3

        values = with_defaults(SCHEMA, props)
        project_id = str(values["project_id"])
        body: dict[str, Any] = {"project_id": project_id, "labels": _labels(values["labels"])}
        if values["display_name"]:
            body["display_name"] = values["display_name"]
        if values["parent"]:
            body["parent"] = values["parent"]
        retry = session.api_retry(config)
        if _get(project_id, config) is not None:
            raise name_taken("GCP error 409 ALREADY_EXISTS: the project already exists",
                             what="project", name=project_id, resource_type=TYPE,
                             cloud_id=project_id)
        with session.translate(TYPE, project_id, config):
            client = session.projects_client(config)
            try:
                client.create_project(project=resourcemanager_v3.Project(**body),
                                      retry=retry).result(retry=retry)
            except Exception as exc:
                # Free a moment ago: a retried create met the project its first try made.
                if session.status_code(exc) != 409:
                    raise

        def finish() -> ReadResult:
            result = self.read(project_id, values, config)
            if result is None:
                raise CloudError("project vanished right after it was created",
                                 resource=project_id, resource_type=TYPE)
            return result

        return finish_create(finish, lambda: self.delete(project_id, values, config),
                             resource=project_id, resource_type=TYPE)

    def find(self, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        """The project with id ``props["project_id"]`` (its natural key), if it exists."""
        project_id = str(props.get("project_id") or "")
        return self.read(project_id, props, config) if project_id else None

    def read(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> ReadResult | None:
        with session.translate(TYPE, id, config):
            client = session.projects_client(config)
            try:
                project = client.get_project(name=f"projects/{id}",
                                             retry=session.api_retry(config))
            except Exception as exc:
                if session.is_not_found(exc):
                    return None
                raise
        state = _state(project)
        if state == "DELETE_REQUESTED":
            return None
        return ReadResult(id=id, properties={
            "project_id": project.project_id or id,
            "display_name": project.display_name or None,
            "labels": dict(project.labels),
            "parent": project.parent or None,
            "name": project.name,
            "number": project.name.rpartition("/")[2] if project.name else None,
            "state": state,
        })

    def update(self, id: str, old: Mapping[str, Any], new: Mapping[str, Any],
               config: CloudConfig) -> ReadResult:
        from google.cloud import resourcemanager_v3
        from google.protobuf import field_mask_pb2

        values, names = plan_update(SCHEMA, old, new, resource=id)
        fields = [n for n in names if n in ("display_name", "labels")]
        # Writes address the project by its canonical name, projects/NUMBER.
        name = self._canonical_name(id, config)
        retry = session.api_retry(config)
        with session.translate(TYPE, id, config):
            client = session.projects_client(config)
            if fields:
                project = resourcemanager_v3.Project(
                    name=name, display_name=values["display_name"] or "",
                    labels=_labels(values["labels"]))
                client.update_project(project=project,
                                      update_mask=field_mask_pb2.FieldMask(paths=fields),
                                      retry=retry).result(retry=retry)
            if "parent" in names and values["parent"]:
                client.move_project(name=name, destination_parent=values["parent"],
                                    retry=retry).result(retry=retry)
        result = self.read(id, values, config)
        if result is None:
            raise _gone(id)
        return result

    def delete(self, id: str, props: Mapping[str, Any], config: CloudConfig) -> None:
        current = self.read(id, props, config)
        if current is None:
            return
        with session.translate(TYPE, id, config):
            client = session.projects_client(config)
            try:
                retry = session.api_retry(config)
                client.delete_project(name=current.properties["name"],
                                      retry=retry).result(retry=retry)
            except Exception as exc:
                if session.is_not_found(exc):
                    return
                raise

    def _canonical_name(self, id: str, config: CloudConfig) -> str:
        current = self.read(id, {}, config)
        if current is None:
            raise _gone(id)
        return str(current.properties["name"])


def _get(id: str, config: CloudConfig) -> Any:
    """The project in any state (one GET), or None if there is none."""
    with session.translate(TYPE, id, config):
        client = session.projects_client(config)
        try:
            return client.get_project(name=f"projects/{id}", retry=session.api_retry(config))
        except Exception as exc:
            if session.is_not_found(exc):
                return None
            raise


def _gone(id: str) -> CloudError:
    return CloudError("project no longer exists", resource=id, resource_type=TYPE,
                      hint="it was deleted outside provision; refresh and apply again")


def _state(project: Any) -> str:
    state = project.state
    return str(getattr(state, "name", state))


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}
