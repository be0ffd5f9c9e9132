"""The plan: per stage, the changes the engine will make, in execution order.

A plan is data. Views (human, JSON, Terraform-plan JSON) render it; ``apply``
executes a plan's change set. Values that cannot be known before an upstream
stage is applied are :data:`UNKNOWN`, never a made-up value.

This module is the one home of "known only after apply": the marker
:data:`UNKNOWN`, the one property-path syntax (dotted, list indexes as numbers:
``tags.owner``, ``members.0``) and the helpers every layer uses
(:func:`is_unknown`, :func:`has_unknown`, :func:`unknown_paths`, :func:`dig`,
:func:`split_path`, :func:`join_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from provision.spec.model import Reference, Template
from provision.vocabulary import Action

__all__ = ["FORMAT_VERSION", "UNKNOWN", "Action", "Change", "Live", "LiveResource", "Plan",
           "PropertyDiff", "StagePlan",
           "dig", "has_unknown", "is_unknown", "join_path", "known_part", "split_path",
           "unknown_paths"]

FORMAT_VERSION = "1.1"


class _Unknown:
    """Marker for a value known only after apply."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    """True for a value known only after apply: UNKNOWN, or a spec reference
    (:class:`Reference`, :class:`Template`) not substituted yet."""
    return value is UNKNOWN or isinstance(value, (Reference, Template))


def has_unknown(value: Any) -> bool:
    """True when ``value`` is unknown (:func:`is_unknown`) or contains an unknown anywhere."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def unknown_paths(value: Any, prefix: str = "") -> list[str]:
    """The property paths of every unknown (:func:`is_unknown`) inside ``value``, in the
    one path syntax: dotted, list indexes as numbers (``tags.owner``, ``members.0``).
    ``""`` when ``value`` itself is unknown and ``prefix`` is empty."""
    if is_unknown(value):
        return [prefix]
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += unknown_paths(v, join_path(prefix, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += unknown_paths(v, join_path(prefix, str(i)))
    return found


def join_path(prefix: str, key: str) -> str:
    """``prefix`` extended by one segment (a map key or a list index)."""
    return f"{prefix}.{key}" if prefix else key


def split_path(path: str) -> list[str]:
    """The segments of a property path (``"members.0.name"`` -> ``["members", "0", "name"]``)."""
    return path.split(".") if path else []


def known_part(props: dict[str, Any]) -> dict[str, Any]:
    """The top-level properties of ``props`` whose values are fully known."""
    return {k: v for k, v in props.items() if not has_unknown(v)}


def dig(value: Any, path: list[str]) -> Any:
    """``value`` at a property path given as segments (map keys, list indexes as digits);
    None where it is absent. UNKNOWN stays UNKNOWN all the way down."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


@dataclass(frozen=True)
class PropertyDiff:
    path: str          # "tags.owner"
    before: Any
    after: Any         # UNKNOWN when known only after apply
    replaces: bool = False
    secret: bool = False


@dataclass
class Change:
    id: str
    type: str
    action: Action
    stage: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diffs: list[PropertyDiff] = field(default_factory=list)
    # Dotted property paths whose values are known only after apply.
    unknown: list[str] = field(default_factory=list)
    file: str = ""
    line: int = 0
    # What apply declares for the resource: the spec's values resolved for the
    # environment, references to other resources kept as Reference/Template (resolved
    # from the real upstream outputs at apply). None for a delete.
    inputs: dict[str, Any] | None = None
    # Top-level property names never shown: secret in the schema, or derived from a
    # secret attribute of another resource (provision.engine.secrets).
    secrets: list[str] = field(default_factory=list)


class LiveResource(NamedTuple):
    """One resource as the cloud reports it now, located in the spec.

    ``properties``: the adapter's ``read`` (properties and outputs); ``file``/``line``:
    where the resource is declared ("" / 0 when unknown). A plain ``(type, properties)``
    pair is accepted wherever a record is read, as a record without a location.
    """

    type: str
    properties: dict[str, Any]
    file: str = ""
    line: int = 0


# The live state of resources: resource id -> its record.
Live = dict[str, LiveResource]


@dataclass
class StagePlan:
    name: str
    stack: str
    depends_on: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    # True when the plan's refresh found every recorded resource of the stack as recorded
    # (or there was none): an update right after this plan need not read it all again.
    # Kept in memory only; a plan read back from a file says False.
    live_as_recorded: bool = False

    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)


@dataclass
class Plan:
    spec: str
    env: str
    spec_file: str
    stages: list[StagePlan] = field(default_factory=list)
    spec_digest: str = ""          # sha256 of the spec source(s) the plan was made from
    state_digests: dict[str, str] = field(default_factory=dict)  # stack -> digest of its state when planned
    # The --target / --exclude the plan was made with; applying it uses exactly these.
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    format_version: str = FORMAT_VERSION

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for stage in self.stages:
            for change in stage.changes:
                counts[change.action.value] += 1
        return counts

    def has_changes(self) -> bool:
        return any(s.has_changes() for s in self.stages)
