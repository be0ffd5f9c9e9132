"""The fast HCL reader: ``tools/hclread`` (Go, on hashicorp/hcl's hclsyntax) in a child process.

python-hcl2 needs about 17 s of CPU for a 10k-resource spec; hclread reads the
same file in a small fraction of that and prints the very document
:func:`provision.spec.loader_hcl.parse_hcl` would build (data, key locations,
duplicate keys; as flat JSON lists, described in ``tools/hclread/main.go``). It
covers the plain subset of HCL whose python-hcl2 rendering is known exactly; for
anything else (a syntax error, a function call, an escape in a string, ...) it
exits with :data:`FALLBACK` and :func:`parse` returns None, so the caller reads
the file with python-hcl2, which also gives the diagnostics.

The binary is built by ``.ci/build-hclread.sh`` (``make setup`` runs it) into
``$PROVISION_CACHE/hclread/<source key>/hclread``, where the key is
:func:`source_key` of ``tools/hclread``: a changed reader never runs as an old
binary. ``PROVISION_HCLREAD_BIN`` names a binary to use instead;
``PROVISION_HCLREAD=0`` turns the fast reader off.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from provision.spec.document import Document, may_hold_controls
from provision.spec.document import Path as Path_
from provision.spec.limits import MAX_DEPTH

BIN_ENV = "PROVISION_HCLREAD_BIN"
ENV_SWITCH = "PROVISION_HCLREAD"
SOURCE = Path(__file__).resolve().parents[2] / "tools" / "hclread"
FALLBACK = 3        # hclread's exit status for "read this one with python-hcl2"
TIMEOUT = 300       # seconds


def source_files(source: Path = SOURCE) -> list[Path]:
    """What the build key covers, in hashing order: go.mod, go.sum, then the .go files by name."""
    return [source / "go.mod", source / "go.sum", *sorted(source.glob("*.go"))]


def source_key(source: Path = SOURCE) -> str | None:
    """16 hex digits of SHA-256 over :func:`source_files` concatenated (as
    ``.ci/build-hclread.sh`` computes it), or None when the source is absent."""
    h = hashlib.sha256()
    try:
        for file in source_files(source):
            h.update(file.read_bytes())
    except OSError:
        return None
    return h.hexdigest()[:16]


def find_hclread() -> Path | None:
    """The hclread binary to use, or None (no binary built for this source, or turned off)."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if override := os.environ.get(BIN_ENV):
        candidate = Path(override)
    else:
        key = source_key()
        if key is None:
            return None
        from provision.engine.toolchain import cache_root

        candidate = cache_root() / "hclread" / key / "hclread"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def parse(text: str, file: str, binary: Path | None = None) -> Document | None:
    """``parse_hcl(text, file)``'s Document read by hclread, or None when the caller must
    use python-hcl2 (no binary, input outside hclread's subset, syntax error, failure)."""
    binary = binary if binary is not None else find_hclread()
    if binary is None:
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    try:
        out = subprocess.run([str(binary), f"-max-depth={MAX_DEPTH}"],
                             input=text.encode("utf-8", "surrogatepass"), capture_output=True,
                             timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        return _from_output(json.loads(out.stdout), file, may_hold_controls(text))
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def _from_output(raw: Any, file: str, controls: bool) -> Document:
    """The Document of hclread's output (flat lists; see tools/hclread/main.go)."""
    table, flat, dups = raw["paths"], raw["locations"], raw["duplicates"]
    paths: list[Path_] = [()]
    append = paths.append
    for i in range(0, len(table), 2):
        append(paths[table[i]] + (table[i + 1],))
    return Document(
        file=file, form="hcl", data=raw["data"], controls=controls,
        locations={paths[flat[i]]: (flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)},
        duplicates=[(paths[dups[i]], dups[i + 1], dups[i + 2], dups[i + 3])
                    for i in range(0, len(dups), 4)])


def from_blob(raw: Any, file: str, controls: bool = True) -> Document:
    """The Document of ``raw``, a JSON object ``{"data": ..., "locations": [[path, line,
    column], ...], "duplicates": [[path, line, column, first_line], ...]}`` (an hcl_cache entry). Raises KeyError, TypeError or ValueError when ``raw`` is not one."""
    return Document(
        file=file, form="hcl", data=raw["data"], controls=controls,
        locations={tuple(path): (line, column) for path, line, column in raw["locations"]},
        duplicates=[(tuple(path), line, column, first)
                    for path, line, column, first in raw["duplicates"]])
