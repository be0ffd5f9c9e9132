"""Health checks: run against the live environment after its apply in a rollout.

Three kinds (declared in the spec, see :class:`provision.spec.model.HealthCheck`):

- ``resource``: the resource exists in the cloud (read back through its adapter) and
  its live properties include the expected ones (maps compared as subsets);
- ``output``: a stage output (``<resource>.<attribute>``, from the stage's state)
  equals a value or matches a regular expression (``re.search``);
- ``http``: an HTTP(S) GET answers with one of the expected status codes. Each
  attempt has ``timeout`` seconds; failed attempts (connection errors, timeouts,
  other statuses) are retried ``retries`` times, ``interval`` seconds apart, by
  urllib3's ``Retry`` under ``requests``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from provision.errors import ProvisionError
from provision.spec.model import HealthCheck


class Probe(Protocol):
    """What the checks read: the live cloud and the stages' recorded outputs."""

    def live(self, resource_id: str) -> dict[str, Any] | None:
        """The resource's live properties, or None when it does not exist."""

    def output(self, resource_id: str, attribute: str) -> Any:
        """A recorded output of the resource; raises KeyError when there is none."""

    def secret(self, resource_id: str, attribute: str) -> bool:
        """True when the attribute is secret: its value is never shown."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    kind: str
    target: str
    passed: bool
    detail: str
    duration_s: float
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "target": self.target,
                "passed": self.passed, "detail": self.detail,
                "duration_s": self.duration_s, "location": self.location}


class _ConstantRetry(Retry):
    """``Retry`` with a fixed pause between attempts (the check's ``interval``)."""

    interval: float = 0.0

    def new(self, **kw: Any) -> "_ConstantRetry":
        retry: _ConstantRetry = super().new(**kw)  # type: ignore[assignment]
        retry.interval = self.interval
        return retry

    def get_backoff_time(self) -> float:
        return self.interval


def _redact(url: str) -> str:
    """The URL without user:password (never in logs or run records)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def http_status(check: HealthCheck) -> tuple[bool, str]:
    """GET the check's URL with retries; (passed, what happened)."""
    retry = _ConstantRetry(
        total=check.retries, connect=check.retries, read=check.retries, status=check.retries,
        other=check.retries, allowed_methods=frozenset({"GET"}),
        status_forcelist=[c for c in range(200, 600) if c not in check.status],
        raise_on_status=False, respect_retry_after_header=False)
    retry.interval = check.interval
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.get(check.target, timeout=check.timeout)
        except requests.RequestException as exc:
            reason = type(exc).__name__
            return False, (f"no answer from {_redact(check.target)} after "
                           f"{check.retries + 1} attempt(s) ({reason}, timeout {check.timeout:g}s)")
    want = "/".join(str(c) for c in check.status)
    if response.status_code in check.status:
        return True, f"HTTP {response.status_code}"
    return False, (f"{_redact(check.target)} answered HTTP {response.status_code}, expected {want} "
                   f"(after {check.retries + 1} attempt(s))")


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual or (not isinstance(actual, (dict, list))
                                       and str(expected) == str(actual)))


def _resource(check: HealthCheck, probe: Probe) -> tuple[bool, str]:
    live = probe.live(check.target)
    if live is None:
        return False, f"resource '{check.target}' does not exist in the cloud"
    wrong = [k for k, v in check.expect.items() if not _subset(v, live.get(k))]
    if wrong:
        got = ", ".join(f"{k}={_show(probe, check.target, k, live.get(k))} (expected "
                        f"{_show(probe, check.target, k, check.expect[k])})" for k in wrong)
        return False, f"resource '{check.target}' has {got}"
    return True, f"resource '{check.target}' exists" + (
        f" with {', '.join(sorted(check.expect))} as expected" if check.expect else "")


def _output(check: HealthCheck, probe: Probe) -> tuple[bool, str]:
    rid, _, attribute = check.target.partition(".")
    try:
        value = probe.output(rid, attribute)
    except KeyError:
        return False, f"no output '{check.target}' in the state"
    shown = _show(probe, rid, attribute, value)
    if check.matches is not None:
        if re.search(check.matches, str(value)):
            return True, f"{check.target} matches {check.matches!r}"
        return False, f"{check.target} = {shown} does not match {check.matches!r}"
    if _subset(check.equals, value):
        return True, f"{check.target} = {shown}"
    return False, (f"{check.target} = {shown}, expected "
                   f"{_show(probe, rid, attribute, check.equals)}")


def _show(probe: Probe, resource_id: str, attribute: str, value: Any) -> str:
    return "(secret)" if probe.secret(resource_id, attribute) else repr(value)


def run_checks(checks: list[HealthCheck], probe: Probe, *,
               http: Callable[[HealthCheck], tuple[bool, str]] = http_status,
               on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run every check (all of them, even after a failure); results in declared order.
    A check that cannot run (an adapter error reading the cloud) fails with the error."""
    results = []
    for check in checks:
        t0 = time.monotonic()
        try:
            if check.kind == "resource":
                passed, detail = _resource(check, probe)
            elif check.kind == "output":
                passed, detail = _output(check, probe)
            else:
                passed, detail = http(check)
        except ProvisionError as exc:
            passed, detail = False, f"could not check: {exc.message}"
        result = CheckResult(check.name, check.kind, _redact(check.target), passed, detail,
                             round(time.monotonic() - t0, 3),
                             str(check.location) if check.location else "")
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
