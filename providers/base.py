"""Helpers shared by every adapter: property defaults, update diffs, error text.

Nothing here imports a cloud SDK. Adapters use these to apply a schema's
defaults, to check required properties, to find which properties an update
really changes (refusing ``force_new`` ones, which the planner must turn into a
replacement), and to build error messages that never carry a secret.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, TypeVar

from provision.errors import CloudError, ProviderError
from provision.provider import CloudConfig, ResourceSchema

# Environment variables whose values must never appear in an error message.
SECRET_ENV_VARS = (
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
    "ARM_CLIENT_SECRET", "ARM_ACCESS_KEY", "GOOGLE_OAUTH_ACCESS_TOKEN",
)

_SECRET_PATTERNS = (
    # key=value pairs in connection strings, SAS tokens and query strings
    re.compile(r"(?i)\b((?:AccountKey|SharedAccessSignature|SharedAccessKey|sig|access_token|"
               r"client_secret|password|X-Amz-Signature|X-Amz-Security-Token)=)[^;&\s\"']+"),
    # HTTP authorization headers and bearer tokens
    re.compile(r"(?i)\b((?:Bearer|SharedKey|SharedKeyLite)\s+)[A-Za-z0-9._~+/:=-]{8,}"),
    # AWS secrets in "name: value" or "name = value" form
    re.compile(r"(?i)\b((?:aws_secret_access_key|aws_session_token)\s*[:=]\s*)\S+"),
)


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Remove credentials from ``text``: known patterns and secret env values."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    secrets = [os.environ.get(name, "") for name in SECRET_ENV_VARS] + list(extra_secrets)
    for secret in secrets:
        if len(secret) >= 8:
            text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 500) -> str:
    """An SDK message collapsed to one line of bounded length."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def with_defaults(schema: ResourceSchema, props: Mapping[str, Any],
                  config_defaults: Mapping[str, Any] | None = None, *,
                  strict: bool = True) -> dict[str, Any]:
    """``props`` with schema defaults and config-derived defaults filled in.

    Outputs and ``id`` (present when ``props`` is recorded state) are dropped;
    other keys unknown to the schema are rejected so a typo is never silently
    ignored. Required properties, and those ``config_defaults`` names (their
    default comes from the environment), must not be None after defaulting.
    ``strict=False`` is for recorded state (an update's ``old``): unknown keys
    (bookkeeping, or properties of an older adapter version) are ignored and
    nothing is required.
    """
    unknown = sorted(set(props) - set(schema.properties) - set(schema.outputs) - {"id"})
    if unknown and strict:
        raise ProviderError(
            f"unknown propert{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}",
            resource_type=schema.type_name,
            hint=f"{schema.type_name} accepts: {', '.join(sorted(schema.properties))}")
    result: dict[str, Any] = {}
    for name, prop in schema.properties.items():
        value = props.get(name)
        if value is None and config_defaults is not None:
            value = config_defaults.get(name)
        if value is None:
            value = prop.default
        if value is None and prop.required and strict:
            raise ProviderError(f"property '{name}' is required",
                                resource_type=schema.type_name)
        if value is None and strict and config_defaults is not None and name in config_defaults:
            raise ProviderError(f"property '{name}' is required",
                                resource_type=schema.type_name,
                                hint=f"set it on the resource, or set '{name}' in the "
                                     f"environment's {schema.cloud} settings")
        result[name] = _copy(value)
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def changed(schema: ResourceSchema, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of schema properties whose value differs between ``old`` and ``new``.

    A missing key and ``None`` are the same; so are a missing map and ``{}``.
    """
    names = []
    for name, prop in schema.properties.items():
        if _normal(old.get(name), prop.type) != _normal(new.get(name), prop.type):
            names.append(name)
    return names


def _normal(value: Any, type_name: str) -> Any:
    if value is None and type_name == "map":
        return {}
    if value is None and type_name == "list":
        return []
    if value is None and type_name == "boolean":
        return False
    return value


def updatable_changes(schema: ResourceSchema, old: Mapping[str, Any],
                      new: Mapping[str, Any], resource: str = "") -> list[str]:
    """The properties an in-place update must change.

    Raises :class:`ProviderError` if a ``force_new`` property changed: that is a
    replacement, which the planner decides, never an adapter's update.
    """
    names = changed(schema, old, new)
    replacing = [n for n in names if schema.properties[n].force_new]
    if replacing:
        raise ProviderError(
            f"cannot update {', '.join(replacing)} in place",
            resource=resource, resource_type=schema.type_name,
            hint="changing it replaces the resource; plan again to get a replace")
    return names


def plan_update(schema: ResourceSchema, old: Mapping[str, Any], new: Mapping[str, Any],
                config_defaults: Mapping[str, Any] | None = None,
                resource: str = "") -> tuple[dict[str, Any], list[str]]:
    """``new`` with defaults applied, and the properties an update must change.

    ``old`` is recorded state (read leniently); ``new`` is the desired inputs
    (checked strictly). Raises like :func:`updatable_changes` for ``force_new``.
    """
    values = with_defaults(schema, new, config_defaults)
    before = with_defaults(schema, old, config_defaults, strict=False)
    return values, updatable_changes(schema, before, values, resource=resource)


ErrorMapper = Callable[..., "ProviderError | None"]


@contextmanager
def translate_errors(map_error: ErrorMapper, resource_type: str, resource: str = "",
                     config: CloudConfig | None = None) -> Iterator[None]:
    """Turn an SDK's exceptions raised inside the block into provision errors, using the
    cloud's ``map_error`` (which returns None for exceptions it does not know)."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:
        mapped = map_error(exc, resource=resource, resource_type=resource_type, config=config)
        if mapped is None:
            raise
        raise mapped from exc


T = TypeVar("T")


def finish_create(finish: Callable[[], T], rollback: Callable[[], None], *, resource: str,
                  resource_type: str) -> T:
    """Run ``finish`` (configure, read back) for a resource the cloud has just accepted.

    A create is all or nothing: if ``finish`` raises, ``rollback`` deletes the new
    resource (through the SDK, so with its retries) and the original error is
    raised, so the next apply creates it afresh instead of failing on "already
    exists" or leaving an object state never learns of. If the rollback fails
    too, the original error is raised with a hint naming the resource left in
    the cloud and the rollback's own error.
    """
    try:
        return finish()
    except Exception as exc:
        try:
            rollback()
        except Exception as undo:  # the original failure stays the reported one
            if isinstance(exc, ProviderError):
                left = (f"{resource} was created but could not be deleted again "
                        f"({one_line(redact(str(undo)), 200)}); delete it before applying again")
                exc.hint = f"{exc.hint}; {left}" if exc.hint else left
            raise exc from undo
        raise


def name_taken(message: str, *, what: str, name: str, resource_type: str,
               cloud_id: str = "") -> CloudError:
    """The error of a create that finds its name already taken (``message``: the cloud's
    error, e.g. ``"AWS error QueueAlreadyExists: the queue already exists"``).

    A create never adopts an existing resource: many cloud APIs answer a create of an
    existing name with that resource (SQS CreateQueue, Azure's PUTs), and the spec's
    resource would then own, and a later delete remove, something it never made. The
    hint offers the ways that keep the existing resource: import it, undo an id rename
    (a renamed id plans a create and a delete of the same name), or use another name.
    ``cloud_id``: the existing resource's id as ``provision import`` takes it, when known.
    """
    return CloudError(
        message, resource=name, resource_type=resource_type,
        hint=f"the {what} '{name}' exists but this stack does not manage it: to manage it, "
             f"`provision import SPEC --env ENV RESOURCE_ID {cloud_id or 'CLOUD_ID'}`; if you renamed "
             "the resource's id in the spec, rename it back; or choose another name")


def create_once(create: Callable[[], T], *, exists: Callable[[], bool],
                conflict: Callable[[BaseException], bool], adopt: Callable[[], T],
                refuse: Callable[[], ProviderError]) -> T:
    """A create for an API without client tokens whose names are unique: read before
    create, so that a retried create never fails on, or duplicates, its own resource.

    ``exists()`` true: the name is taken before we start, ``refuse()`` is raised (never
    adopt a resource someone else made). Otherwise ``create()``; if it fails with an
    error ``conflict`` recognises ("already exists"), the SDK retried a create whose
    first answer was lost, so the resource now holding the name is this create's own
    and ``adopt()`` returns what ``create()`` would have.
    """
    if exists():
        raise refuse()
    try:
        return create()
    except Exception as exc:
        if not conflict(exc):
            raise
        return adopt()
