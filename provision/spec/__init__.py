"""Spec: read YAML/HCL into the located model, validate, resolve variables.

    spec = load("stacks/demo.yaml")      # SpecError with every syntax/structure problem
    check("stacks/demo.yaml", registry)  # all of load + validate + resolve(every env)
    validate(spec, registry)             # SpecError with every semantic problem
    resolved = resolve(spec, "local")    # variables, env settings and overrides applied
    check_constraints(resolved, registry, overrides=False)  # cloud limits, after variables
"""

from __future__ import annotations

from pathlib import Path

from provision.errors import Diagnostic, InputFileError, SpecError, SpecNotFoundError
from provision.spec.build import build_spec
from provision.spec.constraints import check_constraints
from provision.spec.document import Document
from provision.spec.loader_yaml import parse_yaml
from provision.spec.model import Spec
from provision.spec.perf import gc_paused
from provision.provider import AdapterRegistry
from provision.spec.resolve import resolve
from provision.spec.source import read_source
from provision.spec.validate import validate

__all__ = ["check", "check_constraints", "load", "loads", "resolve", "validate"]

YAML_SUFFIXES = (".yaml", ".yml")
HCL_SUFFIXES = (".hcl",)


def loads(text: str, file: str, fmt: str = "yaml") -> Spec:
    """Parse spec source text; ``fmt`` is ``yaml`` or ``hcl``."""
    spec, diagnostics = _built(text, file, fmt)
    if diagnostics:
        raise SpecError(diagnostics)
    return spec


def _built(text: str, file: str, fmt: str) -> tuple[Spec, list[Diagnostic]]:
    """The model built from the text as far as it goes, and its structural problems."""
    with gc_paused():
        if fmt == "hcl":
            from provision.spec import hcl_cache  # python-hcl2: slow to import and to parse

            doc: Document = hcl_cache.parse(text, file)
        else:
            doc = parse_yaml(text, file)
        return build_spec(doc)


def load(path: str | Path) -> Spec:
    """Read a spec file (YAML or HCL by extension) into the located model."""
    spec, diagnostics = _load(path)
    if diagnostics:
        raise SpecError(diagnostics)
    return spec


def _load(path: str | Path) -> tuple[Spec, list[Diagnostic]]:
    file = str(path)
    p = Path(path)
    try:
        text = read_source(p, "spec file")
    except InputFileError as exc:
        if exc.reason == "not found":
            raise SpecNotFoundError(file) from None
        raise SpecError([Diagnostic(f"cannot read the spec: {exc.reason}", file=file,
                                    hint="give the path of a regular UTF-8 text file")]) from None
    suffix = p.suffix.lower()
    if suffix in YAML_SUFFIXES:
        fmt = "yaml"
    elif suffix in HCL_SUFFIXES:
        fmt = "hcl"
    else:
        raise SpecError([Diagnostic(
            f"unsupported spec file extension '{p.suffix}'", file=file,
            hint="name the spec *.yaml, *.yml or *.hcl")])
    return _built(text, file, fmt)


def check(path: str | Path, registry: AdapterRegistry) -> Spec:
    """Everything wrong with a spec file, at once: load, validate, resolve every environment.

    Returns the loaded spec when it is sound; raises :class:`SpecError` with every
    diagnostic (each once) otherwise. Meant for ``provision validate``-style commands.
    """
    spec, found = _load(path)
    try:
        validate(spec, registry)
    except SpecError as exc:
        # With structural problems, the resources they name are checked no further (an
        # empty type is no second error), the rest are: every error at once.
        broken = {d.resource for d in found if d.resource}
        found += [d for d in exc.diagnostics if not (found and d.resource in broken)]
    if found:      # structural problems first: resolving a half-built spec says nothing new
        _raise_unique(found)
    for env in spec.environments:
        try:
            found += check_constraints(resolve(spec, env), registry, overrides=False)
        except SpecError as exc:
            found += exc.diagnostics
    if found:
        _raise_unique(found)
    return spec


def _raise_unique(found: list[Diagnostic]) -> None:
    """Raise SpecError with each diagnostic once (validate and resolve may both report
    a missing variable)."""
    seen: set[tuple[str, int, int, str]] = set()
    unique = []
    for d in found:
        key = (d.file, d.line, d.column, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    raise SpecError(unique)
