"""Who runs a command: the CI system's identity variables, else the OS user.

The variables are those each CI documents for the person or account that started
the job (GitHub Actions ``GITHUB_ACTOR``; GitLab CI ``GITLAB_USER_LOGIN``; Azure
Pipelines ``BUILD_REQUESTEDFOREMAIL``/``BUILD_REQUESTEDFOR``; Bitbucket
``BITBUCKET_STEP_TRIGGERER_UUID``; CircleCI ``CIRCLE_USERNAME``; Buildkite
``BUILDKITE_BUILD_CREATOR_EMAIL``; Jenkins ``BUILD_USER_ID`` (build-user-vars plugin)).
``PROVISION_ACTOR`` overrides them all.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

# (variable, label) in order of preference.
CI_IDENTITY: tuple[tuple[str, str], ...] = (
    ("PROVISION_ACTOR", ""),
    ("GITHUB_ACTOR", "github"),
    ("GITLAB_USER_LOGIN", "gitlab"),
    ("BUILD_REQUESTEDFOREMAIL", "azure-pipelines"),
    ("BUILD_REQUESTEDFOR", "azure-pipelines"),
    ("BITBUCKET_STEP_TRIGGERER_UUID", "bitbucket"),
    ("CIRCLE_USERNAME", "circleci"),
    ("BUILDKITE_BUILD_CREATOR_EMAIL", "buildkite"),
    ("BUILD_USER_ID", "jenkins"),
)


def who(environ: Mapping[str, str] | None = None) -> str:
    """``label:identity`` from the first CI identity variable set (``PROVISION_ACTOR``
    as given), else the OS user name, else ``unknown``."""
    env = os.environ if environ is None else environ
    for var, label in CI_IDENTITY:
        value = env.get(var, "").strip()
        if value:
            return f"{label}:{value}" if label else value
    try:
        return getpass.getuser()
    except (KeyError, OSError):   # no passwd entry and no LOGNAME/USER
        return "unknown"
