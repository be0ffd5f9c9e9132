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

import re

from provision.errors import PolicyError
from provision.policy.files import PolicyFile, read_policy_yaml
from provision.policy.model import Result, Status
from provision.spec.hints import did_you_mean, one_of

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}\Z")

_REQUIRED = ("rule", "resource", "reason", "approver", "expires")
_KEYS = (*_REQUIRED, "env")


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    approver: str
    expires: dt.date
    env: str = ""
    where: str = ""        # file:line of the entry, for messages about it

    def matches(self, result: Result, env: str) -> bool:
        return (self.rule == result.rule_id
                and (not self.env or self.env == env)
                and fnmatchcase(result.resource_id, self.resource))

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        return f"{self.approver}: {self.reason} (expires {self.expires.isoformat()})"


def _date(value: str) -> tuple[dt.date | None, str]:
    """The date written as YYYY-MM-DD, or None and why not."""
    try:
        return dt.date.fromisoformat(value), ""
    except ValueError as exc:
        if _ISO.match(value):  # the shape of a date, but no such day
            return None, f"{value} is not a date that exists ({exc})"
        return None, f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31"


def parse_waivers(data: Any, file: str = "waivers.yaml",
                  source: PolicyFile | None = None) -> list[Waiver]:
    """Every waiver of a parsed ``waivers.yaml``, every field checked.

    Raises :class:`PolicyError` listing each problem with file:line and the entry
    number (unknown or missing keys with a did-you-mean, wrong types, dates that
    do not exist).
    """
    if data is None:
        return []
    items = data.get("waivers") if isinstance(data, dict) else None
    def at(path: tuple[Any, ...]) -> str:
        return source.at(path) if source is not None else file

    if isinstance(data, dict) and set(data) - {"waivers"}:
        extra = sorted(set(data) - {"waivers"})
        raise PolicyError(f"{at((extra[0],))}: unknown top-level key '{extra[0]}' ("
                          + did_you_mean(extra[0], ["waivers"], fallback="write 'waivers:'")
                          + ")")
    if not isinstance(items, list):
        raise PolicyError(f"{at(('waivers',))}: expected 'waivers:' with a list of waivers")
    problems: list[str] = []
    waivers: list[Waiver] = []
    for i, item in enumerate(items):
        where = f"{at(('waivers', i))}: waiver #{i + 1}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping of {', '.join(_KEYS)}")
            continue
        bad = False
        for key in item:
            if key not in _KEYS:
                problems.append(f"{at(('waivers', i, key))}: waiver #{i + 1}: unknown key "
                                f"'{key}' ({did_you_mean(str(key), _KEYS, fallback=one_of(_KEYS))})")
                bad = True
        missing = [k for k in _REQUIRED if item.get(k) in (None, "")]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)} (every waiver names "
                            "rule, resource, reason, approver and expires)")
            bad = True
        for key in _KEYS:
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                problems.append(f"{at(('waivers', i, key))}: waiver #{i + 1}: '{key}' must be "
                                f"text, got {type(value).__name__} {value!r}")
                bad = True
        expires: dt.date | None = None
        if isinstance(item.get("expires"), str) and item["expires"]:
            expires, why = _date(item["expires"])
            if expires is None:
                problems.append(f"{at(('waivers', i, 'expires'))}: waiver #{i + 1}: "
                                f"'expires': {why}")
                bad = True
        if bad or expires is None:
            continue
        waivers.append(Waiver(rule=item["rule"], resource=item["resource"],
                              reason=item["reason"], approver=item["approver"],
                              expires=expires, env=item.get("env") or "",
                              where=f"{at(('waivers', i))}: waiver #{i + 1}"))
    if problems:
        raise PolicyError("\n".join(problems), hint="fix the waiver file; see policies/README.md")
    return waivers


def load_waivers(path: Path) -> list[Waiver]:
    if not path.exists() and not path.is_symlink():
        return []
    source = read_policy_yaml(path, "waiver file")
    return parse_waivers(source.data, str(path), source)


def check_waiver_rules(waivers: list[Waiver], rule_ids: set[str]) -> None:
    """Every waiver names a rule some loaded pack defines (PolicyError otherwise)."""
    problems = [f"{w.where}: unknown rule '{w.rule}' "
                f"({did_you_mean(w.rule, rule_ids, fallback=one_of(rule_ids))})"
                for w in waivers if w.rule not in rule_ids]
    if problems:
        raise PolicyError("\n".join(problems), hint="name a rule id of a pack under policies/")


def check_waiver_resources(waivers: list[Waiver], resource_ids: set[str], env: str) -> None:
    """Every waiver for ``env`` that names one resource (no glob) names one of the plan's."""
    problems = []
    for w in waivers:
        if (w.env and w.env != env) or any(c in w.resource for c in "*?["):
            continue
        if w.resource not in resource_ids:
            problems.append(f"{w.where}: unknown resource '{w.resource}' ("
                            + did_you_mean(w.resource, resource_ids,
                                           fallback=one_of(resource_ids)) + ")")
    if problems:
        raise PolicyError("\n".join(problems),
                          hint="name a resource id of the spec, or a glob such as 'legacy-*'")


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
