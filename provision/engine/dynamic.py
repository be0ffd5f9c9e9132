"""Bridge from Pulumi dynamic resources to provision's cloud adapters.

Each spec resource becomes one :class:`ProvisionResource` whose provider is an
:class:`AdapterProvider`. Pulumi pickles the provider into the state, so it holds
only two strings: the resource type and the ``module:Class`` reference of its
adapter (resolved again in the provider process, which imports the installed
``providers`` package). Cloud settings (regions, sandbox endpoints) are never
pickled: they reach the provider process per run through the environment
variable :data:`CONFIG_ENV`, so state never carries stale endpoints or secrets.

Failures inside the provider process are written as JSON lines to the run
directory named by :data:`RUN_DIR_ENV` before being raised, so the engine reports
them from structured records instead of parsing Pulumi's traceback text.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

import pulumi
import pulumi.dynamic as dyn
import pulumi.dynamic.dynamic as _dynamic_impl

from provision.coerce import coerce_properties
from provision.errors import ProvisionError
from provision.plan.model import UNKNOWN, has_unknown
from provision.provider import CREATE_TOKEN, Adapter, CloudConfig, ReadResult, load_adapter

CONFIG_ENV = "PROVISION_CLOUD_CONFIG"
RUN_DIR_ENV = "PROVISION_RUN_DIR"
ERRORS_FILE = "provider-errors.jsonl"
PROVIDER_KEY = "__provider"
# Kept in each resource's outputs: the property names the spec set, so a diff can
# tell "the user removed it" from "the cloud filled in a default".
INPUT_KEYS = "__inputs"
# An input naming the cloud id of an existing resource that a create adopts instead of
# creating one (``Declared.import_id``). Pulumi's own ``import_`` resource option cannot
# serve dynamic providers: the engine reads an imported resource with no state at all,
# and the dynamic provider process needs the pickled ``__provider`` from that state.
IMPORT_KEY = "__import"

_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's wire value for unknowns


def encode_cloud_config(configs: Mapping[str, CloudConfig]) -> str:
    return json.dumps(
        {name: {"settings": dict(c.settings), "sandbox": c.sandbox} for name, c in configs.items()},
        sort_keys=True,
    )


def decode_cloud_config(cloud: str, raw: str | None) -> CloudConfig:
    data = json.loads(raw) if raw else {}
    entry = data.get(cloud, {})
    return CloudConfig(cloud=cloud, settings=entry.get("settings", {}),
                       sandbox=bool(entry.get("sandbox", False)))


def record_error(resource: str, type_name: str, operation: str, error: BaseException) -> None:
    """Append a structured error record for the engine (best effort)."""
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir:
        return
    record: dict[str, Any] = {
        "resource": resource,
        "type": type_name,
        "operation": operation,
        "error": type(error).__name__,
        "message": (getattr(error, "detail", error.message) if isinstance(error, ProvisionError)
                    else str(error)),
        "hint": error.hint if isinstance(error, ProvisionError) else "",
    }
    if not isinstance(error, ProvisionError):
        record["detail"] = "".join(traceback.format_exception_only(type(error), error)).strip()
    with open(Path(run_dir) / ERRORS_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def read_errors(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / ERRORS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _is_unknown(value: Any) -> bool:
    return has_unknown(unwire(value))


def _strip(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items()
            if k not in (PROVIDER_KEY, INPUT_KEYS, IMPORT_KEY, CREATE_TOKEN)}


def _with_input_keys(outs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {**outs, INPUT_KEYS: sorted(k for k, v in inputs.items() if v is not None)}


class AdapterProvider(dyn.ResourceProvider):
    """A Pulumi dynamic provider that delegates CRUD to one adapter."""

    # The provider holds no secret, so it need not be stored as a secret in state.
    serialize_as_secret_always = False

    def __init__(self, type_name: str, adapter_ref: str, resource_id: str) -> None:
        super().__init__()
        self.type_name = type_name
        self.adapter_ref = adapter_ref
        self.resource_id = resource_id

    # -- helpers ---------------------------------------------------------------------
    def _adapter(self) -> Adapter:
        return load_adapter(self.adapter_ref)

    def _config(self) -> CloudConfig:
        return decode_cloud_config(self.type_name.split(":", 1)[0], os.environ.get(CONFIG_ENV))

    def _declared(self, props: Mapping[str, Any]) -> dict[str, Any]:
        schema = self._adapter().schema
        return {k: v for k, v in props.items() if k in schema.properties}

    def _typed(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs as the schema types them: Pulumi's wire format carries every number
        as a float, so 3 arrives as 3.0 (``provision.coerce`` turns it back)."""
        return coerce_properties(self._adapter().schema, props)

    def _guard(self, operation: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # reported as a structured record, then re-raised
            record_error(self.resource_id, self.type_name, operation, exc)
            raise

    # -- Pulumi provider interface ---------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        schema = self._adapter().schema
        failures = [
            dyn.CheckFailure(name, "required property is missing")
            for name, prop in schema.properties.items()
            if prop.required and news.get(name) is None
        ]
        checked = self._typed(news)
        if schema.create_token:   # a fresh one per check: each create has its own
            checked[CREATE_TOKEN] = uuid.uuid4().hex
        return dyn.CheckResult(checked, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Changed = a property the spec sets now that differs from the live value, or
        one the spec set before and no longer sets. Values the cloud filled in for
        properties the spec leaves out are not changes."""
        schema = self._adapter().schema
        old = self._typed(self._declared(olds))
        new = {k: v for k, v in self._typed(self._declared(_strip(news))).items()
               if v is not None}
        previously_set = set(olds.get(INPUT_KEYS) or [])
        removed = {k for k in previously_set - set(new) if k in schema.properties}
        changed = sorted({k for k, v in new.items() if _is_unknown(v) or old.get(k) != v} | removed)
        replaces = [k for k in changed if schema.properties[k].force_new]
        return dyn.DiffResult(changes=bool(changed), replaces=replaces,
                              delete_before_replace=bool(replaces))

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        inputs = self._typed(_strip(props))
        adopt = props.get(IMPORT_KEY)
        result: ReadResult
        if adopt:
            result = self._guard("import", lambda: self._adopt(str(adopt), inputs))
        else:
            token = {CREATE_TOKEN: props[CREATE_TOKEN]} if props.get(CREATE_TOKEN) else {}
            result = self._guard("create", lambda: self._adapter().create(
                {**inputs, **token}, self._config()))
        return dyn.CreateResult(result.id, _with_input_keys(result.properties, inputs))

    def _adopt(self, cloud_id: str, inputs: dict[str, Any]) -> ReadResult:
        """Read the existing resource ``cloud_id``: its live state becomes the recorded
        one, so the next diff compares the spec with what really exists."""
        result = self._adapter().read(cloud_id, inputs, self._config())
        if result is None:
            raise ProvisionError(f"there is no {self.type_name} with id '{cloud_id}' to import",
                                 hint="check the cloud id and the environment's cloud settings")
        return result

    def read(self, id: str, props: dict[str, Any]) -> dyn.ReadResult:
        current = _strip(props)
        result: ReadResult | None = self._guard(
            "read", lambda: self._adapter().read(id, current, self._config()))
        if result is None:  # gone: an empty id tells the engine the resource was deleted
            return dyn.ReadResult("", {})
        keys = props.get(INPUT_KEYS) or []
        return dyn.ReadResult(result.id, {**result.properties, INPUT_KEYS: keys})

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        old, new = self._typed(_strip(olds)), self._typed(_strip(news))
        result: ReadResult = self._guard(
            "update", lambda: self._adapter().update(id, old, new, self._config()))
        return dyn.UpdateResult(_with_input_keys(result.properties, new))

    def delete(self, id: str, props: dict[str, Any]) -> None:
        current = _strip(props)
        self._guard("delete", lambda: self._adapter().delete(id, current, self._config()))


class ProvisionResource(dyn.Resource, module="provision", name="Resource"):
    """One spec resource, managed by Pulumi through an :class:`AdapterProvider`."""

    def __init__(self, name: str, provider: AdapterProvider, props: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(provider, name, props, opts)


# --- guard for the dynamic-provider serializer --------------------------------------------
# pulumi.dynamic's serialize_provider patches pickle._Pickler methods on every call
# and only restores pickle.Pickler itself, so each call wraps the previous patch once
# more; after a few hundred dynamic resources in one process it hits RecursionError.
# We restore the patched attributes after every call.
_PATCHED = ("_batch_setitems", "save_dict")
_serialize_lock = threading.Lock()
_original_serialize = _dynamic_impl.serialize_provider


def _guarded_serialize_provider(provider: dyn.ResourceProvider) -> str:
    with _serialize_lock:
        saved = {name: pickle._Pickler.__dict__[name] for name in _PATCHED}  # type: ignore[attr-defined]
        try:
            return str(_original_serialize(provider))
        finally:
            for name, fn in saved.items():
                setattr(pickle._Pickler, name, fn)  # type: ignore[attr-defined]


def install_serializer_guard() -> None:
    """Idempotently replace pulumi.dynamic's serializer with the guarded one."""
    _dynamic_impl.serialize_provider = _guarded_serialize_provider


def unwire(value: Any) -> Any:
    """``value`` with Pulumi's wire marker for unknowns replaced by
    :data:`provision.plan.model.UNKNOWN` (the one marker above the engine)."""
    if value == _UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: unwire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwire(v) for v in value]
    return value
