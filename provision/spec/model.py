"""The parsed spec: what the user wrote, located, not yet evaluated.

A spec is the same model whether it was read from YAML or HCL. Values keep their
references (``${aws_bucket.arn}``, ``${var.x}``, ``${env.region}``) as typed
objects; ``provision.spec.resolve`` substitutes variables and environment
settings, and the engine substitutes resource outputs stage by stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

RefKind = Literal["resource", "var", "env"]


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @classmethod
    def at(cls, file: str, line: int, column: int) -> SourceLocation:
        """``SourceLocation(file, line, column)``, made in half the time: without the
        frozen dataclass ``__init__``'s ``object.__setattr__`` per field (a spec of 10k
        resources makes some 60,000)."""
        loc = object.__new__(cls)
        fields = loc.__dict__
        fields["file"], fields["line"], fields["column"] = file, line, column
        return loc


@dataclass(frozen=True)
class Reference:
    """``${kind.target.attribute}``; for resources ``target`` is the resource id."""

    kind: RefKind
    target: str
    attribute: str = ""
    raw: str = ""

    def __str__(self) -> str:
        return self.raw or (
            "${" + (f"{self.kind}." if self.kind != "resource" else "")
            + self.target + (f".{self.attribute}" if self.attribute else "") + "}"
        )


@dataclass(frozen=True)
class Template:
    """A string with references inside it: ``"logs-${var.env}-${bucket.name}"``."""

    parts: tuple[Union[str, Reference], ...]

    def references(self) -> list[Reference]:
        return [p for p in self.parts if isinstance(p, Reference)]


# A property value as written: scalars, references, templates, lists and maps of them.
Value = Any


@dataclass
class Variable:
    name: str
    type: str = "string"  # string | number | bool | list | map
    default: Any = None
    required: bool = True
    description: str = ""
    location: SourceLocation | None = None


@dataclass(frozen=True)
class HealthCheck:
    """One check an environment must pass after its apply in a rollout.

    ``kind`` is ``resource`` (``target`` = resource id; ``expect`` = properties the live
    resource must have), ``output`` (``target`` = ``<resource>.<attribute>``; ``equals``
    or ``matches`` a regular expression) or ``http`` (``target`` = URL; ``status`` any of
    the expected codes within ``timeout`` seconds per attempt, ``retries`` more attempts
    ``interval`` seconds apart).
    """

    name: str
    kind: Literal["resource", "output", "http"]
    target: str
    expect: dict[str, Any] = field(default_factory=dict)
    equals: Any = None
    matches: str | None = None
    status: tuple[int, ...] = (200,)
    timeout: float = 10.0
    retries: int = 3
    interval: float = 2.0
    location: SourceLocation | None = None


@dataclass
class Environment:
    name: str
    # Per-cloud settings, e.g. {"aws": {"region": "eu-west-1"}, "gcp": {"project": "p"}}.
    clouds: dict[str, dict[str, Any]] = field(default_factory=dict)
    protected: bool = False
    variables: dict[str, Any] = field(default_factory=dict)
    # Per-resource property overrides: {resource_id: {property: value}}.
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    location: SourceLocation | None = None
    # Where each override was written: "<resource id>" and "<resource id>.<property>".
    override_locations: dict[str, SourceLocation] = field(default_factory=dict)
    # ``sandbox: true``: this environment targets the local emulators too.
    use_sandbox: bool = False
    # ``approval: true``: a rollout halts for an approval before applying it
    # (protected environments always need one).
    approval: bool = False
    health_checks: list[HealthCheck] = field(default_factory=list)
    # ``queues: {aws: prod-aws, "*": prod}``: the Temporal task queue of each cloud's
    # stages in this environment (credential-scoped workers poll them).
    queues: dict[str, str] = field(default_factory=dict)

    @property
    def sandbox(self) -> bool:
        """An environment named ``local``, or one with ``sandbox: true``, targets the
        local emulators."""
        return self.use_sandbox or self.name == "local"

    @property
    def needs_approval(self) -> bool:
        """A rollout must stop for an approval of this environment's plan."""
        return self.protected or self.approval


@dataclass
class Resource:
    id: str
    type: str
    properties: dict[str, Value] = field(default_factory=dict)
    stage: str | None = None
    depends_on: tuple[str, ...] = ()
    protect: bool = False
    location: SourceLocation | None = None
    # Where each top-level property was written, for precise diagnostics; nested map
    # keys and list items are here too under dotted paths ("tags.owner", "members.0").
    property_locations: dict[str, SourceLocation] = field(default_factory=dict)
    # Ids this resource had before (``moved_from``): the engine takes a resource recorded
    # under one of them as this one (Pulumi aliases), so renaming an id moves it in state.
    moved_from: tuple[str, ...] = ()
    # (line, column) where its ``type`` and ``depends_on`` were written, None when they
    # were not: kept as plain pairs (a spec of 10k resources makes them all, and reads
    # them only for a diagnostic); see type_location and depends_on_location.
    type_at: tuple[int, int] | None = None
    depends_on_at: tuple[int, int] | None = None

    @property
    def cloud(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def type_location(self) -> SourceLocation | None:
        """Where ``type`` was written, else where the resource was (None: unknown)."""
        return self._at(self.type_at)

    @property
    def depends_on_location(self) -> SourceLocation | None:
        """Where ``depends_on`` was written, else where the resource was (None: unknown)."""
        return self._at(self.depends_on_at)

    def _at(self, at: tuple[int, int] | None) -> SourceLocation | None:
        if at is None or self.location is None:
            return self.location
        return SourceLocation.at(self.location.file, at[0], at[1])


@dataclass
class Spec:
    name: str
    path: str
    variables: dict[str, Variable] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    # State backend URL (file://, s3://, ...); None means .provision/state beside the spec root.
    backend: str | None = None
    # Who runs the stages: local (default), temporal-local or temporal://host:port.
    executor: str | None = None
    location: SourceLocation | None = None
    # ``promotion: [dev, staging, prod]``: the order a rollout applies environments in.
    promotion: list[str] = field(default_factory=list)
    # The stage graph ``validate`` built for its cycle check, kept for one
    # ``build_stages`` of this spec or of its resolution for an environment whose
    # overrides change no resource reference (``resolve`` moves it there).
    graph_memo: GraphMemo | None = field(default=None, init=False, repr=False,
                                         compare=False)


@dataclass(frozen=True)
class GraphMemo:
    """A stage graph kept for one later use, with the resources it was built from.

    ``graph`` is a :class:`provision.graph.stages.StageGraph`. It still fits a spec
    whose ``resources`` are the same ids mapped to the same :class:`Resource`
    objects (specs are not changed once built).
    """

    resources: tuple[tuple[str, Resource], ...]
    graph: Any

    @classmethod
    def of(cls, spec: Spec, graph: Any) -> GraphMemo:
        return cls(tuple(spec.resources.items()), graph)

    def fits(self, spec: Spec) -> bool:
        return self.resources == tuple(spec.resources.items())
