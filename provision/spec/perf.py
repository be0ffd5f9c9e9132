"""Pause Python's cyclic garbage collector around bulk, acyclic allocations.

Parsing a large spec allocates millions of small objects and no reference
cycles; the collector's repeated full passes over that growing heap made
loading 10k resources ~7x slower (see docs/benchmarks.md). Reference counting
still frees everything as usual while the collector is paused.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
