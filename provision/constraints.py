"""The clouds' documented constraints on property values, checked before any cloud call.

A :class:`~provision.provider.PropertySchema` carries ``constraints`` (on its one
value) and a :class:`~provision.provider.ResourceSchema` carries ``rules`` (across
its properties, or across resources). ``provision validate`` and ``plan`` check them
on every value known before apply and report a violation at the file and line where
the value was written; adapters check them again on the values they receive.

Every constraint names the documentation it comes from (``source``), so a user can
see why a value is refused and a maintainer can check the fact. Constraints only
judge values of the Python type they are about: a reference, a template or a value
of the wrong type is skipped here (type errors are reported by validation itself),
so a value that is unknown until apply is never refused.

    PropertySchema("string", constraints=(
        Length(3, 63, source=S3_NAMING),
        Pattern(r"[a-z0-9.-]+", "lowercase letters, digits, dots and hyphens",
                source=S3_NAMING),
    ))
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence


@dataclass(frozen=True)
class Violation:
    """One broken constraint: what is wrong, where inside the value, and the source.

    ``path`` is dotted and relative to the property (``""`` for the value itself,
    ``"0.cidr_blocks.1"`` inside a list of maps); for a resource rule it starts with
    the property name.
    """

    message: str
    path: str = ""
    source: str = ""

    def under(self, prefix: str) -> Violation:
        path = f"{prefix}.{self.path}" if self.path else prefix
        return Violation(self.message, path, self.source)


class Constraint(Protocol):
    """A check of one property value."""

    @property
    def source(self) -> str:
        """The documentation that states the constraint (a URL)."""
        ...

    def check(self, value: Any) -> list[Violation]:
        """Every violation in ``value`` (empty when it holds or does not apply)."""
        ...


# Looks up the literal properties of the resource a property's value refers to
# (``vpc_id: ${vpc.id}`` -> the properties of ``vpc``); None when it refers to none.
Related = Callable[[str], "Mapping[str, Any] | None"]


class Rule(Protocol):
    """A check across a resource's properties (and the resources they refer to)."""

    @property
    def source(self) -> str:
        ...

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        ...


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Length:
    """``min`` to ``max`` characters (strings) or items (lists, maps); None is no bound."""

    min: int = 0
    max: int | None = None
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, (str, list, dict)):
            return []
        size = len(value)
        unit = "characters" if isinstance(value, str) else "items"
        if size < self.min or (self.max is not None and size > self.max):
            allowed = (f"{self.min} to {self.max}" if self.max is not None
                       else f"at least {self.min}")
            return [Violation(f"has {size} {unit}; allowed: {allowed}", source=self.source)]
        return []


@dataclass(frozen=True)
class Pattern:
    """A string must match (``forbid=False``) or must not contain (``forbid=True``) ``regex``.

    ``meaning`` says in words what the pattern allows or forbids.
    """

    regex: str
    meaning: str
    forbid: bool = False
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, str):
            return []
        if self.forbid:
            bad = re.search(self.regex, value) is not None
        else:
            bad = re.fullmatch(self.regex, value) is None
        if bad:
            verb = "is not allowed" if self.forbid else "is not valid"
            return [Violation(f"{_shown(value)} {verb}: {self.meaning}", source=self.source)]
        return []


@dataclass(frozen=True)
class OneOf:
    """One of ``values`` (compared exactly, as the cloud does)."""

    values: tuple[Any, ...]
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if isinstance(value, (str, int, float, bool)) and value not in self.values:
            return [Violation(f"{_shown(value)} is not one of "
                              f"{', '.join(str(v) for v in self.values)}", source=self.source)]
        return []


@dataclass(frozen=True)
class Range:
    """A number from ``min`` to ``max`` inclusive; None is no bound."""

    min: float | None = None
    max: float | None = None
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not _is_number(value):
            return []
        if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max):
            low = "" if self.min is None else f"{self.min:g}"
            high = "" if self.max is None else f"{self.max:g}"
            bounds = (f"{low} to {high}" if low and high
                      else f"at least {low}" if low else f"at most {high}")
            return [Violation(f"{value} is out of range ({bounds})", source=self.source)]
        return []


@dataclass(frozen=True)
class Cidr:
    """An IPv4 (``version=4``) or IPv6 CIDR block in canonical form, prefix in ``prefix``."""

    version: int = 4
    prefix: tuple[int, int] | None = None
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, str):
            return []
        network = parse_cidr(value, self.version)
        if network is None:
            return [Violation(f"{_shown(value)} is not an IPv{self.version} CIDR block "
                              f"(like {'10.0.0.0/16' if self.version == 4 else '2001:db8::/56'})",
                              source=self.source)]
        if str(network) != value:
            return [Violation(f"{_shown(value)} has host bits set; the block is {network}",
                              source=self.source)]
        if self.prefix and not self.prefix[0] <= network.prefixlen <= self.prefix[1]:
            return [Violation(f"{value}: the prefix length must be /{self.prefix[0]} to "
                              f"/{self.prefix[1]}", source=self.source)]
        return []


def parse_cidr(value: str, version: int = 4) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network ``value`` denotes (host bits allowed), or None if it is not a CIDR."""
    if "/" not in value:
        return None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    return network if network.version == version else None


@dataclass(frozen=True)
class JsonDocument:
    """A string that parses as a JSON object (a policy document given as text)."""

    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, str):
            return []
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            return [Violation(f"is not valid JSON: {exc.msg} at character {exc.pos}",
                              source=self.source)]
        if not isinstance(parsed, dict):
            return [Violation("must be a JSON object", source=self.source)]
        return []


@dataclass(frozen=True)
class Each:
    """Every item of a list (or every value of a map) satisfies ``constraints``."""

    constraints: tuple[Constraint, ...]
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        items: Sequence[tuple[str, Any]]
        if isinstance(value, list):
            items = [(str(i), v) for i, v in enumerate(value)]
        elif isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        else:
            return []
        return [v.under(path) for path, item in items for c in self.constraints
                for v in c.check(item)]


@dataclass(frozen=True)
class Keys:
    """Every key of a map satisfies ``constraints`` (tag keys, for instance)."""

    constraints: tuple[Constraint, ...]
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, dict):
            return []
        found = []
        for key in value:
            for c in self.constraints:
                found += [Violation(f"key {v.message}", str(key), v.source)
                          for v in c.check(key)]
        return found


@dataclass(frozen=True)
class Fields:
    """A map with known keys: each key's constraints, the required keys, and (``closed``)
    no other keys. Used for the items of structured lists (security group rules)."""

    fields: Mapping[str, tuple[Constraint, ...]]
    required: tuple[str, ...] = ()
    closed: bool = True
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if not isinstance(value, dict):
            return []
        found = [Violation(f"missing key '{k}'", source=self.source)
                 for k in self.required if k not in value]
        for key, item in value.items():
            if key not in self.fields:
                if self.closed:
                    found.append(Violation(f"unknown key '{key}' (allowed: "
                                           f"{', '.join(self.fields)})", str(key), self.source))
                continue
            found += [v.under(str(key)) for c in self.fields[key] for v in c.check(item)]
        return found


@dataclass(frozen=True)
class AnyKey:
    """A map has at least one of ``keys`` set (a rule needs some source)."""

    keys: tuple[str, ...]
    source: str = ""

    def check(self, value: Any) -> list[Violation]:
        if isinstance(value, dict) and not any(_is_set(value.get(k)) for k in self.keys):
            return [Violation(f"needs one of {', '.join(self.keys)}", source=self.source)]
        return []


# -- rules across properties -------------------------------------------------------

def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


@dataclass(frozen=True)
class Exclusive:
    """At most one of ``names`` may be set."""

    names: tuple[str, ...]
    source: str = ""

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        present = [n for n in self.names if _is_set(props.get(n))]
        if len(present) > 1:
            return [Violation(f"{' and '.join(repr(n) for n in present)} are mutually "
                              "exclusive: set only one", present[-1], self.source)]
        return []


@dataclass(frozen=True)
class AnyOf:
    """At least one of ``names`` must be set (``name`` or ``name_prefix``).

    Whether a property is set is known only once an environment's overrides are
    merged, so validation checks this rule on resolved specs only
    (``after_overrides``).
    """

    names: tuple[str, ...]
    source: str = ""
    after_overrides: bool = True

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        if any(props.get(n) is not None for n in self.names):
            return []  # a reference or template counts as set
        shown = " or ".join(repr(n) for n in self.names)
        return [Violation(f"set {shown}", "", self.source)]


@dataclass(frozen=True)
class When:
    """When property ``name`` equals ``value``: ``requires`` must be set, ``forbids`` unset."""

    name: str
    value: Any
    requires: tuple[str, ...] = ()
    forbids: tuple[str, ...] = ()
    source: str = ""

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        if props.get(self.name) != self.value:
            return []
        found = [Violation(f"'{r}' is required when {self.name} is {self.value!r}",
                           self.name, self.source)
                 for r in self.requires if not _is_set(props.get(r)) and r not in props]
        found += [Violation(f"'{f}' must not be set when {self.name} is {self.value!r}",
                            f, self.source)
                  for f in self.forbids if _is_set(props.get(f))]
        return found


@dataclass(frozen=True)
class CidrWithin:
    """Property ``name`` (a CIDR) lies inside ``parent_cidr`` of the resource that
    property ``parent`` refers to (a subnet inside its VPC), when both are known."""

    name: str
    parent: str
    parent_cidr: str
    source: str = ""

    def check(self, props: Mapping[str, Any], related: Related) -> list[Violation]:
        child = props.get(self.name)
        owner = related(self.parent)
        outer = owner.get(self.parent_cidr) if owner is not None else None
        if not isinstance(child, str) or not isinstance(outer, str):
            return []
        inner_net, outer_net = parse_cidr(child), parse_cidr(outer)
        if inner_net is None or outer_net is None:
            return []  # syntax is the Cidr constraint's to report
        if not isinstance(inner_net, type(outer_net)) or not inner_net.subnet_of(outer_net):  # type: ignore[arg-type]
            return [Violation(f"{child} is not inside {outer}, the {self.parent_cidr} of the "
                              f"resource {self.parent} refers to", self.name, self.source)]
        return []


def check_property(constraints: Sequence[Constraint], value: Any) -> list[Violation]:
    """Every violation of ``constraints`` by ``value``."""
    return [v for c in constraints for v in c.check(value)]


def check_resource(properties: Mapping[str, Sequence[Constraint]], rules: Sequence[Rule],
                   props: Mapping[str, Any],
                   related: Related = lambda name: None) -> list[Violation]:
    """Every violation in a resource's ``props``: each property's constraints (paths
    prefixed with the property name), then the cross-property ``rules``."""
    found = []
    for name, value in props.items():
        found += [v.under(name) for v in check_property(properties.get(name, ()), value)]
    for rule in rules:
        found += rule.check(props, related)
    return found
