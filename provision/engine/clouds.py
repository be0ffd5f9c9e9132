"""Per-environment cloud settings and the engine's local paths and secrets.

``local`` environments get their endpoints from the running sandbox; other
environments use what the spec sets (regions, projects, subscriptions). Only
non-secret settings live here; credentials stay in each cloud's standard chain.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

from provision.errors import CredentialsError
from provision.provider import CloudConfig
from provision.spec.model import Environment, Spec

CLOUDS = ("aws", "azure", "gcp")


def home_dir() -> Path:
    """Where provision keeps local state, the sandbox and run history."""
    return Path(os.environ.get("PROVISION_HOME") or ".provision").absolute()


def cloud_configs(env: Environment, sandbox_settings: dict[str, dict[str, Any]] | None
                  ) -> dict[str, CloudConfig]:
    """Merge the sandbox's endpoints (for ``local``) under the environment's own settings."""
    names = set(CLOUDS) | set(env.clouds)
    configs: dict[str, CloudConfig] = {}
    for name in sorted(names):
        settings: dict[str, Any] = {}
        if sandbox_settings is not None:
            settings.update(sandbox_settings.get(name, {}))
        settings.update(env.clouds.get(name, {}))
        configs[name] = CloudConfig(cloud=name, settings=settings, sandbox=sandbox_settings is not None)
    return configs


def backend_url(spec: Spec) -> str:
    url = os.environ.get("PROVISION_BACKEND_URL") or spec.backend
    if url:
        if url.startswith("file://") and not url.startswith("file:///"):
            # Relative file URLs are relative to the working directory.
            path = Path(url[len("file://"):]).absolute()
            path.mkdir(parents=True, exist_ok=True)
            return f"file://{path}"
        return url
    state = home_dir() / "state"
    state.mkdir(parents=True, exist_ok=True)
    return f"file://{state}"


# Where a state passphrase comes from, first match wins (else the generated file, for
# sandbox environments only).
PASSPHRASE_VARIABLES = ("PROVISION_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE")


def passphrase(env: Environment, stacks_exist: Callable[[], bool] = lambda: False) -> str:
    """The state-encryption passphrase: from the environment, or generated for ``local``.

    The generated one is never generated again while any stack exists on the backend
    (``stacks_exist``): that would make the existing state unreadable. Raises
    CredentialsError then, and when a non-sandbox environment has no passphrase."""
    for var in PASSPHRASE_VARIABLES:
        if value := os.environ.get(var):
            return value
    if not env.sandbox:
        raise CredentialsError(
            f"no state passphrase for environment '{env.name}'",
            hint="set PROVISION_PASSPHRASE (kept out of logs, plans and state)",
        )
    path = home_dir() / "passphrase"
    if not path.exists():
        if stacks_exist():
            raise CredentialsError(
                f"the state passphrase file {path} is missing, but the state backend holds "
                "stacks encrypted with it",
                hint="restore that file, or set PROVISION_PASSPHRASE to the passphrase the "
                     "stacks were created with; a new passphrase could not open them")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
