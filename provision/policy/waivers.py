"""Waivers: an approved, dated exception for one rule on some resources.

``policies/waivers.yaml``::

    waivers:
      - rule: PRV-AWS-003
        resource: "legacy-*"        # a resource id or an fnmatch glob
        reason: public website bucket, reviewed in SEC-123
        approver: alice@example.com
        expires: 2026-12-31         # the last day the waiver applies
        env: prod                   # optional: only in this environment

A violated rule covered by a valid waiver is reported ``waived``. An expired
waiver no longer applies: the result keeps its status and says which waiver
expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable

import yaml

from provision.errors import PolicyError
from provision.policy.model import Result, Status

_REQUIRED = ("rule", "resource", "reason", "approver", "expires")


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    approver: str
    expires: dt.date
    env: str = ""

    def matches(self, result: Result, env: str) -> bool:
        return (self.rule == result.rule_id
                and (not self.env or self.env == env)
                and fnmatchcase(result.resource_id, self.resource))

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        return f"{self.approver}: {self.reason} (expires {self.expires.isoformat()})"


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"{where}: 'expires' must be a date like 2026-12-31, got '{value}'") from None


def parse_waivers(data: Any, file: str = "waivers.yaml") -> list[Waiver]:
    if data is None:
        return []
    items = data.get("waivers") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PolicyError(f"{file}: expected 'waivers:' with a list of waivers")
    waivers: list[Waiver] = []
    for i, item in enumerate(items, 1):
        where = f"{file}: waiver #{i}"
        if not isinstance(item, dict):
            raise PolicyError(f"{where}: must be a mapping")
        missing = [k for k in _REQUIRED if not item.get(k)]
        if missing:
            raise PolicyError(f"{where}: missing {', '.join(missing)}",
                              hint="every waiver names rule, resource, reason, approver, expires")
        waivers.append(Waiver(rule=str(item["rule"]), resource=str(item["resource"]),
                              reason=str(item["reason"]), approver=str(item["approver"]),
                              expires=_date(item["expires"], where), env=str(item.get("env") or "")))
    return waivers


def load_waivers(path: Path) -> list[Waiver]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: invalid YAML: {exc}") from None
    return parse_waivers(data, str(path))


def apply_waivers(results: Iterable[Result], waivers: list[Waiver], env: str,
                  today: dt.date) -> list[Result]:
    """Waive covered violations; name an expired waiver on the results it no longer covers."""
    out: list[Result] = []
    for result in results:
        if result.status not in (Status.FAIL, Status.WARN) or not waivers:
            out.append(result)
            continue
        matching = [w for w in waivers if w.matches(result, env)]
        valid = [w for w in matching if not w.expired(today)]
        if valid:
            out.append(result.with_(status=Status.WAIVED, waiver=valid[0].describe()))
        elif matching:
            w = max(matching, key=lambda m: m.expires)
            note = f"waiver expired on {w.expires.isoformat()} ({w.approver}: {w.reason})"
            out.append(result.with_(waiver=note, message=f"{result.message} [{note}]"))
        else:
            out.append(result)
    return out
