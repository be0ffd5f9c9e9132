"""``provision import``: adopt an existing cloud resource into its stage's state.

``provision import SPEC --env ENV RESOURCE_ID CLOUD_ID`` records the live
resource ``CLOUD_ID`` as the spec's ``RESOURCE_ID`` in its stage's Pulumi stack
(see :meth:`provision.engine.orchestrator.Orchestrator.import_resource`): nothing
in the cloud changes. The next ``plan`` compares the spec with the live
resource: no change when they match, else exactly the differing properties.

``--generate`` changes nothing either: it reads the live resource through its
adapter and prints the spec block (YAML or HCL) that describes it, as
Terraform's configuration generation does. Secret properties are never printed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

import yaml
from rich.console import Console

from provision.cli import guard, session
from provision.cli.recording import recorded
from provision.engine.clouds import cloud_configs
from provision.errors import ImportRefusedError
from provision.provider import ResourceSchema
from provision.vocabulary import Operation, Outcome

EXIT_OK = 0
err = Console(stderr=True, highlight=False, soft_wrap=True)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def import_resource(spec: str, env: str, resource_id: str, cloud_id: str, *,
                    generate: bool, fmt: str) -> int:
    loaded = session.load(spec, env)
    resource = loaded.spec.resources.get(resource_id)
    if resource is None:
        raise ImportRefusedError(
            f"{spec}: no resource '{resource_id}' in the spec",
            hint="add the resource to the spec first (--generate prints its block); "
                 f"resources: {', '.join(sorted(loaded.spec.resources)) or 'none'}")
    if generate:
        print(generated_block(loaded, resource_id, resource.type, cloud_id, fmt), end="")
        return EXIT_OK
    with recorded(Operation.IMPORT, spec=loaded.spec.name, env=env, spec_file=spec) as record:
        # The same safety net as apply: the environment lock, the journal, and the
        # repair of what a killed run left behind, before the state changes.
        with guard.engine_run(loaded, Operation.IMPORT, record.id,
                              notice=lambda text: err.print(text, markup=False)) as run:
            orchestrator = session.orchestrator(loaded, supervisor=run.supervisor)
            run.recover(orchestrator)
            stage = orchestrator.import_resource(resource_id, cloud_id)
            run.finish(Outcome.APPLIED.value)
        record.finish(Outcome.APPLIED, exit_code=EXIT_OK,
                      detail={"resource": resource_id, "cloud_id": cloud_id, "stage": stage})
    err.print(f"imported {cloud_id} as '{resource_id}' ({resource.type}) into stage "
              f"'{stage}'; `provision plan` now shows any difference from the spec",
              markup=False)
    return EXIT_OK


def generated_block(loaded: session.Loaded, resource_id: str, type_name: str, cloud_id: str,
                    fmt: str) -> str:
    """The spec block for the live resource ``cloud_id`` (nothing is changed)."""
    schema = loaded.registry.schema(type_name)
    config = cloud_configs(loaded.env, session.sandbox_settings(loaded.env))[schema.cloud]
    known = {k: v for k, v in loaded.spec.resources[resource_id].properties.items()
             if isinstance(v, (str, int, float, bool))}
    live = loaded.registry.get(type_name).read(cloud_id, known, config)
    if live is None:
        raise ImportRefusedError(f"no {type_name} with id '{cloud_id}' exists",
                                 hint="check the cloud id and the environment's settings")
    props = spec_properties(schema, live.properties)
    if fmt == "hcl":
        return render_hcl(resource_id, type_name, props)
    return yaml.safe_dump({resource_id: {"type": type_name, "properties": props}},
                          sort_keys=False, default_flow_style=False)


def spec_properties(schema: ResourceSchema, live: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's settable, non-secret properties that have a value, in schema order."""
    return {name: live[name] for name, prop in schema.properties.items()
            if not prop.secret and live.get(name) not in (None, {}, [])}


def render_hcl(resource_id: str, type_name: str, props: Mapping[str, Any]) -> str:
    lines = [f'resource "{resource_id}" {{', f"  type = {_hcl(type_name)}", "  properties {"]
    width = max((len(k) for k in props), default=0)
    for key, value in props.items():
        lines.append(f"    {key.ljust(width)} = {_hcl(value, 4)}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def _hcl(value: Any, indent: int = 0) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = " " * (indent + 2)
        items = [f"{pad}{k if _IDENT.match(str(k)) else _hcl(str(k))} = {_hcl(v, indent + 2)}"
                 for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    return _hcl(str(value))
