"""Fixtures for engine tests: the real Pulumi engine over the file-backed fake cloud
(providers.testing), shared by the test and Pulumi's provider process."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.toolchain import find_toolchain
from provision.graph.stages import build_stages
from provision.provider import CloudConfig
from providers.testing import FILE_ENV, fake_registry


@pytest.fixture
def fake_cloud_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cloud.json"
    monkeypatch.setenv(FILE_ENV, str(path))
    return path


@pytest.fixture
def make_orchestrator(tmp_path: Path, fake_cloud_file: Path
                      ) -> Iterator[Callable[..., Orchestrator]]:
    toolchain = find_toolchain()
    registry = fake_registry()

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
