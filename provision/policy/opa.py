"""Rego evaluated by OPA, the reference Rego implementation, one child process per query.

OPA is built from Go modules by ``.ci/build-opa.sh`` (``make setup`` runs it) into
``$PROVISION_CACHE/opa/v<OPA_VERSION>/bin/opa``; ``PROVISION_OPA_BIN`` (the binary)
overrides that, and an ``opa`` on PATH of the same version will do. On 10k
resources x 30 rules it evaluates a check in about a tenth of rego-cpp's CPU time
(see docs/benchmarks.md), so packs use it whenever it is found; otherwise, or with
``PROVISION_REGO_ENGINE=regopy``, they use regopy (rego-cpp, in-process).
``PROVISION_REGO_ENGINE=opa`` makes a missing OPA an error.

A pack's modules and data are laid out once as an OPA bundle directory
(:class:`OpaBundle`): modules written in Rego v0 syntax (``deny[msg] { ... }``,
no ``if``) are marked v0 in the bundle's manifest, every other module is v1
(``import rego.v1`` modules are both), as rego-cpp accepts both.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from provision.errors import PolicyError

OPA_VERSION = "1.22.3"
ENGINE_ENV = "PROVISION_REGO_ENGINE"      # opa | regopy (default: opa when found)
BIN_ENV = "PROVISION_OPA_BIN"
TIMEOUT = 300
_V1_IMPORT = re.compile(r"^\s*import\s+rego\.v1\b", re.MULTILINE)
_LOADING = re.compile(r"^(?P<file>[^\n:]+\.rego):(?P<row>\d+): (?P<code>[\w_]+): (?P<message>[^\n]+)",
                      re.MULTILINE)


def find_opa() -> Path | None:
    """The OPA binary of version ``OPA_VERSION``, or None when none is found."""
    from provision.engine.toolchain import cache_root

    candidates: list[Path] = []
    if override := os.environ.get(BIN_ENV):
        candidates.append(Path(override))
    candidates.append(cache_root() / "opa" / f"v{OPA_VERSION}" / "bin" / "opa")
    if on_path := shutil.which("opa"):
        candidates.append(Path(on_path))
    for binary in candidates:
        if binary.is_file() and os.access(binary, os.X_OK) and opa_version(binary) == OPA_VERSION:
            return binary
    return None


def opa_version(binary: Path) -> str | None:
    """``opa version``'s version, asked once per (path, size, mtime) in a process."""
    try:
        st = binary.stat()
    except OSError:
        return None
    return _version_of(str(binary), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _version_of(binary: str, size: int, mtime_ns: int) -> str | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=60,
                             check=False).stdout
    except OSError:
        return None
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return None


def choose_engine() -> Path | None:
    """The OPA binary packs evaluate with, or None for regopy (see the module docstring)."""
    wanted = os.environ.get(ENGINE_ENV, "").strip().lower()
    if wanted == "regopy":
        return None
    binary = find_opa()
    if binary is None and wanted == "opa":
        raise PolicyError(f"{ENGINE_ENV}=opa, but OPA v{OPA_VERSION} was not found",
                          hint=f"run `make setup` (it builds OPA with `.ci/build-opa.sh "
                               f"{OPA_VERSION}`), set {BIN_ENV}, or unset {ENGINE_ENV}")
    if wanted not in ("", "opa", "regopy"):
        raise PolicyError(f"{ENGINE_ENV}={wanted!r} is not a Rego engine",
                          hint="use opa or regopy")
    return binary


class OpaBundle:
    """One pack's Rego modules and data as an OPA bundle directory, queried with ``opa eval``.

    ``modules`` are ``(path, source)`` pairs; errors name those paths and lines.
    The directory lives as long as the object (a temporary directory).
    Raises PolicyError when a module does not parse or compile.
    """

    def __init__(self, binary: Path, modules: list[tuple[Path, str]], data: dict[str, Any]) -> None:
        self.binary = binary
        self._tmp = tempfile.TemporaryDirectory(prefix="provision-opa-")
        self.root = Path(self._tmp.name)
        self._names: dict[str, Path] = {}            # bundle file -> the module's own path
        for index, (path, source) in enumerate(modules):
            name = f"m{index:04d}_{path.name}"
            (self.root / name).write_text(source, encoding="utf-8")
            self._names[name] = path
        (self.root / "data.json").write_text(json.dumps(data), encoding="utf-8")
        v0 = self._v0_modules()
        (self.root / ".manifest").write_text(json.dumps({
            "rego_version": 1, "file_rego_versions": {f"/{n}": 0 for n in v0}}))
        self._check(["check", "--format", "json", "--bundle", str(self.root)])

    def close(self) -> None:
        self._tmp.cleanup()

    def _v0_modules(self) -> list[str]:
        """Modules that do not parse as Rego v1 but do as v0 (asked only when some module
        does not import rego.v1, which makes it valid in both)."""
        if all(_V1_IMPORT.search(path.read_text(encoding="utf-8"))
               for path in self.root.glob("*.rego")):
            return []
        errors = self._errors(["check", "--format", "json", str(self.root)])
        failing = sorted({Path(e.get("location", {}).get("file", "")).name for e in errors
                          if e.get("code") == "rego_parse_error"} & set(self._names))
        if not failing:
            return []
        again = self._errors(["check", "--format", "json", "--v0-compatible",
                              *(str(self.root / n) for n in failing)])
        broken = {Path(e.get("location", {}).get("file", "")).name for e in again}
        return [n for n in failing if n not in broken]

    def _errors(self, args: list[str]) -> list[dict[str, Any]]:
        proc = self._run(args, None)
        if proc.returncode == 0:
            return []
        return _parse_errors(proc.stdout or proc.stderr)

    def _check(self, args: list[str]) -> None:
        errors = self._errors(args)
        if errors:
            first = errors[0]
            raise PolicyError(f"{self._where(first)}: Rego error: {first.get('message', '')}",
                              hint="check the module with the Rego test runner: provision policy test")

    def _where(self, error: dict[str, Any]) -> str:
        loc = error.get("location") or {}
        path = self._names.get(Path(str(loc.get("file", ""))).name)
        if path is None:
            return "Rego"
        return f"{path}:{loc['row']}" if loc.get("row") else str(path)

    def _run(self, args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([str(self.binary), *args], input=stdin, capture_output=True,
                                  text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PolicyError(f"OPA did not answer within {TIMEOUT}s") from None
        except OSError as exc:
            raise PolicyError(f"cannot run OPA ({self.binary}): {exc.strerror}") from None

    def query(self, query: str, document: Any | None = None) -> tuple[bool, Any]:
        """(defined, value) of ``query`` with ``input`` = ``document``; PolicyError on
        evaluation errors (naming the module and line)."""
        args = ["eval", "--format", "json", "--bundle", str(self.root), query]
        stdin = None
        if document is not None:
            args.insert(1, "--stdin-input")
            stdin = json.dumps(document, separators=(",", ":"))
        proc = self._run(args, stdin)
        if proc.returncode != 0:
            errors = _parse_errors(proc.stdout or proc.stderr)
            first = errors[0] if errors else {"message": (proc.stderr or proc.stdout).strip()}
            raise PolicyError(f"Rego query '{query}' failed: {self._where(first)}: "
                              f"{first.get('message', '')}")
        answer = json.loads(proc.stdout or "{}")
        results = answer.get("result") or []
        if not results:
            return False, None
        expressions = results[0].get("expressions") or []
        if not expressions:
            return False, None
        return True, expressions[0].get("value")


def _parse_errors(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        return [{"message": text.strip().splitlines()[0] if text.strip() else "OPA failed"}]
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return [{"message": str(data)}]
    out: list[dict[str, Any]] = []
    for e in errors:
        if not isinstance(e, dict):
            continue
        # A loading error wraps the parse errors of a whole bundle in one message.
        inner = _LOADING.search(str(e.get("message", ""))) if not e.get("location") else None
        if inner:
            out.append({"message": inner.group("message"), "code": inner.group("code"),
                        "location": {"file": inner.group("file"), "row": int(inner.group("row"))}})
        else:
            out.append(e)
    return out
