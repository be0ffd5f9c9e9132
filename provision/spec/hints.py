"""'Did you mean ...' hints for misspelt names."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: str, candidates: Iterable[str], *, fallback: str = "") -> str:
    """A hint naming the closest candidate(s), or ``fallback`` when none is close."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=2, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    if matches:
        return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"
    return fallback


def one_of(candidates: Iterable[str], limit: int = 8) -> str:
    pool = sorted(set(candidates))
    shown = ", ".join(pool[:limit]) + (", ..." if len(pool) > limit else "")
    return f"expected one of: {shown}" if pool else "none are defined"
