"""Build the located :class:`Spec` model from a parsed :class:`Document`.

Checks the document's structure (known keys, value shapes, reference syntax,
duplicate ids) and collects every problem as a :class:`Diagnostic` instead of
stopping at the first one. Semantic checks against adapter schemas live in
:mod:`provision.spec.validate`.
"""

from __future__ import annotations

import re
from typing import Any

from provision.errors import Diagnostic
from provision.spec.build_rollout import (ENVIRONMENT_ROLLOUT_KEYS, environment_rollout,
                                          health_check_targets, promotion)
from provision.spec.document import Document, Path
from provision.spec.hints import did_you_mean, one_of
from provision.spec.limits import MAX_RESOURCES
from provision.spec.model import Environment, Resource, SourceLocation, Spec, Variable
from provision.spec.refs import RefParser, RefSyntaxError

TOP_KEYS = ("name", "backend", "executor", "variables", "environments", "resources", "promotion")
# What HCL users write at top level: attributes and the block types.
HCL_TOP_NAMES = ("name", "backend", "executor", "variable", "environment", "resource", "promotion")
RESOURCE_KEYS = ("type", "properties", "stage", "depends_on", "protect", "moved_from")
_RESOURCE_KEY_SET = frozenset(RESOURCE_KEYS)
VARIABLE_KEYS = ("type", "default", "description")
VARIABLE_TYPES = ("string", "number", "bool", "list", "map")
CLOUDS = ("aws", "azure", "gcp")
ENVIRONMENT_KEYS = ("protected", "variables", "overrides", "queues", *CLOUDS, *ENVIRONMENT_ROLLOUT_KEYS)
RESERVED_IDS = ("var", "env")
ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
TYPE_PATTERN = re.compile(r"[a-z][a-z0-9]*:[A-Za-z0-9_.]+:[A-Za-z0-9_]+\Z")
# C0, DEL and C1 control characters: never in a name or a map key; in a value only
# tab, line feed and carriage return (policy documents and scripts span lines).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VALUE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.diagnostics: list[Diagnostic] = list(doc.diagnostics)
        self.refs = RefParser()
        self.parse_text = self.refs.text        # once per string with a reference: bound once

    def error(self, path: Path, message: str, *, resource: str = "", hint: str = "") -> None:
        self.diagnostics.append(self.doc.diag(path, message, resource=resource, hint=hint))

    def expect_map(self, value: Any, path: Path, what: str, resource: str = "") -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a map, got {_kind(value)}", resource=resource)
            return {}
        return value

    def unknown_keys(self, data: dict[str, Any], allowed: tuple[str, ...], path: Path,
                     what: str, resource: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.error(path + (key,), f"unknown {what} key '{key}'", resource=resource,
                           hint=did_you_mean(key, allowed, fallback=one_of(allowed)))

    def values(self, value: Any, path: Path, resource: str = "") -> Any:
        def report(exc: RefSyntaxError, below: tuple[Any, ...]) -> None:
            self.error(path + below, exc.message, resource=resource, hint=exc.hint)
        return self.refs.value(value, report)

    # -- sections -----------------------------------------------------------------

    def build(self) -> Spec:
        doc = self.doc
        spec = Spec(name="", path=doc.file, location=doc.location(()))
        if doc.data is None:
            return spec
        if not isinstance(doc.data, dict):
            self.error((), f"a spec must be a map at top level, got {_kind(doc.data)}")
            return spec
        data = doc.data
        if doc.form == "hcl":
            for key in data:
                if key not in TOP_KEYS:
                    self.error((key,), f"unknown top-level block or attribute '{key}'",
                               hint=did_you_mean(key, HCL_TOP_NAMES,
                                                 fallback=one_of(HCL_TOP_NAMES)))
        else:
            self.unknown_keys(data, TOP_KEYS, (), "top-level")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            self.error(("name",) if "name" in data else (), "the spec needs a 'name' (a string)",
                       hint="add e.g. 'name: my-stack' at top level")
        else:
            spec.name = name
            self.control(name, ("name",), "the spec name", CONTROL)
        backend = data.get("backend")
        if backend is not None and not isinstance(backend, str):
            self.error(("backend",), f"'backend' must be a URL string, got {_kind(backend)}")
        elif backend:
            spec.backend = backend
        executor = data.get("executor")
        if executor is not None and not isinstance(executor, str):
            self.error(("executor",), "'executor' must be local, temporal-local or "
                       f"temporal://host:port, got {_kind(executor)}")
        elif executor:
            spec.executor = executor
        for name_, raw in self.expect_map(data.get("variables"), ("variables",),
                                          "'variables'").items():
            spec.variables[name_] = self.variable(name_, raw)
        for name_, raw in self.expect_map(data.get("environments"), ("environments",),
                                          "'environments'").items():
            spec.environments[name_] = self.environment(name_, raw)
        resources = self.expect_map(data.get("resources"), ("resources",), "'resources'")
        if len(resources) > MAX_RESOURCES:
            self.error(("resources",), f"the spec declares {len(resources):,} resources, more "
                       f"than the limit of {MAX_RESOURCES:,}",
                       hint="input limit: split the spec into several specs")
            resources = {}
        for rid, raw in resources.items():
            resource = self.resource(rid, raw)
            if resource is not None:
                spec.resources[rid] = resource
        promotion(self, spec, data)
        health_check_targets(self, spec)
        self.duplicates()
        return spec

    def variable(self, name: str, raw: Any) -> Variable:
        path: Path = ("variables", name)
        var = Variable(name=name, location=self.doc.location(path))
        if not self.control(name, path, "the variable name", CONTROL) and (
                not ID_PATTERN.match(name)):
            self.error(path, f"invalid variable name '{name}'",
                       hint="use letters, digits, '_' and '-', starting with a letter")
        body = self.expect_map(raw, path, f"variable '{name}'")
        self.unknown_keys(body, VARIABLE_KEYS, path, "variable")
        vtype = body.get("type", "string")
        if isinstance(vtype, str):
            vtype = _strip_interpolation(vtype)  # HCL: type = string
        if vtype not in VARIABLE_TYPES:
            self.error(path + ("type",), f"variable '{name}' has unknown type {vtype!r}",
                       hint=did_you_mean(str(vtype), VARIABLE_TYPES,
                                         fallback=one_of(VARIABLE_TYPES)))
        else:
            var.type = vtype
        if "default" in body:
            self.controls(body["default"], path + ("default",), f"variables.{name}.default")
            var.default = body["default"]
            var.required = False
            if not value_matches(var.type, var.default):
                self.error(path + ("default",),
                           f"default of variable '{name}' is {_kind(var.default)}, "
                           f"not {var.type}")
        var.description = str(body.get("description", "") or "")
        return var

    def environment(self, name: str, raw: Any) -> Environment:
        path: Path = ("environments", name)
        env = Environment(name=name, location=self.doc.location(path))
        self.control(name, path, "the environment name", CONTROL)
        body = self.expect_map(raw, path, f"environment '{name}'")
        self.unknown_keys(body, ENVIRONMENT_KEYS, path, "environment")
        protected = body.get("protected", False)
        if not isinstance(protected, bool):
            self.error(path + ("protected",), "'protected' must be true or false")
        env.protected = protected is True
        for cloud in CLOUDS:
            if cloud in body:
                env.clouds[cloud] = self.expect_map(body[cloud], path + (cloud,),
                                                    f"'{cloud}' settings")
        env.variables = self.expect_map(body.get("variables"), path + ("variables",),
                                        "'variables'")
        for key in ("variables", "overrides", *CLOUDS):
            if isinstance(body.get(key), dict):
                self.controls(body[key], path + (key,), key)
        overrides = self.expect_map(body.get("overrides"), path + ("overrides",), "'overrides'")
        for rid, props in overrides.items():
            opath = path + ("overrides", rid)
            env.overrides[rid] = self.values(
                self.expect_map(props, opath, f"overrides of '{rid}'"), opath)
            env.override_locations[rid] = self.doc.location(opath)
            for key in env.overrides[rid]:
                env.override_locations[f"{rid}.{key}"] = self.doc.location(opath + (key,))
        queues = self.expect_map(body.get("queues"), path + ("queues",), "'queues'")
        for cloud, queue in queues.items():
            if cloud not in (*CLOUDS, "*"):
                self.error(path + ("queues", cloud), f"'queues' maps a cloud to a task queue; "
                           f"'{cloud}' is not a cloud", hint=one_of((*CLOUDS, "*")))
            elif not isinstance(queue, str) or not queue:
                self.error(path + ("queues", cloud), "a task queue is a non-empty string")
            else:
                env.queues[cloud] = queue
        environment_rollout(self, env, body, path)
        return env

    def control(self, text: str, path: Path, what: str, pattern: re.Pattern[str],
                resource: str = "") -> bool:
        """Report a control character in ``text``; True when there is one."""
        found = pattern.search(text)
        if found is None:
            return False
        shown = text.encode("unicode_escape").decode("ascii")
        self.error(path, f"{what} '{shown}' contains the control character "
                   f"U+{ord(found.group()):04X}",
                   resource=resource.encode("unicode_escape").decode("ascii"),
                   hint="remove it; names, keys and values are printable text")
        return True

    def controls(self, value: Any, path: Path, dotted: str, resource: str = "") -> None:
        """Report control characters in the map keys and string values under ``value``."""
        if not self.doc.controls:
            return
        if isinstance(value, str):
            self.control(value, path, f"the value of '{dotted}'", VALUE_CONTROL, resource)
        elif isinstance(value, dict):
            for key, item in value.items():
                sub = f"{dotted}.{key}"
                if not self.control(str(key), path + (key,), f"the key of '{dotted}'",
                                    CONTROL, resource):
                    self.controls(item, path + (key,), sub, resource)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.controls(item, path + (index,), f"{dotted}.{index}", resource)

    def resource(self, rid: str, raw: Any) -> Resource | None:
        path: Path = ("resources", rid)
        if not self.control(rid, path, "the resource id", CONTROL, rid) and ( not ID_PATTERN.match(rid) or rid in RESERVED_IDS):
            self.error(path, f"invalid resource id '{rid}'", resource=rid,
                       hint="use letters, digits, '_' and '-', starting with a letter; "
                            "'var' and 'env' are reserved")
        body = raw if raw.__class__ is dict else self.expect_map(
            raw, path, f"resource '{rid}'", resource=rid)
        if not body.keys() <= _RESOURCE_KEY_SET:
            self.unknown_keys(body, RESOURCE_KEYS, path, "resource", resource=rid)
        rtype = body.get("type")
        if not isinstance(rtype, str) or not rtype:
            self.error(path, "resource has no 'type'", resource=rid,
                       hint="add e.g. 'type: aws:s3:Bucket'")
            rtype = ""
        elif not TYPE_PATTERN.match(rtype):
            self.error(path + ("type",), f"malformed resource type '{rtype}'", resource=rid,
                       hint="types look like <cloud>:<module>:<Type>, e.g. aws:s3:Bucket")
        locations, file = self.doc.locations, self.doc.file
        res = Resource(id=rid, type=rtype, location=self.doc.location(path))
        res.type_at = locations.get(path + ("type",))
        props = body.get("properties")
        if props.__class__ is not dict:
            props = self.expect_map(props, path + ("properties",), "'properties'",
                                    resource=rid)
        if self.doc.controls:
            self.controls(props, path + ("properties",), "properties", rid)
        plocs, properties = res.property_locations, res.properties
        for key, value in props.items():
            ppath = path + ("properties", key)
            found = locations.get(ppath)
            plocs[key] = (SourceLocation.at(file, found[0], found[1]) if found is not None
                          else self.doc.location(ppath))
            properties[key] = self.property_value(value, key, ppath, plocs, rid)
        stage = body.get("stage")
        if stage is not None:
            if not isinstance(stage, str) or not ID_PATTERN.match(stage):
                self.error(path + ("stage",), f"invalid stage name {stage!r}", resource=rid,
                           hint="a stage is a name of letters, digits, '_' and '-'")
            else:
                res.stage = stage
        deps = body.get("depends_on", [])
        if isinstance(deps, str):
            deps = [deps]
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            self.error(path + ("depends_on",), "'depends_on' must be a list of resource ids",
                       resource=rid)
        else:
            res.depends_on = tuple(_strip_interpolation(d) for d in deps)
            if deps:
                res.depends_on_at = locations.get(path + ("depends_on",))
        protect = body.get("protect", False)
        if not isinstance(protect, bool):
            self.error(path + ("protect",), "'protect' must be true or false", resource=rid)
        res.protect = protect is True
        moved = body.get("moved_from", [])
        if isinstance(moved, str):
            moved = [moved]
        if not isinstance(moved, list) or not all(
                isinstance(m, str) and ID_PATTERN.match(m) for m in moved):
            self.error(path + ("moved_from",), "'moved_from' must be a resource id or a list "
                       "of them", resource=rid,
                       hint="the id the resource had before it was renamed, e.g. moved_from: q")
        else:
            res.moved_from = tuple(moved)
        return res

    def property_value(self, value: Any, dotted: str, path: Path,
                       plocs: dict[str, SourceLocation], rid: str) -> Any:
        """``value`` with its references parsed (see :meth:`values`); where nested map keys
        and list items were written goes into ``plocs`` (``tags.owner``, ``members.0``)."""
        if isinstance(value, str):
            if "${" not in value:
                return value
            try:
                return self.parse_text(value)
            except RefSyntaxError as exc:
                self.error(path, exc.message, resource=rid, hint=exc.hint)
                return value
        if isinstance(value, dict):
            items: Any = value.items()
            result: Any = {}
        elif isinstance(value, list):
            items = enumerate(value)
            result = [None] * len(value)
        else:
            return value
        locations, file, at = self.doc.locations, self.doc.file, SourceLocation.at
        for key, item in items:
            sub = path + (key,)
            found = locations.get(sub)
            sub_dotted = f"{dotted}.{key}"
            if found is not None:
                plocs[sub_dotted] = at(file, found[0], found[1])
            if item.__class__ is str and "${" not in item:
                result[key] = item      # the common case, without a call
            else:
                result[key] = self.property_value(item, sub_dotted, sub, plocs, rid)
        return result

    def duplicates(self) -> None:
        for path, line, column, first in self.doc.duplicates:
            where = f" (first defined on line {first})" if first else ""
            key = path[-1]
            resource = ""
            if len(path) == 2 and path[0] == "resources":
                message = f"duplicate resource id '{key}'{where}"
                resource = str(key)
            elif len(path) == 2 and path[0] in ("variables", "environments"):
                message = f"duplicate {str(path[0])[:-1]} '{key}'{where}"
            else:
                message = f"duplicate key '{key}'{where}"
                if len(path) > 2 and path[0] == "resources":
                    resource = str(path[1])
            self.diagnostics.append(Diagnostic(
                message, file=self.doc.file, line=line, column=column, resource=resource,
                hint="each name may be defined once; rename or remove one of them"))


def locate(res: Resource, dotted: str) -> SourceLocation | None:
    """Where a (nested) property of ``res`` was written: its own or its nearest parent's place."""
    path = dotted
    while path:
        if path in res.property_locations:
            return res.property_locations[path]
        path = path.rpartition(".")[0]
    return res.location


def _strip_interpolation(dep: str) -> str:
    """``depends_on`` may name ids bare or, in HCL, as expressions (``rg`` -> ``${rg}``)."""
    if dep.startswith("${") and dep.endswith("}"):
        return dep[2:-1]
    return dep


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    if value is None:
        return "null"
    return type(value).__name__


def value_matches(vtype: str, value: Any) -> bool:
    """Does a literal value fit a variable type (string|number|bool|list|map)?"""
    if value is None:
        return True
    return {
        "string": isinstance(value, str),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list),
        "map": isinstance(value, dict),
    }.get(vtype, True)


def build_spec(doc: Document) -> tuple[Spec, list[Diagnostic]]:
    builder = _Builder(doc)
    spec = builder.build()
    return spec, builder.diagnostics
