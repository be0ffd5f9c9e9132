"""Property-level diffs between two property maps, with nested maps as dotted paths.

``property_diffs(before, after)`` lists what changed (``tags.owner: a -> b``);
values only known after apply (:data:`UNKNOWN`, or a resource reference not yet
substituted) always count as a change. Views use :func:`flatten` to show the
properties of a create or delete one leaf per line.
"""

from __future__ import annotations

from typing import Any, Collection

from provision.plan.model import UNKNOWN, PropertyDiff, is_unknown, join_path, split_path

__all__ = ["flatten", "is_unknown", "property_diffs"]

_MISSING: Any = object()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"tags": {"a": 1}, "n": 2}`` -> ``{"tags.a": 1, "n": 2}``; empty maps stay leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, join_path(prefix, str(key))))
        return out
    return {prefix: value} if prefix else {}


def property_diffs(before: dict[str, Any] | None, after: dict[str, Any] | None, *,
                   secrets: Collection[str] = (), force_new: Collection[str] = (),
                   nested: bool = True) -> list[PropertyDiff]:
    """The changed leaves between ``before`` and ``after`` (either may be None)."""
    old = flatten(before or {}) if nested else dict(before or {})
    new = flatten(after or {}) if nested else dict(after or {})
    diffs: list[PropertyDiff] = []
    for path in sorted(set(old) | set(new)):
        o, n = old.get(path, _MISSING), new.get(path, _MISSING)
        if o == n and not is_unknown(n):
            continue
        top = split_path(path)[0]
        diffs.append(PropertyDiff(
            path=path,
            before=None if o is _MISSING else o,
            after=None if n is _MISSING else (UNKNOWN if is_unknown(n) else n),
            replaces=top in force_new and before is not None and after is not None,
            secret=top in secrets,
        ))
    return diffs
