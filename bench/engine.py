"""Engine benchmarks: the real CLI and Pulumi engine against the sandbox's emulators.

    .venv/bin/python bench/engine.py                                   # every scenario
    .venv/bin/python bench/engine.py --scenarios noop apply --sizes 1 50 200 --runs 3
    .venv/bin/python bench/engine.py --scenarios bare --bare-size 50
    .venv/bin/python bench/engine.py --scenarios dag demo --json results.json
    .venv/bin/python bench/engine.py --scenarios parallel --pulumi-parallel 10 32 64

Each scenario is measured as a ratio within one run, so a busy machine slows
both sides alike (the load average is printed with every table):

* ``noop``  -- ``provision plan`` of N S3 buckets in one stage, already applied
  (nothing to change); the cost per resource is (t(max N) - t(min N)) / (max N - min N).
* ``apply`` -- ``provision apply --yes`` of N new buckets in one stage, against
  N x (create_bucket + put_bucket_tagging) made directly with boto3 on the same moto.
* ``bare``  -- ``provision apply`` of N buckets against a bare Pulumi Automation API
  program (one inline stack, ``stack.up``) declaring the same resources through the
  same adapters (provision's dynamic provider). provision runs with ``--no-policy``,
  or with ``--bare-policies DIR`` with the gates before and after each stage; then
  the S3 adapter reads made in provision's own process (the gate after the stage;
  Pulumi's refresh reads run in its provider processes) are counted too.
* ``update`` -- as ``bare``, for a change (one tag) to each of N existing buckets: provision
  previews the change (refresh and diff) before it applies it, the bare program does not.
* ``dag``   -- an unbalanced stage DAG (a chain of stages beside one big stage):
  makespan of the apply / its critical path, both from the stage events of that apply.
* ``demo``  -- no-op ``provision plan`` of stacks/demo.yaml (three clouds) with the
  baseline policy packs.
* ``parallel`` -- the bare program's apply of N buckets with each of Pulumi's
  ``--parallel`` values given (``--pulumi-parallel``), to choose provision's default.

Wall times are medians of ``--runs``; "cpu" is the CPU time of the child processes
(provision, Pulumi, the provider processes). Every scenario starts its own sandbox
in a temporary home and stops it at the end; state lives in that home too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {
    "noop_per_resource_s": 0.05,
    "demo_noop_s": 5.0,
    "apply_vs_boto3": 3.0,
    "makespan_vs_critical_path": 1.15,
    "apply_vs_bare": 1.2,
}


# -- measuring ------------------------------------------------------------------------

def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process and its finished children, result)."""
    wall, cpu = time.perf_counter(), _children_cpu() + time.process_time()
    result = fn()
    return time.perf_counter() - wall, _children_cpu() + time.process_time() - cpu, result


def context() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit or "?", "load": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count()}


def _load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Bench:
    """A sandbox, a state home and the CLI, for one benchmark run."""

    def __init__(self, home: Path) -> None:
        from provision.sandbox import ENV_HOME, Sandbox

        self.home = home
        self.sandbox = Sandbox(home / "sandbox")
        self.status = self.sandbox.up()
        self.env = {**os.environ, ENV_HOME: str(home / "sandbox"),
                    "PROVISION_HOME": str(home / "state-home"),
                    "AWS_EC2_METADATA_DISABLED": "true", "PROVISION_HCL_CACHE": "0"}
        self.env.pop("PROVISION_PASSPHRASE", None)
        self.work = home / "work"
        self.work.mkdir()

    def close(self) -> None:
        self.sandbox.down()

    def cli(self, *args: str, check: bool = True,
            counted: bool = False) -> subprocess.CompletedProcess[str]:
        """``provision ARGS``; ``counted``: its S3 adapter reads are counted
        (:func:`counted_cli`, reported on stderr after :data:`READS_MARK`)."""
        run = [__file__, "--counted-cli"] if counted else ["-m", "provision.cli.main"]
        proc = subprocess.run([sys.executable, *run, *args],
                              cwd=self.work, env=self.env, capture_output=True, text=True,
                              check=False)
        if check and proc.returncode not in (0, 2):
            raise SystemExit(f"provision {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stderr[-3000:]}")
        return proc

    def s3(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.status.cloud_settings()["aws"]["endpoint_url"],
                            region_name="us-east-1", aws_access_key_id="bench",
                            aws_secret_access_key="bench")


def buckets_spec(path: Path, name: str, n: int, prefix: str, owner: str = "bench") -> list[str]:
    """A spec of ``n`` tagged S3 buckets in one stage; returns the bucket names."""
    names = [f"{prefix}-{i}" for i in range(n)]
    lines = [f"name: {name}", "environments: {local: {}}", "resources:"]
    for i, bucket in enumerate(names):
        lines.append(f"  b{i}: {{type: aws:s3:Bucket, stage: one, properties: "
                     f"{{bucket: {bucket}, tags: {{owner: {owner}, n: '{i}'}}}}}}")
    path.write_text("\n".join(lines) + "\n")
    return names


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


# -- scenarios ------------------------------------------------------------------------

def noop_and_apply(b: Bench, sizes: list[int], runs: int) -> dict[str, Any]:
    """Apply N buckets (timed), plan them again with nothing to change (timed), and the
    same N creates made directly with boto3 (timed); per run, then destroy."""
    rows: dict[int, dict[str, list[float]]] = {}
    s3 = b.s3()
    for n in sizes:
        samples: dict[str, list[float]] = {k: [] for k in (
            "apply", "apply_cpu", "noop", "noop_cpu", "boto3", "boto3_cpu")}
        for _ in range(runs):
            sfx = _suffix()
            spec = b.work / f"n{n}-{sfx}.yaml"
            buckets_spec(spec, f"n{n}x{sfx}", n, f"bench-{sfx}")
            wall, cpu, _ = timed(lambda: b.cli("apply", spec.name, "--env", "local", "--yes",
                                               "--no-policy"))
            samples["apply"].append(wall)
            samples["apply_cpu"].append(cpu)
            wall, cpu, proc = timed(lambda: b.cli("plan", spec.name, "--env", "local",
                                                  "--no-policy", "--detailed-exitcode"))
            if proc.returncode != 0:
                raise SystemExit(f"the no-op plan of {n} buckets has changes:\n{proc.stdout}")
            samples["noop"].append(wall)
            samples["noop_cpu"].append(cpu)
            b.cli("destroy", spec.name, "--env", "local", "--yes")
            direct = [f"direct-{sfx}-{i}" for i in range(n)]

            def create_directly() -> None:
                for i, bucket in enumerate(direct):
                    s3.create_bucket(Bucket=bucket)
                    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
                        {"Key": "owner", "Value": "bench"}, {"Key": "n", "Value": str(i)}]})

            wall, cpu, _ = timed(create_directly)
            samples["boto3"].append(wall)
            samples["boto3_cpu"].append(cpu)
            for bucket in direct:
                s3.delete_bucket(Bucket=bucket)
        rows[n] = samples
        med = {k: statistics.median(v) for k, v in samples.items()}
        print(f"  N={n:>4}: apply {med['apply']:.2f}s (cpu {med['apply_cpu']:.2f}s)  "
              f"no-op plan {med['noop']:.2f}s (cpu {med['noop_cpu']:.2f}s)  "
              f"boto3 {med['boto3']:.3f}s  apply/boto3 {med['apply'] / med['boto3']:.1f}x  "
              f"[{_load()}]", flush=True)
    return {str(n): {k: statistics.median(v) for k, v in s.items()} | {"runs": runs}
            for n, s in rows.items()}


def _bare_run(b: Bench, cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of the bare program ``cmd``; exits if it fails."""
    wall, cpu, proc = timed(lambda: subprocess.run(cmd, cwd=b.work, env=b.env,
                                                   capture_output=True, text=True))
    if proc.returncode != 0:
        raise SystemExit(f"the bare Automation API program failed:\n{proc.stderr[-3000:]}")
    return wall, cpu


def bare(b: Bench, n: int, runs: int, policies: Path | None = None) -> dict[str, Any]:
    """provision apply of n buckets vs a bare Automation API program (same adapters);
    with ``policies``, provision applies with its gates and its adapter reads are
    counted."""
    samples: dict[str, list[float]] = {k: [] for k in ("provision", "provision_cpu",
                                                         "bare", "bare_cpu", "reads")}
    gates = ("--policies", str(policies)) if policies is not None else ("--no-policy",)
    for _ in range(runs):
        sfx = _suffix()
        spec = b.work / f"bare-{sfx}.yaml"
        buckets_spec(spec, f"barex{sfx}", n, f"prov-{sfx}")
        wall, cpu, proc = timed(lambda: b.cli("apply", spec.name, "--env", "local", "--yes",
                                              *gates, counted=policies is not None))
        samples["provision"].append(wall)
        samples["provision_cpu"].append(cpu)
        if policies is not None:
            samples["reads"].append(float(proc.stderr.rsplit(READS_MARK, 1)[1].split()[0]))
        b.cli("destroy", spec.name, "--env", "local", "--yes")
        spec2 = b.work / f"bare2-{sfx}.yaml"
        buckets_spec(spec2, f"rawx{sfx}", n, f"raw-{sfx}")
        cmd = [sys.executable, __file__, "--bare-child", str(spec2),
               "--pulumi-parallel", "16"]          # as provision: 4 x its --parallel 4
        wall, cpu = _bare_run(b, cmd)
        samples["bare"].append(wall)
        samples["bare_cpu"].append(cpu)
        subprocess.run(cmd + ["--destroy"], cwd=b.work, env=b.env, capture_output=True,
                       check=True)
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    reads = f", {med['reads']:.0f} adapter reads" if "reads" in med else ""
    print(f"  N={n}: provision apply {med['provision']:.2f}s (cpu {med['provision_cpu']:.2f}s"
          f"{reads})  bare Automation API {med['bare']:.2f}s (cpu {med['bare_cpu']:.2f}s)  ratio "
          f"{med['provision'] / med['bare']:.2f}x  [{_load()}]", flush=True)
    return med | {"n": n, "runs": runs}


def update(b: Bench, n: int, runs: int) -> dict[str, Any]:
    """provision apply of a change to each of n existing buckets (a tag) vs the bare
    program's ``stack.up`` of the same change on its own stack of the same buckets, and
    vs the bare program doing what provision does: a refreshing preview, then an up that
    refreshes (``pulumi up --refresh`` with its preview shown)."""
    samples: dict[str, list[float]] = {k: [] for k in (
        "provision", "provision_cpu", "bare", "bare_cpu", "bare_refreshing",
        "bare_refreshing_cpu")}
    for _ in range(runs):
        sfx = _suffix()
        spec = b.work / f"upd-{sfx}.yaml"
        buckets_spec(spec, f"updx{sfx}", n, f"upd-{sfx}")
        b.cli("apply", spec.name, "--env", "local", "--yes", "--no-policy")
        buckets_spec(spec, f"updx{sfx}", n, f"upd-{sfx}", owner="changed")
        wall, cpu, _ = timed(lambda: b.cli("apply", spec.name, "--env", "local", "--yes",
                                           "--no-policy"))
        samples["provision"].append(wall)
        samples["provision_cpu"].append(cpu)
        b.cli("destroy", spec.name, "--env", "local", "--yes")
        spec2 = b.work / f"upd2-{sfx}.yaml"
        buckets_spec(spec2, f"rawu{sfx}", n, f"rawu-{sfx}")
        cmd = [sys.executable, __file__, "--bare-child", str(spec2), "--pulumi-parallel", "16"]
        subprocess.run(cmd, cwd=b.work, env=b.env, capture_output=True, check=True)
        buckets_spec(spec2, f"rawu{sfx}", n, f"rawu-{sfx}", owner="changed")
        wall, cpu = _bare_run(b, cmd)
        samples["bare"].append(wall)
        samples["bare_cpu"].append(cpu)
        buckets_spec(spec2, f"rawu{sfx}", n, f"rawu-{sfx}", owner="again")
        wall, cpu = _bare_run(b, cmd + ["--refreshing"])
        samples["bare_refreshing"].append(wall)
        samples["bare_refreshing_cpu"].append(cpu)
        subprocess.run(cmd + ["--destroy"], cwd=b.work, env=b.env, capture_output=True,
                       check=True)
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"  N={n}: provision apply {med['provision']:.2f}s (cpu {med['provision_cpu']:.2f}s)"
          f"  bare up {med['bare']:.2f}s (cpu {med['bare_cpu']:.2f}s)  bare refreshing "
          f"preview + up {med['bare_refreshing']:.2f}s (cpu {med['bare_refreshing_cpu']:.2f}s)"
          f"  provision / bare up {med['provision'] / med['bare']:.2f}x wall, "
          f"{med['provision_cpu'] / med['bare_cpu']:.2f}x cpu; / bare refreshing "
          f"{med['provision'] / med['bare_refreshing']:.2f}x wall, "
          f"{med['provision_cpu'] / med['bare_refreshing_cpu']:.2f}x cpu  [{_load()}]",
          flush=True)
    return med | {"n": n, "runs": runs}


READS_MARK = "adapter-reads:"


def counted_cli(argv: list[str]) -> None:
    """``provision ARGV`` in this process, the S3 adapter's reads made here counted and
    reported on stderr after :data:`READS_MARK` when it exits."""
    import atexit
    import threading

    from providers.aws import s3_bucket
    from provision.cli.main import run

    original, lock, calls = s3_bucket.S3Bucket.read, threading.Lock(), [0]

    def read(self: Any, id: str, props: Any, config: Any) -> Any:
        with lock:
            calls[0] += 1
        return original(self, id, props, config)

    s3_bucket.S3Bucket.read = read  # type: ignore[method-assign]
    atexit.register(lambda: print(f"{READS_MARK} {calls[0]}", file=sys.stderr, flush=True))
    sys.argv = ["provision", *argv]
    run()


def bare_child(spec_path: Path, destroy: bool, parallel: int = 16,
               refreshing: bool = False) -> None:
    """The bare program: one stack, the spec's resources declared through provision's
    dynamic provider, ``stack.up`` (no plan, no policy, no orchestration)."""
    from pulumi import automation as auto

    import providers
    from provision import spec as specs
    from provision.cli.session import sandbox_settings
    from provision.engine.clouds import backend_url, cloud_configs, home_dir, passphrase
    from provision.engine.dynamic import CONFIG_ENV, RUN_DIR_ENV, encode_cloud_config
    from provision.engine.declare import stage_declaration
    from provision.engine.program import pulumi_program
    from provision.engine.toolchain import find_toolchain

    registry = providers.registry()
    resolved = specs.resolve(specs.load(spec_path), "local")
    env = resolved.environments["local"]
    toolchain = find_toolchain()
    home_dir().mkdir(parents=True, exist_ok=True)     # when no provision command ran before
    run_dir = Path(tempfile.mkdtemp(dir=home_dir()))
    program = pulumi_program(stage_declaration(resolved, list(resolved.resources), registry, {}))
    settings = auto.ProjectSettings(name=resolved.name, runtime="python",
                                    backend=auto.ProjectBackend(url=backend_url(resolved)))
    ws_env = {
        "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_CONFIG_PASSPHRASE": passphrase(env),
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable, "PULUMI_HOME": str(home_dir() / "bare-home"),
        "PATH": os.pathsep.join([str(toolchain.bin_dir), str(Path(sys.executable).parent),
                                 os.environ.get("PATH", "")]),
        CONFIG_ENV: encode_cloud_config(cloud_configs(env, sandbox_settings(env))),
        RUN_DIR_ENV: str(run_dir)}
    stack = auto.create_or_select_stack(
        stack_name="bare", project_name=resolved.name, program=program,
        opts=auto.LocalWorkspaceOptions(project_settings=settings, env_vars=ws_env,
                                        secrets_provider="passphrase",
                                        pulumi_command=auto.PulumiCommand(
                                            root=str(toolchain.bin_dir.parent))))
    if destroy:
        stack.destroy(color="never", suppress_progress=True)
    else:
        if refreshing:
            stack.preview(color="never", suppress_progress=True, parallel=parallel,
                          refresh=True)
        stack.up(color="never", suppress_progress=True, suppress_outputs=True,
                 parallel=parallel, refresh=refreshing)
    shutil.rmtree(run_dir, ignore_errors=True)


def pulumi_parallel(b: Bench, n: int, values: list[int], runs: int) -> dict[str, Any]:
    """The bare program's apply of n buckets (same adapters, one stack) with each of
    Pulumi's --parallel values, alternating the values within each round."""
    samples: dict[int, dict[str, list[float]]] = {v: {"wall": [], "cpu": []} for v in values}
    for _ in range(runs):
        for value in values:
            sfx = _suffix()
            spec = b.work / f"par{value}-{sfx}.yaml"
            buckets_spec(spec, f"parx{sfx}", n, f"par-{sfx}")
            cmd = [sys.executable, __file__, "--bare-child", str(spec),
                   "--pulumi-parallel", str(value)]
            wall, cpu = _bare_run(b, cmd)
            samples[value]["wall"].append(wall)
            samples[value]["cpu"].append(cpu)
            subprocess.run(cmd + ["--destroy"], cwd=b.work, env=b.env, capture_output=True,
                           check=True)
            print(f"  --parallel {value:>3}: {wall:.2f}s (cpu {cpu:.2f}s)  [{_load()}]", flush=True)
    return {str(v): {k: statistics.median(x) for k, x in s.items()} | {"n": n, "runs": runs}
            for v, s in samples.items()}


DAG_CHAIN = 4          # stages in the chain, one bucket each
DAG_BIG = 40           # buckets in the big stage beside it


def dag(b: Bench, runs: int) -> dict[str, Any]:
    """A chain c1 -> c2 -> ... beside one big stage; stage start/end from the apply's
    --json events; critical path = the longest path through measured stage durations."""
    ratios: list[float] = []
    detail: dict[str, Any] = {}
    for _ in range(runs):
        sfx = _suffix()
        spec = b.work / f"dag-{sfx}.yaml"
        lines = [f"name: dagx{sfx}", "environments: {local: {}}", "resources:"]
        lines.append(f"  c1: {{type: aws:s3:Bucket, stage: c1, properties: "
                     f"{{bucket: c1-{sfx}, tags: {{n: '1'}}}}}}")
        for k in range(2, DAG_CHAIN + 1):
            lines.append(f"  c{k}: {{type: aws:s3:Bucket, stage: c{k}, properties: "
                         f"{{bucket: c{k}-{sfx}, tags: {{up: '${{c{k - 1}.arn}}'}}}}}}")
        for i in range(DAG_BIG):
            lines.append(f"  big{i}: {{type: aws:s3:Bucket, stage: big, properties: "
                         f"{{bucket: big{i}-{sfx}, tags: {{n: '{i}'}}}}}}")
        spec.write_text("\n".join(lines) + "\n")
        proc = b.cli("apply", spec.name, "--env", "local", "--yes", "--no-policy", "--json")
        start: dict[str, float] = {}
        end: dict[str, float] = {}
        for line in proc.stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            stamp = dt.datetime.fromisoformat(event.get("time", "")).timestamp() \
                if event.get("time") else None
            stage = event.get("stage")
            if stamp is None or not stage:
                continue
            if event.get("event") == "stage_start" and event.get("operation", event.get("op")) in (None, "apply"):
                start.setdefault(stage, stamp)
            elif event.get("event") in ("stage_done", "stage_end"):
                end[stage] = stamp
        b.cli("destroy", spec.name, "--env", "local", "--yes")
        stages = [s for s in start if s in end]
        if not stages:
            raise SystemExit(f"no stage events in the apply's --json output:\n{proc.stdout[:2000]}")
        took = {s: end[s] - start[s] for s in stages}
        chain = sum(took.get(f"c{k}", 0.0) for k in range(1, DAG_CHAIN + 1))
        critical = max(chain, took.get("big", 0.0))
        makespan = max(end.values()) - min(start.values())
        ratios.append(makespan / critical)
        detail = {"stage_seconds": {s: round(t, 2) for s, t in took.items()},
                  "makespan": round(makespan, 2), "critical_path": round(critical, 2)}
        print(f"  makespan {makespan:.2f}s  critical path {critical:.2f}s  ratio "
              f"{makespan / critical:.2f}  stages {detail['stage_seconds']}  [{_load()}]",
              flush=True)
    return {"ratio": statistics.median(ratios), "runs": runs, "last": detail}


def demo(b: Bench, runs: int) -> dict[str, Any]:
    """No-op plan of the three-cloud demo, with the baseline policy packs."""
    shutil.copy(ROOT / "stacks" / "demo.yaml", b.work / "demo.yaml")
    policies = str(ROOT / "policies")
    b.cli("apply", "demo.yaml", "--env", "local", "--yes", "--policies", policies)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, proc = timed(lambda: b.cli("plan", "demo.yaml", "--env", "local",
                                              "--policies", policies, "--detailed-exitcode"))
        if proc.returncode != 0:
            raise SystemExit(f"the demo's second plan has changes:\n{proc.stdout}")
        walls.append(wall)
        cpus.append(cpu)
    b.cli("destroy", "demo.yaml", "--env", "local", "--yes")
    med = {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "runs": runs,
           "min": min(walls)}
    print(f"  demo no-op plan {med['wall']:.2f}s (min {med['min']:.2f}s, cpu {med['cpu']:.2f}s)"
          f"  [{_load()}]", flush=True)
    return med


# -- report ---------------------------------------------------------------------------

def verdicts(results: dict[str, Any]) -> list[str]:
    out = []
    if "noop" in results and len(results["noop"]) > 1:
        sizes = sorted(int(n) for n in results["noop"])
        lo, hi = results["noop"][str(sizes[0])], results["noop"][str(sizes[-1])]
        slope = (hi["noop"] - lo["noop"]) / (sizes[-1] - sizes[0])
        cpu_slope = (hi["noop_cpu"] - lo["noop_cpu"]) / (sizes[-1] - sizes[0])
        target = TARGETS["noop_per_resource_s"]
        out.append(f"no-op plan per resource: {slope:.3f} s wall, {cpu_slope:.3f} s cpu "
                   f"(target <= {target}): {'met' if slope <= target else 'NOT met'}")
        apply_ratio = hi["apply"] / hi["boto3"]
        out.append(f"apply of {sizes[-1]} / boto3: {apply_ratio:.1f}x (target <= "
                   f"{TARGETS['apply_vs_boto3']}): "
                   f"{'met' if apply_ratio <= TARGETS['apply_vs_boto3'] else 'NOT met'}")
    if "bare" in results:
        r = results["bare"]["provision"] / results["bare"]["bare"]
        out.append(f"provision apply / bare Automation API: {r:.2f}x (target <= "
                   f"{TARGETS['apply_vs_bare']}): {'met' if r <= TARGETS['apply_vs_bare'] else 'NOT met'}")
    if "dag" in results:
        r = results["dag"]["ratio"]
        t = TARGETS["makespan_vs_critical_path"]
        out.append(f"makespan / critical path: {r:.2f} (target <= {t}): "
                   f"{'met' if r <= t else 'NOT met'}")
    if "demo" in results:
        w = results["demo"]["wall"]
        t = TARGETS["demo_noop_s"]
        out.append(f"demo no-op plan: {w:.2f} s (target <= {t} s on a quiet machine): "
                   f"{'met' if w <= t else 'NOT met'}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["noop", "bare", "dag", "demo"],
                        choices=["noop", "apply", "bare", "update", "dag", "demo", "parallel"],
                        help="noop and apply are one scenario (measured together)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--bare-size", type=int, default=50)
    parser.add_argument("--bare-policies", type=Path,
                        help="bare: provision applies with these policy packs (gates before "
                             "and after the stage; its adapter reads counted), not --no-policy")
    parser.add_argument("--pulumi-parallel", type=int, nargs="+", default=[10, 32, 64],
                        help="Pulumi --parallel values for the parallel scenario "
                             "(one value: the bare child's)")
    parser.add_argument("--parallel-size", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--bare-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--destroy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--refreshing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--counted-cli", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.counted_cli is not None:
        counted_cli(args.counted_cli)
        return 0
    if args.bare_child:
        bare_child(args.bare_child, args.destroy, args.pulumi_parallel[0], args.refreshing)
        return 0
    # A terminated run still stops its sandbox (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {"context": context()}
    print(f"engine benchmarks at {results['context']['date']}, commit "
          f"{results['context']['commit']}, {results['context']['cpus']} CPUs, {_load()}")
    with tempfile.TemporaryDirectory(prefix="provision-engine-bench-") as tmp:
        b = Bench(Path(tmp))
        try:
            if {"noop", "apply"} & set(args.scenarios):
                print(f"no-op plan and apply of N buckets in one stage (median of {args.runs}):")
                results["noop"] = noop_and_apply(b, args.sizes, args.runs)
            if "bare" in args.scenarios:
                print(f"provision apply vs a bare Automation API program (median of {args.runs}):")
                results["bare"] = bare(b, args.bare_size, args.runs,
                                       args.bare_policies.resolve() if args.bare_policies
                                       else None)
            if "update" in args.scenarios:
                print(f"provision apply of a change to existing buckets vs the bare program "
                      f"(median of {args.runs}):")
                results["update"] = update(b, args.bare_size, args.runs)
            if "dag" in args.scenarios:
                print(f"unbalanced DAG: {DAG_CHAIN} chained stages beside one stage of "
                      f"{DAG_BIG} buckets (median of {args.runs}):")
                results["dag"] = dag(b, args.runs)
            if "parallel" in args.scenarios:
                print(f"bare program, {args.parallel_size} buckets, Pulumi --parallel "
                      f"{args.pulumi_parallel} (median of {args.runs}):")
                results["parallel"] = pulumi_parallel(b, args.parallel_size, args.pulumi_parallel,
                                                      args.runs)
            if "demo" in args.scenarios:
                print(f"demo no-op plan with the baseline policies (median of {args.runs}):")
                results["demo"] = demo(b, args.runs)
        finally:
            b.close()
    results["context"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    for line in verdicts(results):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
