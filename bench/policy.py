"""Policy benchmark: 10k resources x 30 rules through the real gate engine, offline.

    .venv/bin/python bench/policy.py                    # every scenario, 5 runs each
    .venv/bin/python bench/policy.py --resources 10000 --runs 7 --scenarios python rego

Scenarios (30 rules each; packs are written to a temp directory):

* ``python``   -- 30 Python rules;
* ``rego``     -- 30 native Rego rules, evaluated by each of ``--engines``: OPA (a child
  process per check, see provision.policy.opa) and regopy (rego-cpp, in-process);
* ``baseline`` -- the repo's baseline packs (policies/) plus generated Python
  rules up to 30.

Each scenario times ``check_pre`` (one stage holding every resource as a
create) and ``check_post`` (the same resources as live state). The input is
parsed once per check: subjects are built once, each Rego pack gets one input
document. Resources: 7 types in turn, 2% of them violating something.
Reports the median wall time of the runs (and the median CPU time of this
process, which a busy machine disturbs less); exit 1 when a median wall time
misses the target.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import providers  # noqa: E402
from provision.plan.model import Action, Change, Plan, StagePlan  # noqa: E402
from provision.policy import PolicyEngine, PolicyReport  # noqa: E402

TARGET_SECONDS = 2.0
RULES = 30
TAGS = {"owner": "team", "env": "prod", "cost-center": "cc-1"}
BLOCKED = dict.fromkeys(["block_public_acls", "block_public_policy", "ignore_public_acls",
                         "restrict_public_buckets"], True)
# type -> (property every rule of that type checks, builder of compliant properties)
TYPES: list[tuple[str, str, Callable[[int], dict[str, Any]]]] = [
    ("aws:s3:Bucket", "server_side_encryption", lambda i: {
        "bucket": f"app-{i}", "tags": dict(TAGS), "public_access_block": dict(BLOCKED),
        "server_side_encryption": "AES256", "versioning": True, "region": "eu-west-1"}),
    ("azure:resources:ResourceGroup", "location", lambda i: {
        "name": f"rg-{i}", "location": "westeurope", "tags": dict(TAGS)}),
    ("azure:storage:Account", "min_tls_version", lambda i: {
        "name": f"st{i}", "location": "westeurope", "tags": dict(TAGS),
        "allow_blob_public_access": False, "min_tls_version": "TLS1_2"}),
    ("azure:storage:BlobContainer", "public_access", lambda i: {
        "name": f"c-{i}", "public_access": "none"}),
    ("gcp:storage:Bucket", "uniform_bucket_level_access", lambda i: {
        "name": f"gcs-{i}", "location": "EU", "labels": dict(TAGS),
        "uniform_bucket_level_access": True}),
    ("gcp:resourcemanager:Project", "project_id", lambda i: {
        "project_id": f"proj-{i:06d}", "labels": dict(TAGS)}),
    ("aws:iam:Role", "policy", lambda i: {
        "name": f"role-{i}", "policy": '{"Statement": [{"Effect": "Allow", '
                                       '"Action": ["s3:GetObject"], "Resource": "*"}]}'}),
]


def resources(n: int) -> dict[str, tuple[str, dict[str, Any]]]:
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for i in range(n):
        type_name, prop, build = TYPES[i % len(TYPES)]
        props = build(i)
        if i % 50 == 7:                     # 2% violate: the checked property is missing
            props.pop(prop, None)
            props.get("tags", props.get("labels", {})).pop("owner", None)
        out[f"r{i}"] = (type_name, props)
    return out


def plan_of(live: dict[str, tuple[str, dict[str, Any]]]) -> tuple[StagePlan, Plan]:
    stage = StagePlan("all", "bench.prod.all", changes=[
        Change(id=rid, type=t, action=Action.CREATE, stage="all", after=props,
               file="stacks/bench.yaml", line=i + 1)
        for i, (rid, (t, props)) in enumerate(live.items())])
    return stage, Plan("bench", "prod", "stacks/bench.yaml", [stage])


def python_pack(root: Path, count: int, first: int = 0) -> None:
    lines = ["from provision.policy import rule", ""]
    names = []
    for k in range(first, first + count):
        type_name, prop, _ = TYPES[k % len(TYPES)]
        tag = ["owner", "env", "cost-center"][k % 3]
        lines += [
            f"@rule(id='BENCH-PY-{k:03d}', title='bench rule {k}', resource_types=['{type_name}'])",
            f"def r{k}(subject, ctx):",
            f"    if subject.get('{prop}') is None:",
            f"        return '{prop} is not set'",
            f"    tags = subject.get('tags') or subject.get('labels')",
            f"    if tags is not None and '{tag}' not in tags:",
            f"        return 'tag {tag} missing'",
            "    return None", ""]
        names.append(f"r{k}")
    lines.append(f"RULES = [{', '.join(names)}]")
    pack = root / "bench-python"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: bench-python\nversion: 1.0.0\nenforcement: mandatory\n")
    (pack / "rules.py").write_text("\n".join(lines) + "\n")


def rego_pack(root: Path, count: int) -> None:
    pack = root / "bench-rego"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: bench-rego\nversion: 1.0.0\nenforcement: mandatory\n")
    for k in range(count):
        type_name, prop, _ = TYPES[k % len(TYPES)]
        (pack / f"r{k:03d}.rego").write_text(f'''package bench.r{k:03d}

import rego.v1

metadata := {{"id": "BENCH-REGO-{k:03d}", "title": "bench rule {k}", "resource_types": ["{type_name}"]}}

deny contains v if {{
	some r in input.by_type["{type_name}"]
	not r.properties.{prop}
	v := {{"resource": r.id, "message": "{prop} is not set"}}
}}
''')


def scenario_dir(name: str, root: Path) -> Path:
    d = root / name
    d.mkdir(parents=True)
    if name == "python":
        python_pack(d, RULES)
    elif name == "rego":
        rego_pack(d, RULES)
    elif name == "baseline":
        for pack in ("aws", "azure", "gcp", "governance"):
            src = ROOT / "policies" / pack
            dst = d / pack
            dst.mkdir()
            for f in src.iterdir():
                if f.is_file():
                    dst.joinpath(f.name).write_bytes(f.read_bytes())
        baseline = len(PolicyEngine.load(d, env="prod", waivers=[]).rules)
        python_pack(d, RULES - baseline, first=100)
    return d


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the OPA processes)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ru.ru_utime + ru.ru_stime


def timed(fn: Callable[[], PolicyReport]) -> tuple[float, float, PolicyReport]:
    """(wall seconds, CPU seconds of this process and its children, report)."""
    start, cpu = time.perf_counter(), _cpu()
    report = fn()
    return time.perf_counter() - start, _cpu() - cpu, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["python", "rego", "baseline"])
    parser.add_argument("--engines", nargs="+", default=["opa", "regopy"],
                        choices=["opa", "regopy"], help="Rego engines to measure, in turn")
    args = parser.parse_args()
    live = resources(args.resources)
    stage, plan = plan_of(live)
    registry = providers.registry()
    missed = False
    print(f"{args.resources} resources x {RULES} rules, median of {args.runs} runs "
          f"(target {TARGET_SECONDS:.1f} s)")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (cpu s: this "
          f"process and its children)")
    print(f"{'scenario':<10} {'engine':>6} {'rules':>5} {'phase':>5} {'median s':>9} {'min s':>7} "
          f"{'cpu s':>7} {'results':>8} {'failing':>8}")
    runs = [(name, rego) for name in args.scenarios
            for rego in (args.engines if name != "python" else ["-"])]
    with tempfile.TemporaryDirectory() as tmp:
        for name, rego in runs:
            if rego != "-":
                os.environ["PROVISION_REGO_ENGINE"] = rego
            engine = PolicyEngine.load(scenario_dir(name, Path(tmp) / rego), env="prod",
                                       registry=registry, waivers=[])
            assert len(engine.rules) == RULES, (name, len(engine.rules))
            for phase, run in (("pre", lambda: engine.check_pre(stage, plan)),
                               ("post", lambda: engine.check_post("all", live))):
                times, cpus, report = [], [], None
                for _ in range(args.runs):
                    seconds, cpu, report = timed(run)
                    times.append(seconds)
                    cpus.append(cpu)
                assert report is not None
                median = statistics.median(times)
                missed |= median > TARGET_SECONDS
                failing = len(report.blocking_results())
                print(f"{name:<10} {rego:>6} {len(engine.rules):>5} {phase:>5} {median:>9.3f} "
                      f"{min(times):>7.3f} {statistics.median(cpus):>7.3f} "
                      f"{len(report.results):>8} {failing:>8}"
                      + ("  MISSED" if median > TARGET_SECONDS else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
