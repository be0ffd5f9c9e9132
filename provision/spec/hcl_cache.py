"""Parsed HCL specs, cached by content: a first read costs about 2x YAML's (hclread), 30x
with python-hcl2.

``parse(text, file)`` returns what :func:`provision.spec.loader_hcl.parse_hcl`
returns, read by the fast reader (:mod:`provision.spec.hclread`) when it is built
and the text is in its subset, else by python-hcl2. A parse without diagnostics
is kept as JSON under ``$PROVISION_CACHE/hcl/<key>.json``, where the key is the
SHA-256 of the text and of the readers themselves (the source of ``loader_hcl.py``,
python-hcl2's version and hclread's source key): an edited spec or a changed
reader never meets an old parse. Files
with syntax errors are parsed every time, so their diagnostics are always
fresh. The cache is best-effort: an unreadable, corrupt or unwritable entry only
means a parse; ``PROVISION_HCL_CACHE=0`` turns it off. At most ``KEEP`` entries
are kept (the least recently written go first).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from provision.spec import hclread
from provision.spec.document import Document, may_hold_controls

FORMAT = 1          # of the cache entries; part of the key
KEEP = 32
ENV_SWITCH = "PROVISION_HCL_CACHE"
READER = Path(__file__).with_name("loader_hcl.py")


def parse(text: str, file: str, cache_dir: Path | None = None) -> Document:
    """The HCL reader's Document for ``text`` (named ``file`` in locations and errors)."""
    directory = cache_dir if cache_dir is not None else default_dir()
    if directory is not None:
        entry = directory / f"{_key(text, READER)}.json"
        cached = _read(entry, file, text)
        if cached is not None:
            return cached
    doc = hclread.parse(text, file)
    if doc is None:
        from provision.spec import loader_hcl   # imports python-hcl2 (a tenth of a second)

        doc = loader_hcl.parse_hcl(text, file)
    if directory is None:
        return doc
    if not doc.diagnostics:
        _write(entry, doc)
    return doc


def default_dir() -> Path | None:
    """``$PROVISION_CACHE/hcl`` (see provision.engine.toolchain.cache_root), or None when off."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    from provision.engine.toolchain import cache_root

    return cache_root() / "hcl"


def _key(text: str, reader: Path) -> str:
    from importlib.metadata import version as dist_version   # a tenth of a load's imports

    h = hashlib.sha256(f"{FORMAT}\0{dist_version('python-hcl2')}\0"
                       f"{hclread.source_key()}\0".encode())
    h.update(reader.read_bytes())
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _read(entry: Path, file: str, text: str) -> Document | None:
    try:
        return hclread.from_blob(json.loads(entry.read_bytes()), file, may_hold_controls(text))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(entry: Path, doc: Document) -> None:
    blob: dict[str, Any] = {
        "data": doc.data,
        "locations": [[list(path), line, column] for path, (line, column) in doc.locations.items()],
        "duplicates": [[list(path), line, column, first]
                       for path, line, column, first in doc.duplicates],
    }
    tmp = ""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=entry.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(blob, out, separators=(",", ":"), allow_nan=False)
        os.replace(tmp, entry)
        _prune(entry.parent)
    except (OSError, TypeError, ValueError):
        if tmp:     # best-effort: the next load parses again
            Path(tmp).unlink(missing_ok=True)


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-KEEP]:
        old.unlink(missing_ok=True)
