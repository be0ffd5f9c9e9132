"""Policy packs: a directory with a ``pack.yaml`` manifest, Rego modules and Python rules.

    policies/<pack>/
        pack.yaml          name, version, enforcement, input, environments, parameters, rules
        *.rego             Rego rules and helper libraries   (*_test.rego: Rego tests)
        rules.py           Python rules, listed in RULES = [...] (*_test.py: Python tests)

Manifest::

    name: aws-baseline
    version: 1.0.0
    enforcement: advisory          # the pack's default for rules that set none
    input: native                  # or ``terraform``: Rego sees ``terraform show -json``
    parameters: {allowed_locations: [eu-west-1]}
    environments:
      prod:
        enforcement: mandatory     # this environment's pack default
        rules: {PRV-AWS-003: mandatory}   # per-rule override, strongest
        parameters: {allowed_locations: [eu-central-1]}
    rules:                         # metadata for Rego packages without a ``metadata`` rule
      - {package: terraform.s3, id: TF-S3-001, title: ..., resource_types: [aws:s3:Bucket]}

Enforcement precedence: environment rule override > the rule's own
``enforcement`` > environment pack default > pack default.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from provision.errors import PolicyError
from provision.policy.files import read_policy_yaml
from provision.spec.hints import did_you_mean, one_of
from provision.policy.model import Enforcement, RuleMeta
from provision.policy.opa import choose_engine
from provision.policy.rego import RegoModule, RegoPack
from provision.policy.rules import PythonRule

MANIFEST = "pack.yaml"
_KEYS = ("name", "version", "description", "enforcement", "input", "parameters",
         "environments", "rules")
_ENV_KEYS = ("enforcement", "parameters", "rules")
_LEVELS = ("advisory", "mandatory", "disabled")


def _enforcement(value: Any, where: str) -> Enforcement:
    try:
        return Enforcement(str(value).lower())
    except ValueError:
        raise PolicyError(f"{where}: invalid enforcement '{value}'",
                          hint="use advisory, mandatory or disabled") from None


@dataclass
class Pack:
    name: str
    version: str
    path: Path
    enforcement: Enforcement
    env: str
    params: dict[str, Any]
    env_enforcement: Enforcement | None = None
    rule_overrides: dict[str, Enforcement] = field(default_factory=dict)
    rego: RegoPack | None = None
    python_rules: list[PythonRule] = field(default_factory=list)

    def effective(self, meta: RuleMeta) -> Enforcement:
        if meta.id in self.rule_overrides:
            return self.rule_overrides[meta.id]
        if meta.enforcement is not None:
            return meta.enforcement
        return self.env_enforcement or self.enforcement

    def metas(self) -> list[tuple[RuleMeta, str, str]]:
        """(meta, language, source file) of every rule of the pack."""
        out = [(r.meta, "rego", str(r.module.path)) for r in (self.rego.rules if self.rego else [])]
        out += [(r.meta, "python", str(self.path / "rules.py")) for r in self.python_rules]
        return out


def read_manifest(path: Path) -> dict[str, Any]:
    """The checked ``pack.yaml`` of ``path``: every key known and of its type, else a
    :class:`PolicyError` naming file:line (with a did-you-mean for unknown keys)."""
    file = path / MANIFEST
    if not file.exists() and not file.is_symlink():
        raise PolicyError(f"{path}: not a policy pack (no {MANIFEST})")
    source = read_policy_yaml(file, "pack manifest")
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        raise PolicyError(f"{file}: the manifest must be a mapping")
    problems: list[str] = []
    for key in data:
        if key not in _KEYS:
            problems.append(f"{source.at((key,))}: unknown key '{key}' ("
                            + did_you_mean(str(key), _KEYS, fallback=one_of(_KEYS)) + ")")
    for key in ("name", "version"):
        if data.get(key) in (None, ""):
            problems.append(f"{source.at(())}: '{key}' is required")
    for key, kinds, what in (("name", (str,), "text"), ("version", (str, int, float), "text"),
                             ("description", (str,), "text"), ("enforcement", (str,), "text"),
                             ("input", (str,), "text"), ("parameters", (dict,), "a map"),
                             ("environments", (dict,), "a map"), ("rules", (list,), "a list")):
        value = data.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            problems.append(f"{source.at((key,))}: '{key}' must be {what}, got "
                            f"{type(value).__name__} {value!r}")
    if data.get("input", "native") not in ("native", "terraform"):
        problems.append(f"{source.at(('input',))}: input must be 'native' or 'terraform'")
    if isinstance(data.get("enforcement"), str) and data["enforcement"].lower() not in _LEVELS:
        problems.append(f"{source.at(('enforcement',))}: invalid enforcement "
                        f"'{data['enforcement']}' (use advisory, mandatory or disabled)")
    for env, conf in (data.get("environments") or {}).items() \
            if isinstance(data.get("environments"), dict) else []:
        where = ("environments", env)
        if not isinstance(conf, dict):
            problems.append(f"{source.at(where)}: environment '{env}' must be a map")
            continue
        for key in conf:
            if key not in _ENV_KEYS:
                problems.append(f"{source.at(where + (key,))}: environment '{env}': unknown key "
                                f"'{key}' ("
                                + did_you_mean(str(key), _ENV_KEYS, fallback=one_of(_ENV_KEYS))
                                + ")")
        for key, kind, what in (("parameters", dict, "a map"), ("rules", dict, "a map")):
            if conf.get(key) is not None and not isinstance(conf[key], kind):
                problems.append(f"{source.at(where + (key,))}: environment '{env}': '{key}' "
                                f"must be {what}")
    if problems:
        raise PolicyError("\n".join(problems), hint="see policies/README.md for pack.yaml")
    return data


def import_file(path: Path, module_name: str) -> Any:
    """Import a Python file under a private module name (no sys.path changes)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PolicyError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken rule file is a broken pack, with its cause
        sys.modules.pop(module_name, None)
        raise PolicyError(f"{path}: import failed: {type(exc).__name__}: {exc}") from None
    return module


def load_python_rules(path: Path, pack: str) -> list[PythonRule]:
    file = path / "rules.py"
    if not file.is_file():
        return []
    module = import_file(file, f"provision_policy_packs.{pack.replace('-', '_')}.rules")
    rules = getattr(module, "RULES", None)
    if not isinstance(rules, (list, tuple)):
        raise PolicyError(f"{file}: define RULES = [...] listing the pack's rules")
    for r in rules:
        if not isinstance(r, PythonRule):
            raise PolicyError(f"{file}: RULES holds {r!r}, not a rule",
                              hint="build rules with provision.policy.rules.rule")
    return list(rules)


def rego_modules(path: Path, *, tests: bool) -> list[RegoModule]:
    files = sorted(path.rglob("*.rego"))
    return [RegoModule.read(f) for f in files if tests or not f.name.endswith("_test.rego")]


def load_pack(path: Path, env: str, *, with_tests: bool = False) -> Pack:
    """Load one pack for one environment; PolicyError says what is broken and where."""
    data = read_manifest(path)
    where = str(path / MANIFEST)
    envs = data.get("environments") or {}
    env_conf = envs.get(env) or {}
    params = {**(data.get("parameters") or {}), **(env_conf.get("parameters") or {})}
    pack = Pack(
        name=str(data["name"]), version=str(data["version"]), path=path,
        enforcement=_enforcement(data.get("enforcement", "advisory"), where),
        env=env, params=params,
        env_enforcement=(_enforcement(env_conf["enforcement"], where)
                         if env_conf.get("enforcement") else None),
        rule_overrides={str(k): _enforcement(v, where)
                        for k, v in (env_conf.get("rules") or {}).items()},
    )
    modules = rego_modules(path, tests=with_tests)
    if modules:
        listed = {str(r["package"]): {k: v for k, v in r.items() if k != "package"}
                  for r in data.get("rules") or [] if isinstance(r, dict) and "package" in r}
        pack.rego = RegoPack(pack.name, modules, params,
                             terraform=data.get("input") == "terraform", manifest_rules=listed,
                             opa=choose_engine())
        pack.rego.load()
    pack.python_rules = load_python_rules(path, pack.name)
    return pack


def find_packs(policies_dir: Path) -> list[Path]:
    """Every pack directory directly under ``policies_dir`` (or the dir itself if it is one)."""
    if not policies_dir.is_dir():
        raise PolicyError(f"policies directory not found: {policies_dir}",
                          hint="pass --policies DIR, or create policies/<pack>/pack.yaml")
    if (policies_dir / MANIFEST).is_file():
        return [policies_dir]
    return sorted(p for p in policies_dir.iterdir() if (p / MANIFEST).is_file())
