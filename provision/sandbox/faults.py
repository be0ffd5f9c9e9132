"""Fault plans for the sandbox: throttling, server errors, delays and lost answers on demand.

A fault plan is a list of rules. Each request a sandbox service receives is
matched against the rules in order; the first rule that matches and fires (with
probability ``rate``, at most ``times`` times) decides what happens:

``status``       answer this HTTP status (429, 500, 503, 403, ...) with the
                 cloud's own error body (``code``, or the usual one for the status);
                 Azure Storage throttles with 503 ServerBusy, so 429 becomes that there
``retry_after``  seconds, sent as ``Retry-After`` with a status answer
``delay``        seconds to wait before handling the request (alone: a slow answer)
``after``        true: handle the request first (the cloud did the work), then
                 answer ``status`` instead: a lost answer, as after a reset
``service``      only for this sandbox service (aws, gcs, azure_blob, azure_arm,
                 gcp_crm); absent: all
``method``       only for this HTTP method; ``path``: only when this regular
                 expression is found in the request path (with its query string);
                 ``body``: only when it is found in the request body (APIs such as
                 IAM, EC2 and DynamoDB name the operation there)

A plan file (YAML or JSON)::

    seed: 7                # optional: the same faults on every run
    faults:
      - {rate: 0.3, status: 429, retry_after: 0.1}
      - {rate: 0.1, status: 500}
      - {service: aws, method: GET, path: "[?&]tagging", status: 500, times: 20}

The ARM and CRM emulators apply the plan themselves; moto, gcp-storage-emulator
and Azurite are reached through a fault-injecting proxy
(:mod:`provision.sandbox.fault_proxy`). Every one of them reads the sandbox's
``faults.json`` again whenever it changes, so a running sandbox takes a new plan
at once (``provision sandbox up --faults PLAN``).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from provision.errors import SandboxError

SERVICES = ("aws", "gcs", "azure_blob", "azure_arm", "gcp_crm")
RULE_KEYS = ("rate", "status", "code", "message", "retry_after", "delay", "after", "times",
             "service", "method", "path", "body")

# The error code each cloud sends with a status, when the rule names none.
_AWS_CODES = {429: "TooManyRequestsException", 500: "InternalError", 502: "BadGateway",
              503: "SlowDown", 504: "GatewayTimeout", 400: "InvalidRequest",
              403: "AccessDenied", 404: "NotFound", 409: "OperationAborted"}
_AZURE_CODES = {429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
                503: "ServerBusy", 504: "GatewayTimeout", 400: "InvalidRequest",
                403: "AuthorizationFailed", 404: "NotFound", 409: "Conflict"}
_GOOGLE_STATUS = {429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED"),
                  500: ("backendError", "INTERNAL"), 502: ("badGateway", "UNAVAILABLE"),
                  503: ("backendError", "UNAVAILABLE"), 504: ("timeout", "DEADLINE_EXCEEDED"),
                  400: ("invalid", "INVALID_ARGUMENT"), 403: ("forbidden", "PERMISSION_DENIED"),
                  404: ("notFound", "NOT_FOUND"), 409: ("conflict", "ALREADY_EXISTS")}
# How each service words its errors.
DIALECTS = {"aws": "aws", "azure_blob": "azure_blob", "azure_arm": "azure_arm",
            "gcs": "google", "gcp_crm": "google"}


@dataclass(frozen=True)
class FaultRule:
    """One rule of a plan (see the module doc for each field)."""

    rate: float = 1.0
    status: int | None = None
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    delay: float = 0.0
    after: bool = False
    times: int | None = None
    service: str = ""
    method: str = ""
    path: str = ""
    body: str = ""

    def matches(self, service: str, method: str, path: str, body: bytes = b"") -> bool:
        if self.service and self.service != service:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.body and re.search(self.body, body.decode("utf-8", "replace")) is None:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass(frozen=True)
class FaultPlan:
    """The rules, in order, and the seed of the random choices (None: a fresh one)."""

    rules: tuple[FaultRule, ...] = ()
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        rules = []
        for rule in self.rules:
            rules.append({k: getattr(rule, k) for k in RULE_KEYS
                          if getattr(rule, k) != getattr(FaultRule(), k)})
        return {"seed": self.seed, "faults": rules}


@dataclass(frozen=True)
class Fault:
    """What to do with one request: wait ``delay`` s, then (if ``status``) answer that."""

    delay: float = 0.0
    status: int | None = None
    after: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""


def parse_plan(data: Any, source: str = "fault plan") -> FaultPlan:
    """A :class:`FaultPlan` from parsed YAML/JSON; :class:`SandboxError` naming the
    rule and key for anything malformed."""
    if data is None:
        return FaultPlan()
    if not isinstance(data, Mapping) or set(data) - {"seed", "faults"}:
        raise SandboxError(f"{source}: a fault plan is a mapping with 'faults' "
                           "(a list of rules) and an optional 'seed'",
                           hint="see `provision sandbox up --help` and docs/sandbox.md")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise SandboxError(f"{source}: seed must be a whole number, not {seed!r}")
    raw_rules = data.get("faults") or []
    if not isinstance(raw_rules, list):
        raise SandboxError(f"{source}: 'faults' must be a list of rules")
    return FaultPlan(tuple(_rule(raw, f"{source}: fault {i + 1}")
                           for i, raw in enumerate(raw_rules)), seed)


def _rule(raw: Any, where: str) -> FaultRule:
    if not isinstance(raw, Mapping):
        raise SandboxError(f"{where}: a rule is a mapping of {', '.join(RULE_KEYS)}")
    unknown = sorted(set(map(str, raw)) - set(RULE_KEYS))
    if unknown:
        raise SandboxError(f"{where}: unknown key {', '.join(unknown)}",
                           hint=f"a rule takes: {', '.join(RULE_KEYS)}")

    def number(key: str, low: float, high: float) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= value <= high:
            raise SandboxError(f"{where}: {key} must be a number from {low:g} to {high:g}, "
                               f"not {value!r}")
        return float(value)

    rate = number("rate", 0.0, 1.0)
    status = number("status", 400, 599)
    times = number("times", 1, 1_000_000)
    delay = number("delay", 0.0, 300.0) or 0.0
    service = str(raw.get("service") or "")
    if service and service not in SERVICES:
        raise SandboxError(f"{where}: service must be one of {', '.join(SERVICES)}, "
                           f"not {service!r}")
    path, body = str(raw.get("path") or ""), str(raw.get("body") or "")
    for key, pattern in (("path", path), ("body", body)):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SandboxError(f"{where}: {key} is not a regular expression: {exc}") from None
    after = raw.get("after", False)
    if not isinstance(after, bool):
        raise SandboxError(f"{where}: after must be true or false, not {after!r}")
    if status is None and not delay:
        raise SandboxError(f"{where}: a rule needs a status, a delay or both")
    if after and status is None:
        raise SandboxError(f"{where}: after needs a status (the answer that replaces "
                           "the real one)")
    return FaultRule(rate=1.0 if rate is None else rate,
                     status=None if status is None else int(status),
                     code=str(raw.get("code") or ""), message=str(raw.get("message") or ""),
                     retry_after=number("retry_after", 0.0, 3600.0), delay=delay, after=after,
                     times=None if times is None else int(times), service=service,
                     method=str(raw.get("method") or "").upper(), path=path, body=body)


def load_plan(path: Path) -> FaultPlan:
    """Read a plan file written in YAML or JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SandboxError(f"cannot read fault plan {path}: {exc.strerror or exc}",
                           hint="give the path of a YAML or JSON fault plan") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SandboxError(f"{path}{line}: not valid YAML or JSON") from None
    return parse_plan(data, str(path))


def write_plan(plan: FaultPlan, path: Path) -> None:
    """Write ``plan`` as the JSON every sandbox process reads (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(plan.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def error_body(dialect: str, status: int, code: str = "",
               message: str = "") -> tuple[bytes, str, dict[str, str]]:
    """The body, content type and extra headers a cloud sends with ``status``."""
    text = message or f"Injected fault: HTTP {status}"
    if dialect == "aws":
        code = code or _AWS_CODES.get(status, "InternalError")
        xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
               f"<Message>{text}</Message><RequestId>fault</RequestId></Error>")
        return xml.encode(), "application/xml", {}
    if dialect == "azure_blob":
        code = code or _AZURE_CODES.get(status, "InternalError")
        xml = (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code>"
               f"<Message>{text}</Message></Error>")
        return xml.encode(), "application/xml", {"x-ms-error-code": code}
    if dialect == "azure_arm":
        code = code or _AZURE_CODES.get(status, "InternalServerError")
        arm = {"error": {"code": code, "message": text}}
        return json.dumps(arm).encode(), "application/json; charset=utf-8", {}
    reason, state = _GOOGLE_STATUS.get(status, ("backendError", "UNKNOWN"))
    body: dict[str, Any] = {"error": {"code": status, "message": text, "status": code or state,
                      "errors": [{"reason": code or reason, "message": text}]}}
    return json.dumps(body).encode(), "application/json; charset=UTF-8", {}


class FaultInjector:
    """Decides, request by request, which fault a service applies, from the plan file at
    ``path`` (read again whenever it changes; a missing file means no faults).
    Thread-safe: the emulators and the proxy serve requests on many threads."""

    def __init__(self, path: Path, service: str) -> None:
        self.path = path
        self.service = service
        self.dialect = DIALECTS.get(service, "google")
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._plan = FaultPlan()
        self._fired: dict[int, int] = {}
        self._random = random.Random()

    def _refresh(self) -> None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        plan = FaultPlan()
        if stamp is not None:
            try:
                plan = parse_plan(json.loads(self.path.read_text(encoding="utf-8")),
                                  str(self.path))
            except (OSError, ValueError, SandboxError):
                plan = FaultPlan()  # a plan being rewritten; the next request reads it again
                self._stamp = None
        self._plan = plan
        self._fired = {}
        self._random = random.Random(plan.seed)

    def decide(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        """The fault for one request (``path`` with its query string), or None."""
        with self._lock:
            self._refresh()
            for index, rule in enumerate(self._plan.rules):
                if not rule.matches(self.service, method, path, body):
                    continue
                if rule.times is not None and self._fired.get(index, 0) >= rule.times:
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                self._fired[index] = self._fired.get(index, 0) + 1
                return self._fault(rule)
        return None

    def _fault(self, rule: FaultRule) -> Fault:
        if rule.status is None:
            return Fault(delay=rule.delay)
        status, code = rule.status, rule.code
        if status == 429 and self.dialect == "azure_blob":
            # Azure Storage throttles with 503 ServerBusy, never 429 (its SDK does not
            # retry 429): "Azure Storage scalability and performance targets".
            status, code = 503, code or "ServerBusy"
        body, content_type, headers = error_body(self.dialect, status, code, rule.message)
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        return Fault(delay=rule.delay, status=status, after=rule.after, headers=headers,
                     body=body, content_type=content_type)
