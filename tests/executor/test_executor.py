"""The executor seam: choosing one, queues per (cloud, environment), and the local default
never importing Temporal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from provision.errors import ExecutorError
from provision.executor import ENV_EXECUTOR, LocalExecutor, choose, executor_name
from provision.executor.queues import stage_queues
from provision.graph.stages import build_stages
from provision.spec import load, resolve, validate
from providers.testing import fake_registry


def test_the_flag_wins_then_the_environment_then_the_spec_then_local(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_EXECUTOR, raising=False)
    assert executor_name(None, None) == "local"
    assert executor_name(None, "temporal-local") == "temporal-local"
    monkeypatch.setenv(ENV_EXECUTOR, "temporal://h:7233")
    assert executor_name(None, "temporal-local") == "temporal://h:7233"
    assert executor_name("local", "temporal-local") == "local"
    assert isinstance(choose("local"), LocalExecutor)


def test_targets_parse_and_a_bad_one_says_what_is_accepted() -> None:
    from provision.executor.temporal import Target

    assert Target.parse("temporal-local").local
    assert Target.parse("temporal://t.internal:7233?namespace=infra") == Target(
        "t.internal:7233", "infra")
    assert Target.parse("temporal://10.0.0.1:7233").namespace == "default"
    assert Target.parse("temporal-local?ui=1&heartbeat=5") == Target("", "default", 5.0, True)
    with pytest.raises(ExecutorError, match="unknown executor 'kubernetes'"):
        choose("kubernetes")
    with pytest.raises(ExecutorError, match="names no host:port"):
        Target.parse("temporal://nowhere")


def test_a_started_dev_server_is_named_as_a_cluster_with_in_process_workers() -> None:
    """A rollout's environment applies run on the server its client started: the target
    as an executor name for that address keeps namespace, heartbeat and workers."""
    from provision.executor.temporal import Target

    named = Target.parse("temporal-local?heartbeat=5&namespace=ns").url("127.0.0.1:7999")
    assert named == "temporal://127.0.0.1:7999?namespace=ns&heartbeat=5&workers=in-process"
    assert Target.parse(named) == Target("127.0.0.1:7999", "ns", 5.0, in_process=True)
    cluster = Target.parse("temporal://t.internal:7233")
    assert Target.parse(cluster.url(cluster.address)) == cluster and not cluster.in_process


def test_the_local_default_never_imports_temporal() -> None:
    code = ("import sys; from provision.executor import choose; "
            "choose('local'); print('temporalio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


QUEUES_SPEC = """
name: q
environments:
  dev: {}
  prod: {queues: {test: prod-test}}
  all: {queues: {"*": everything}}
resources:
  a: {type: test:fake:Thing, stage: one, properties: {name: a}}
  b: {type: test:fake:Other, stage: two, properties: {name: b}}
"""


def test_each_stage_runs_on_its_clouds_queue_in_its_environment(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "q.yaml"
    path.write_text(QUEUES_SPEC.replace("{test: prod-test}", "{aws: prod-aws}"))
    raw = load(path)
    # the spec builder accepts only real clouds (or "*") as keys
    assert raw.environments["prod"].queues == {"aws": "prod-aws"}
    for env, want in (("dev", {"one": "provision", "two": "provision"}),
                      ("all", {"one": "everything", "two": "everything"})):
        spec = resolve(raw, env)
        assert stage_queues(spec, spec.environments[env], build_stages(spec)) == want
    spec = resolve(raw, "prod")
    spec.environments["prod"].queues = {"test": "prod-test"}
    assert stage_queues(spec, spec.environments["prod"], build_stages(spec)) == {
        "one": "prod-test", "two": "prod-test"}


def test_a_queue_map_naming_no_cloud_is_a_spec_error(tmp_path: object) -> None:
    from pathlib import Path

    from provision.errors import SpecError

    path = Path(str(tmp_path)) / "q.yaml"
    path.write_text(QUEUES_SPEC.replace("{test: prod-test}", "{ams: prod}"))
    with pytest.raises(SpecError) as raised:
        validate(load(path), fake_registry())
    assert "'ams' is not a cloud" in raised.value.render()


def test_an_unreachable_server_is_an_executor_error_naming_it() -> None:
    import asyncio

    from provision.executor.temporal import Target, connect
    from provision.sandbox.process import free_port

    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(ExecutorError, match=f"cannot reach the Temporal server at {address}"):
        asyncio.run(connect(Target(address), address, "pw"))
