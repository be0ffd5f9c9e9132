"""Find the Pulumi CLI that matches the pinned Pulumi SDK.

The CLI is built from Go modules by ``.ci/build-pulumi.sh`` into a version-keyed
cache outside the clone (``$PROVISION_CACHE/pulumi/vX.Y.Z/bin``). A ``pulumi`` on
PATH is used when its version matches exactly. ``PROVISION_PULUMI_BIN`` overrides
both.

The CLI's version is asked once per binary: ``pulumi version`` is a Go binary
start (tenths of a second) and its answer cannot change while the file keeps its
path, size and modification time, which key the memo, kept in the process and in
``$PROVISION_CACHE/pulumi/versions.json`` (so a command does not ask again what an
earlier one asked).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

from provision.errors import ToolchainError


def sdk_version() -> str:
    return dist_version("pulumi")


def cache_root() -> Path:
    base = os.environ.get("PROVISION_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "provision")
    return Path(base)


@dataclass(frozen=True)
class Toolchain:
    bin_dir: Path
    version: str

    @property
    def pulumi(self) -> Path:
        return self.bin_dir / "pulumi"


def cli_version(binary: Path) -> str | None:
    """The version ``binary version`` prints (``3.260.0``), or None when it does not run.

    Asked once per (path, size, mtime) in a process.
    """
    try:
        st = binary.stat()
    except OSError:
        return None
    return _version_of(str(binary), st.st_size, st.st_mtime_ns)


# Entries kept in the versions file (the most recent ones).
VERSIONS_KEPT = 16


@functools.lru_cache(maxsize=16)
def _version_of(binary: str, size: int, mtime_ns: int) -> str | None:
    key = f"{binary}|{size}|{mtime_ns}"
    memo = _read_versions()
    if key in memo:
        return memo[key]
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True,
                             timeout=60, check=False,
                             env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"})
    except OSError:
        return None
    found = out.stdout.strip().lstrip("v") or None
    if found is not None and out.returncode == 0:
        memo.pop(key, None)
        _write_versions({**dict(list(memo.items())[-(VERSIONS_KEPT - 1):]), key: found})
    return found


def _versions_file() -> Path:
    return cache_root() / "pulumi" / "versions.json"


def _read_versions() -> dict[str, str]:
    try:
        data = json.loads(_versions_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_versions(memo: dict[str, str]) -> None:
    """Best effort, atomically (a reader never sees half a file)."""
    path = _versions_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".versions-",
                                         delete=False, encoding="utf-8") as tmp:
            json.dump(memo, tmp)
        os.replace(tmp.name, path)
    except OSError:
        pass


def _usable(bin_dir: Path, want: str) -> bool:
    pulumi = bin_dir / "pulumi"
    return (pulumi.is_file() and os.access(pulumi, os.X_OK)
            and (bin_dir / "pulumi-resource-pulumi-python").is_file()
            and cli_version(pulumi) == want)


def find_toolchain() -> Toolchain:
    """Locate the Pulumi CLI for the installed SDK version, or explain how to build it."""
    want = sdk_version()
    candidates: list[Path] = []
    if override := os.environ.get("PROVISION_PULUMI_BIN"):
        candidates.append(Path(override))
    candidates.append(cache_root() / "pulumi" / f"v{want}" / "bin")
    if on_path := shutil.which("pulumi"):
        candidates.append(Path(on_path).resolve().parent)
    for bin_dir in candidates:
        if _usable(bin_dir, want):
            return Toolchain(bin_dir=bin_dir, version=want)
    raise ToolchainError(
        f"the Pulumi CLI v{want} (matching the installed pulumi SDK) was not found",
        hint=f"run `make setup` (it builds the CLI from Go modules with "
             f"`.ci/build-pulumi.sh {want}`), or set PROVISION_PULUMI_BIN",
    )
