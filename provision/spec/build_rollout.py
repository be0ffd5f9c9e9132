"""The rollout parts of a spec: the promotion chain and each environment's
``sandbox``, ``approval`` and ``health_checks`` settings (see docs/spec.md, Rollouts).

Called by :mod:`provision.spec.build`; every problem becomes a located diagnostic.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from provision.errors import Diagnostic
from provision.spec.document import Path
from provision.spec.hints import did_you_mean, one_of
from provision.spec.model import Environment, HealthCheck, Spec

if TYPE_CHECKING:
    from provision.spec.build import _Builder

ENVIRONMENT_ROLLOUT_KEYS = ("sandbox", "approval", "health_checks", "health_check")
CHECK_KINDS = ("resource", "output", "http")
CHECK_KEYS = ("name", *CHECK_KINDS, "properties", "equals", "matches", "status", "timeout",
              "retries", "interval")
_ALLOWED = {"resource": ("name", "resource", "properties"),
            "output": ("name", "output", "equals", "matches"),
            "http": ("name", "http", "status", "timeout", "retries", "interval")}


def _bool(b: "_Builder", body: dict[str, Any], key: str, path: Path) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        b.error(path + (key,), f"'{key}' must be true or false")
        return False
    return value


def environment_rollout(b: "_Builder", env: Environment, body: dict[str, Any],
                        path: Path) -> None:
    """Fill ``env``'s sandbox / approval / health checks from its spec ``body``."""
    env.use_sandbox = _bool(b, body, "sandbox", path)
    env.approval = _bool(b, body, "approval", path)
    raw = body.get("health_checks")
    items: list[tuple[Path, str, Any]] = []
    if isinstance(raw, list):
        items += [(path + ("health_checks", i), "", item) for i, item in enumerate(raw)]
    elif isinstance(raw, dict):     # a map: name -> check
        items += [(path + ("health_checks", k), str(k), v) for k, v in raw.items()]
    elif raw is not None:
        b.error(path + ("health_checks",), "'health_checks' must be a list of checks")
    # HCL: health_check "name" { ... } blocks.
    blocks = body.get("health_check")
    if isinstance(blocks, dict):
        items += [(path + ("health_check", k), str(k), v) for k, v in blocks.items()]
    elif blocks is not None:
        b.error(path + ("health_check",), 'write health_check "<name>" { ... } blocks')
    for cpath, name, item in items:
        check = _check(b, cpath, name, item, len(env.health_checks) + 1)
        if check is not None:
            env.health_checks.append(check)


def _number(b: "_Builder", body: dict[str, Any], key: str, path: Path, default: float,
            *, integer: bool = False, minimum: float = 0) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum \
            or (integer and not isinstance(value, int)):
        b.error(path + (key,), f"'{key}' must be a{'n integer' if integer else ' number'} "
                               f">= {minimum:g}, got {value!r}")
        return default
    return value


def _check(b: "_Builder", path: Path, name: str, raw: Any, index: int) -> HealthCheck | None:
    body = b.expect_map(raw, path, "a health check")
    if not body:
        if isinstance(raw, dict):
            b.error(path, "empty health check", hint=f"give one of {', '.join(CHECK_KINDS)}")
        return None
    kinds = [k for k in CHECK_KINDS if k in body]
    if len(kinds) != 1:
        b.error(path, "a health check needs exactly one of 'resource', 'output' or 'http'"
                      + (f", got {', '.join(kinds)}" if kinds else ""),
                hint="e.g. {http: https://example.com/health, status: 200}")
        return None
    kind = kinds[0]
    allowed = _ALLOWED[kind]
    for key in body:
        if key not in allowed:
            b.error(path + (key,), f"unknown key '{key}' in a{'n' if kind == 'http' else ''} "
                                   f"{kind} health check",
                    hint=did_you_mean(str(key), allowed, fallback=one_of(allowed)))
    target = body[kind]
    if not isinstance(target, str) or not target:
        b.error(path + (kind,), f"'{kind}' must be a non-empty string")
        return None
    label = str(body.get("name") or name or f"{kind} {target}")
    location = b.doc.location(path)
    if kind == "resource":
        expect = b.expect_map(body.get("properties"), path + ("properties",), "'properties'")
        return HealthCheck(label, "resource", target, expect=dict(expect), location=location)
    if kind == "output":
        if "." not in target:
            b.error(path + ("output",), f"output '{target}' must be <resource>.<attribute>",
                    hint="e.g. output: logs.arn")
        if ("equals" in body) == ("matches" in body):
            b.error(path, "an output health check needs exactly one of 'equals' or 'matches'")
            return None
        matches = body.get("matches")
        if matches is not None:
            try:
                re.compile(str(matches))
            except re.error as exc:
                b.error(path + ("matches",), f"'matches' is not a valid regular expression: {exc}")
                return None
        return HealthCheck(label, "output", target, equals=body.get("equals"),
                           matches=None if matches is None else str(matches), location=location)
    url = urlparse(target)
    if url.scheme not in ("http", "https") or not url.netloc:
        b.error(path + ("http",), f"'{target}' is not an http(s) URL",
                hint="e.g. http: https://example.com/health")
        return None
    status = body.get("status", 200)
    codes = status if isinstance(status, list) else [status]
    if not codes or not all(isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599
                            for c in codes):
        b.error(path + ("status",), f"'status' must be an HTTP status code (100-599) or a list "
                                    f"of them, got {status!r}")
        codes = [200]
    return HealthCheck(
        label, "http", target, status=tuple(codes),
        timeout=_number(b, body, "timeout", path, 10.0, minimum=0.001),
        retries=int(_number(b, body, "retries", path, 3, integer=True)),
        interval=_number(b, body, "interval", path, 2.0), location=location)


def promotion(b: "_Builder", spec: Spec, data: dict[str, Any]) -> None:
    """``promotion: [dev, staging, prod]``: every name an environment, no repeats."""
    raw = data.get("promotion")
    if raw is None:
        return
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        b.error(("promotion",), "'promotion' must be a list of environment names",
                hint="e.g. promotion: [dev, staging, prod]")
        return
    seen: set[str] = set()
    for i, name in enumerate(raw):
        if name in seen:
            b.error(("promotion", i), f"environment '{name}' appears twice in 'promotion'",
                    hint="list each environment once, in the order to promote")
        elif name not in spec.environments:
            b.error(("promotion", i), f"'promotion' names unknown environment '{name}'",
                    hint=did_you_mean(name, spec.environments,
                                      fallback=one_of(spec.environments)))
        seen.add(name)
    spec.promotion = list(raw)


def health_check_targets(b: "_Builder", spec: Spec) -> None:
    """Every resource or output a health check names is a resource of the spec."""
    for env in spec.environments.values():
        for check in env.health_checks:
            rid = check.target.split(".", 1)[0]
            if check.kind == "http" or rid in spec.resources:
                continue
            loc = check.location or env.location
            b.diagnostics.append(Diagnostic(
                f"health check '{check.name}' of environment '{env.name}' names unknown "
                f"resource '{rid}'", file=loc.file if loc else b.doc.file,
                line=loc.line if loc else 0, column=loc.column if loc else 0,
                hint=did_you_mean(rid, spec.resources, fallback=one_of(spec.resources))))
