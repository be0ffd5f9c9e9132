"""Where the sandbox finds the external emulators it runs (Azurite from npm).

The version is pinned here and in ``.ci/install-azurite.sh``, which installs it
into a version-keyed cache outside the clone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from provision.errors import SandboxError

AZURITE_VERSION = "3.37.0"
INSTALL_SCRIPT = ".ci/install-azurite.sh"


def cache_dir() -> Path:
    """``$PROVISION_CACHE``, else ``$XDG_CACHE_HOME/provision``, else ``~/.cache/provision``."""
    explicit = os.environ.get("PROVISION_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "provision"


def azurite_prefix() -> Path:
    return cache_dir() / "npm" / f"azurite-{AZURITE_VERSION}"


def azurite_blob_script() -> Path:
    """The blob service's entry script inside the installed npm package."""
    return azurite_prefix() / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"


def azurite_blob_command() -> list[str]:
    """``node <azurite blob main.js>``; raises SandboxError when Azurite or node is missing."""
    script = azurite_blob_script()
    if not script.is_file():
        raise SandboxError(
            f"Azurite {AZURITE_VERSION} is not installed (looked for {script})",
            hint=f"run `make setup` or `bash {INSTALL_SCRIPT}`",
        )
    node = shutil.which("node")
    if node is None:
        raise SandboxError(
            "Node.js is required to run Azurite but `node` is not on PATH",
            hint="install Node.js >= 18, then run `make setup`",
        )
    return [node, str(script)]
