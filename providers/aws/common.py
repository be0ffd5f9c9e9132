"""Helpers the AWS adapters share: tags, physical names, policy documents, read-back.

Nothing here imports boto3; the adapters pass their clients in.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping

from provision.constraints import AnyOf, Exclusive, Length
from provision.errors import CloudError, ProviderError
from provision.provider import PropertySchema, ReadResult

# How long the suffix of a ``name_prefix`` name is (hex characters).
SUFFIX_LENGTH = 8


def name_properties(what: str, limit: int, name_constraints: tuple[Any, ...],
                    source: str) -> dict[str, PropertySchema]:
    """The ``name`` / ``name_prefix`` pair of a named AWS resource.

    ``name`` is used verbatim; ``name_prefix`` gets a deterministic suffix (see
    :func:`physical_name`), so the prefix may be at most ``limit - SUFFIX_LENGTH``
    characters.
    """
    return {
        "name": PropertySchema("string", force_new=True,
                               description=f"the {what} name, used as is",
                               constraints=name_constraints),
        "name_prefix": PropertySchema(
            "string", force_new=True,
            description=f"a prefix; the {what} name is the prefix and {SUFFIX_LENGTH} "
                        "hex characters derived from the spec",
            constraints=(Length(1, limit - SUFFIX_LENGTH, source=source),
                         *[c for c in name_constraints if not isinstance(c, Length)])),
    }


NAME_RULES = (Exclusive(("name", "name_prefix")), AnyOf(("name", "name_prefix")))


def physical_name(values: Mapping[str, Any], resource_type: str, *, keep: str = "") -> str:
    """The resource's name: ``name`` as given, else ``name_prefix`` plus a suffix.

    The suffix is the first :data:`SUFFIX_LENGTH` hex characters of the SHA-256 of
    the other properties (as JSON), so the same spec always gives the same name:
    a create retried after a crash finds its own resource instead of leaving a twin,
    and a replacement (a changed ``force_new`` property) gets a new name. ``keep``
    is a fixed ending the name must keep (``.fifo`` for FIFO queues).

    Raises :class:`ProviderError` if neither is set.
    """
    name = values.get("name")
    if name:
        return str(name)
    prefix = values.get("name_prefix")
    if not prefix:
        raise ProviderError("set 'name' or 'name_prefix'", resource_type=resource_type,
                            hint="name is used as is; name_prefix gets a short suffix")
    basis = {k: v for k, v in values.items() if k not in ("name", "name_prefix")}
    digest = hashlib.sha256(json.dumps([prefix, basis], sort_keys=True, default=str)
                            .encode()).hexdigest()
    return f"{prefix}{digest[:SUFFIX_LENGTH]}{keep}"


def named(new: Mapping[str, Any], id: str) -> dict[str, Any]:
    """An update's desired properties with ``name`` filled in from the id when the spec
    names the resource by ``name_prefix`` (the generated name is not a change)."""
    return {**new, "name": new.get("name") or id}


def filled(new: Mapping[str, Any], old: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """An update's desired properties with ``names`` the spec leaves unset taken from
    ``old``: values the cloud chose (an availability zone) are not changes."""
    return {**new, **{n: old.get(n) for n in names if new.get(n) is None}}


def error_message(exc: BaseException) -> str:
    """The AWS error message of a botocore ``ClientError`` (its text otherwise)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message") or exc)
    return str(exc)


def plain(value: Any) -> Any:
    """``value`` with whole-number floats as ints, recursively: the engine hands every
    number over as a float (``5.0``), which AWS refuses where it wants an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def text(value: Any) -> str:
    """A scalar as AWS wants it in a tag value or attribute: ``5.0`` -> ``"5"``."""
    return str(plain(value))


def tag_list(tags: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """``{"team": "core"}`` -> ``[{"Key": "team", "Value": "core"}]`` (sorted)."""
    return [{"Key": str(k), "Value": text(v)} for k, v in sorted((tags or {}).items())]


def tag_map(tags: list[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in tags or []}


def tag_changes(old: Mapping[str, Any] | None,
                new: Mapping[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """The tags to set (new or changed) and the keys to remove."""
    before = {str(k): text(v) for k, v in (old or {}).items()}
    after = {str(k): text(v) for k, v in (new or {}).items()}
    return ({k: v for k, v in after.items() if before.get(k) != v},
            sorted(set(before) - set(after)))


def policy_document(value: Any, what: str, resource: str, resource_type: str) -> dict[str, Any]:
    """A policy document given as a map or as JSON text, as a map."""
    if isinstance(value, dict):
        return dict(plain(value))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ProviderError(f"{what} is not valid JSON: {exc.msg}", resource=resource,
                                resource_type=resource_type) from None
        if isinstance(parsed, dict):
            return parsed
    raise ProviderError(f"{what} must be a map or a JSON object string", resource=resource,
                        resource_type=resource_type)


def as_recorded(live: Any, recorded: Any, normal: Callable[[Any], Any]) -> Any:
    """``recorded`` when it means the same as ``live`` (``normal`` of both equal), else
    ``live``: a read reports the spec's own form (a JSON string, a rule order, a
    partial map) while nothing changed, and the cloud's value as soon as it differs."""
    try:
        if recorded is not None and normal(recorded) == normal(live):
            return recorded
    except (ProviderError, TypeError, ValueError, KeyError, AttributeError):
        pass
    return live


def must_exist(result: ReadResult | None, resource: str, resource_type: str,
               operation: str) -> ReadResult:
    """The read-back after a write; a :class:`CloudError` if the resource is gone."""
    if result is None:
        raise CloudError(f"the resource no longer exists after {operation}",
                         resource=resource, resource_type=resource_type,
                         hint="it was deleted outside provision; run provision drift, "
                              "then plan and apply again")
    return result
