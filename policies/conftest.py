"""Lets pytest run the packs' Python rule tests too (``pytest policies``).

``provision policy test`` passes each ``test_*`` function the pack's ``rules``
(by id) and default ``params``; these fixtures give pytest the same two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provision.policy.pack import load_python_rules, read_manifest
from provision.policy.rules import PythonRule


def _pack_dir(request: pytest.FixtureRequest) -> Path:
    return Path(str(request.path)).parent


@pytest.fixture
def rules(request: pytest.FixtureRequest) -> dict[str, PythonRule]:
    pack = _pack_dir(request)
    name = str(read_manifest(pack)["name"])
    return {r.meta.id: r for r in load_python_rules(pack, name)}


@pytest.fixture
def params(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(read_manifest(_pack_dir(request)).get("parameters") or {})
