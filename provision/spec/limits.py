"""Input limits: what a spec or policy file may hold before it is refused.

A spec of a few kilobytes can otherwise ask for gigabytes (YAML aliases that
expand exponentially, the "billion laughs") or overflow the parser's stack
(deep nesting). Going past a limit is a validate error naming the limit and
the file:line, reached in well under a second. The numbers are documented in
docs/spec.md ("Input limits"); they sit far above any real spec (the planner
benchmark's 100,000-resource spec is 22 MB and nests 5 levels).
"""

from __future__ import annotations

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest spec or policy file read, in bytes (64 MiB)."""

MAX_DEPTH = 64
"""Deepest nesting of maps and lists (and HCL blocks/objects) in a file."""

MAX_ALIAS_VALUES = 100_000
"""Most values YAML aliases (``*name`` and ``<<: *name``) may expand to, per file."""

MAX_RESOURCES = 100_000
"""Most resources one spec may declare."""
