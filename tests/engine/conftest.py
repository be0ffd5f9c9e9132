"""Fixtures for engine tests.

``make_orchestrator(spec_text, env="dev", **kwargs)`` builds an orchestrator over
the fake cloud of ``providers.testing`` on one of two engines, chosen by the
``engine_kind`` parameter:

* ``fake``: :class:`provision.engine.testing.FakeEngine` (every scenario, in
  milliseconds; the fake cloud in memory);
* ``pulumi``: the real Pulumi engine (:class:`StackRunner`) over a file backend,
  the fake cloud in a JSON file shared with Pulumi's provider process. Only
  scenarios marked ``real_engine`` run here too (a representative subset), and
  those marked ``pulumi_only`` run only here.

One test's orchestrators share one engine, so state persists between them as it
would between runs. ``engine_of(orchestrator)`` returns the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import Engine
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.testing import FakeEngine
from provision.engine.toolchain import find_toolchain
from provision.graph.stages import build_stages
from provision.provider import CloudConfig
from providers.testing import FILE_ENV, FakeAdapter, fake_registry

CONFIGS = {"test": CloudConfig("test", {"zone": "z1"})}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_kind" not in metafunc.fixturenames:
        return
    marks = metafunc.definition
    pulumi = pytest.param("pulumi", marks=pytest.mark.engine)
    if marks.get_closest_marker("pulumi_only"):
        kinds: list[Any] = [pulumi]
    elif marks.get_closest_marker("real_engine"):
        kinds = ["fake", pulumi]
    else:
        kinds = ["fake"]
    metafunc.parametrize("engine_kind", kinds)


@pytest.fixture
def engine(engine_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    if engine_kind == "fake":
        monkeypatch.delenv(FILE_ENV, raising=False)
        FakeAdapter.cloud.reset()
        return FakeEngine(configs=CONFIGS)
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "cloud.json"))
    options = EngineOptions(
        toolchain=find_toolchain(), backend_url=f"file://{tmp_path / 'state'}",
        passphrase="test-passphrase-not-secret", cloud_configs=CONFIGS,
        work_dir=tmp_path / "work")
    (tmp_path / "state").mkdir(exist_ok=True)
    return StackRunner("", options)    # the project is the spec's name, set by make()


@pytest.fixture
def make_orchestrator(tmp_path: Path, engine: Engine) -> Iterator[Callable[..., Orchestrator]]:
    registry = fake_registry()

    def make(text: str, env: str = "dev", **kwargs: Any) -> Orchestrator:
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(text)
        raw = specs.load(spec_file)
        specs.validate(raw, registry)
        resolved = specs.resolve(raw, env)
        if isinstance(engine, StackRunner):
            engine.project = resolved.name
        return Orchestrator(resolved, resolved.environments[env], build_stages(resolved),
                            registry, engine, **kwargs)

    yield make
