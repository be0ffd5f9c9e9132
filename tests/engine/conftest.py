"""Fixtures for engine tests: the real Pulumi engine over a file-backed fake cloud."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.toolchain import find_toolchain
from provision.graph.stages import build_stages
from provision.provider import AdapterRegistry, CloudConfig

HERE = Path(__file__).parent
REGISTRY = {"test:file:Thing": "fake_cloud:FileThing"}


@pytest.fixture
def fake_cloud_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cloud.json"
    monkeypatch.setenv("FAKE_CLOUD_FILE", str(path))
    # The provider process imports the fake adapter from this directory.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    return path


@pytest.fixture
def make_orchestrator(tmp_path: Path, fake_cloud_file: Path
                      ) -> Iterator[Callable[..., Orchestrator]]:
    toolchain = find_toolchain()
    registry = AdapterRegistry(REGISTRY)

    def make(text: str, env: str = "dev", **kwargs: Any) -> Orchestrator:
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(text)
        raw = specs.load(spec_file)
        specs.validate(raw, registry)
        resolved = specs.resolve(raw, env)
        options = EngineOptions(
            toolchain=toolchain, backend_url=f"file://{tmp_path / 'state'}",
            passphrase="test-passphrase-not-secret",
            cloud_configs={"test": CloudConfig("test", {"zone": "z1"})},
            work_dir=tmp_path / "work")
        (tmp_path / "state").mkdir(exist_ok=True)
        runner = StackRunner(resolved.name, options)
        return Orchestrator(resolved, resolved.environments[env], build_stages(resolved),
                            registry, runner, **kwargs)

    yield make
