"""In-memory projects of the Cloud Resource Manager v3 emulator and their rules.

Project ids, display names and labels are checked as the real API checks them;
projects are found by id or number; ``search`` understands the documented
``field:value`` query terms.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from provision.sandbox.emulators._http import HttpError

PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
DISPLAY_NAME = re.compile(r"^[A-Za-z0-9'\- !]{4,30}$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
PARENT = re.compile(r"^(folders|organizations)/[0-9]+$")
STATES = {"STATE_UNSPECIFIED": 0, "ACTIVE": 1, "DELETE_REQUESTED": 2}
MAX_LABELS = 256

_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS"}


def google_error(code: int, message: str, status: str | None = None) -> HttpError:
    return HttpError(code, {"error": {"code": code, "message": message,
                                      "status": status or _STATUS.get(code, "UNKNOWN")}})


def invalid(message: str) -> HttpError:
    return google_error(400, message, "INVALID_ARGUMENT")


def precondition(message: str) -> HttpError:
    return google_error(400, message, "FAILED_PRECONDITION")


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_project_id(project_id: str) -> None:
    if not PROJECT_ID.match(project_id):
        raise invalid(f"field [project_id] has issue [project_id contains invalid characters or length]: "
                      f"'{project_id}' must be 6 to 30 lowercase letters, digits or hyphens, start with a "
                      "letter and not end with a hyphen")
    if "google" in project_id or {"null", "undefined", "ssl"} & set(project_id.split("-")):
        raise invalid(f"field [project_id] has issue [project_id contains a restricted string]: '{project_id}'")


def check_display_name(name: str) -> None:
    if name and not DISPLAY_NAME.match(name):
        raise invalid(f"field [display_name] has issue [invalid display name]: '{name}' must be 4 to 30 "
                      "letters, digits, single quotes, hyphens, spaces or exclamation points")


def check_labels(labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise invalid("field [labels] must be a map of strings")
    if len(labels) > MAX_LABELS:
        raise invalid(f"field [labels] has more than {MAX_LABELS} entries")
    for key, value in labels.items():
        if not LABEL_KEY.match(str(key)):
            raise invalid(f"field [labels] has issue [invalid label key]: '{key}'")
        if not isinstance(value, str) or not LABEL_VALUE.match(value):
            raise invalid(f"field [labels] has issue [invalid label value]: '{key}={value}'")
    return {str(k): str(v) for k, v in labels.items()}


def check_parent(parent: str) -> str:
    if parent and not PARENT.match(parent):
        raise invalid(f"field [parent] has issue [invalid parent]: '{parent}' must be folders/N or organizations/N")
    return parent


@dataclass
class Project:
    project_id: str
    number: int
    parent: str = ""
    display_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    state: str = "ACTIVE"
    create_time: str = field(default_factory=timestamp)
    update_time: str = ""
    delete_time: str = ""

    @property
    def name(self) -> str:
        return f"projects/{self.number}"

    def touch(self) -> None:
        self.update_time = timestamp()

    def to_json(self, int_enums: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name, "projectId": self.project_id,
            "state": STATES[self.state] if int_enums else self.state,
            "createTime": self.create_time, "updateTime": self.update_time or self.create_time,
        }
        for key, value in (("parent", self.parent), ("displayName", self.display_name),
                           ("deleteTime", self.delete_time)):
            if value:
                body[key] = value
        if self.labels:
            body["labels"] = dict(self.labels)
        digest = hashlib.sha1(repr(sorted(body.items(), key=str)).encode()).hexdigest()[:16]
        body["etag"] = f'W/"{digest}"'
        return body


class CrmStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}  # by project id
        self._numbers = itertools.count(100000000001, 7919)

    def create(self, body: dict[str, Any]) -> Project:
        project_id = str(body.get("projectId") or "")
        if not project_id:
            raise invalid("field [project_id] has issue [project_id must be specified]")
        check_project_id(project_id)
        display_name = str(body.get("displayName") or "")
        check_display_name(display_name)
        labels = check_labels(body.get("labels"))
        parent = check_parent(str(body.get("parent") or ""))
        if project_id in self.projects:
            raise google_error(409, "Requested entity already exists", "ALREADY_EXISTS")
        project = Project(project_id, next(self._numbers), parent, display_name, labels)
        self.projects[project_id] = project
        return project

    def get(self, name: str) -> Project:
        """By ``projects/<id>`` or ``projects/<number>``."""
        key = name.split("/", 1)[1] if name.startswith("projects/") else name
        project = self.projects.get(key)
        if project is None and key.isdigit():
            project = next((p for p in self.projects.values() if str(p.number) == key), None)
        if project is None:
            raise google_error(404, f"Project '{name}' not found.", "NOT_FOUND")
        return project

    def update(self, name: str, body: dict[str, Any], mask: list[str]) -> Project:
        project = self.get(name)
        if project.state != "ACTIVE":
            raise precondition(f"Project '{name}' is scheduled for deletion and cannot be updated.")
        fields = mask or ["displayName", "labels"]
        for path in fields:
            if path in ("displayName", "display_name"):
                display_name = str(body.get("displayName") or "")
                check_display_name(display_name)
                project.display_name = display_name
            elif path == "labels":
                project.labels = check_labels(body.get("labels"))
            else:
                raise invalid(f"field [update_mask] has issue [unsupported path]: '{path}' "
                              "(only display_name and labels can be updated)")
        project.touch()
        return project

    def delete(self, name: str) -> Project:
        project = self.get(name)
        if project.state != "ACTIVE":
            raise precondition(f"Project '{name}' is already scheduled for deletion.")
        project.state, project.delete_time = "DELETE_REQUESTED", timestamp()
        project.touch()
        return project

    def undelete(self, name: str) -> Project:
        project = self.get(name)
        if project.state != "DELETE_REQUESTED":
            raise precondition(f"Project '{name}' is not in state DELETE_REQUESTED.")
        project.state, project.delete_time = "ACTIVE", ""
        project.touch()
        return project

    def move(self, name: str, destination: str) -> Project:
        project = self.get(name)
        if not destination:
            raise invalid("field [destination_parent] has issue [destination_parent must be specified]")
        project.parent = check_parent(destination)
        project.touch()
        return project

    def children(self, parent: str, show_deleted: bool) -> list[Project]:
        if not parent:
            raise invalid("field [parent] has issue [parent must be specified]")
        check_parent(parent)
        return [p for p in self._ordered() if p.parent == parent
                and (show_deleted or p.state == "ACTIVE")]

    def search(self, query: str) -> list[Project]:
        """Projects matching ANY whitespace-separated term (as documented for v3);
        ``a AND b`` requires both. An empty query matches every project."""
        groups = _parse_query(query)
        return [p for p in self._ordered()
                if not groups or any(all(_matches(p, k, v) for k, v in group) for group in groups)]

    def _ordered(self) -> list[Project]:
        return sorted(self.projects.values(), key=lambda p: p.number)


_KEYS = {"displayname", "name", "id", "projectid", "parent", "parent.type", "parent.id", "state",
         "lifecyclestate", "labels"}


def _parse_query(query: str) -> list[list[tuple[str, str]]]:
    """``a b AND c OR d`` -> [[a], [b, c], [d]]: OR of AND-groups."""
    groups: list[list[tuple[str, str]]] = []
    joined = False
    for token in query.split():
        if token.upper() == "OR":
            continue
        if token.upper() == "AND":
            if not groups:
                raise invalid("field [query] has issue [AND without a left operand]")
            joined = True
            continue
        term = _parse_term(token)
        if joined:
            groups[-1].append(term)
        else:
            groups.append([term])
        joined = False
    if joined:
        raise invalid("field [query] has issue [AND without a right operand]")
    return groups


def _parse_term(term: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Za-z_.\-]+)\s*[:=]\s*(.+)", term)
    if match is None:
        raise invalid(f"field [query] has issue [invalid term]: '{term}' (expected field:value)")
    key, value = match.group(1).lower(), match.group(2).strip("\"'").lower()
    if key not in _KEYS and not key.startswith("labels."):
        raise invalid(f"field [query] has issue [unknown field]: '{match.group(1)}'")
    return key, value


def _like(actual: str, pattern: str) -> bool:
    """Case-insensitive; ``*`` alone means present, a trailing ``*`` a prefix."""
    actual = actual.lower()
    if pattern == "*":
        return bool(actual)
    if pattern.endswith("*"):
        return actual.startswith(pattern[:-1])
    return actual == pattern


def _matches(project: Project, key: str, value: str) -> bool:
    parent_type, _, parent_id = project.parent.partition("/")
    if key in ("displayname", "name"):
        return _like(project.display_name, value)
    if key in ("id", "projectid"):
        return _like(project.project_id, value)
    if key == "parent":
        return _like(project.parent, value)
    if key == "parent.type":
        return bool(parent_type) and parent_type.rstrip("s") == value.rstrip("s")
    if key == "parent.id":
        return _like(parent_id, value)
    if key in ("state", "lifecyclestate"):
        return project.state.lower() == value
    labels = {k.lower(): v for k, v in project.labels.items()}
    if key == "labels":
        return any(_like(k, value) or _like(v, value) for k, v in labels.items())
    label = key.split(".", 1)[1]
    if value == "*":
        return label in labels
    return label in labels and _like(labels[label], value)
