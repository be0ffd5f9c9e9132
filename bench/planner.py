"""Planner benchmark: load + validate + resolve + order synthetic specs, offline.

    .venv/bin/python bench/planner.py                      # 1k, 10k, 100k; YAML
    .venv/bin/python bench/planner.py --sizes 1000 10000 --runs 7 --format hcl
    .venv/bin/python bench/planner.py --sizes 10000 --format both          # HCL / YAML load ratio
    .venv/bin/python bench/planner.py --sizes 10000 --format hcl --hcl-cache cold

HCL specs go through the parse cache (provision.spec.hcl_cache) in a fresh
cache directory: ``--hcl-cache warm`` (default) primes it with one untimed run,
so the timed runs read the cached parse; ``cold`` turns the cache off.

HCL specs are read by the fast reader (tools/hclread, a child process whose CPU
time counts) when it is built, else by python-hcl2; ``PROVISION_HCLREAD=0``
measures python-hcl2.

Each measurement runs in a fresh child process (so peak RSS is that run's own),
several times; the report gives the median time of every phase and the median
peak RSS. Specs are generated with a fixed seed: random DAGs where each resource
references up to three earlier resources (as ``${id.attr}`` in properties or in
``depends_on``), over three clouds, in stages that follow the generation order.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TYPES = [
    ("aws:s3:Bucket", "bucket", "arn"),
    ("azure:resources:ResourceGroup", "name", "resource_id"),
    ("gcp:storage:Bucket", "name", "self_link"),
]
STAGES = 20
TARGET_10K_SECONDS = 1.0
TARGET_10K_MB = 300.0


def generate(n: int, seed: int = 7) -> dict[str, Any]:
    """The spec data for ``n`` resources (the YAML shape)."""
    rng = random.Random(seed)
    resources: dict[str, Any] = {}
    for i in range(n):
        rtype, name_prop, _ = TYPES[rng.randrange(3)]
        props: dict[str, Any] = {name_prop: f"r{i}-${{var.owner}}-${{env.name}}"}
        props["tags" if rtype != "gcp:storage:Bucket" else "labels"] = {
            "owner": "${var.owner}", "index": str(i)}
        body: dict[str, Any] = {"type": rtype, "stage": f"s{i * STAGES // n}"}
        depends: list[str] = []
        if i:
            window = max(0, i - 200)
            for dep in sorted({rng.randrange(window, i) for _ in range(rng.randrange(4))}):
                dep_type = resources[f"r{dep}"]["type"]
                attr = next(t[2] for t in TYPES if t[0] == dep_type)
                if rng.random() < 0.7:
                    props.setdefault("tags" if rtype != "gcp:storage:Bucket" else "labels",
                                     {})[f"dep{dep}"] = f"${{r{dep}.{attr}}}"
                else:
                    depends.append(f"r{dep}")
        if depends:
            body["depends_on"] = depends
        body["properties"] = props
        resources[f"r{i}"] = body
    return {
        "name": f"bench-{n}",
        "variables": {"owner": {"type": "string", "default": "bench"}},
        "environments": {"dev": {"aws": {"region": "us-east-1"},
                                 "azure": {"location": "westeurope"},
                                 "gcp": {"project": "bench", "region": "europe-west1"},
                                 "variables": {"owner": "dev-team"}}},
        "resources": resources,
    }


def _hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_hcl(v)}" for k, v in value.items()) + " }"


def write_spec(data: dict[str, Any], path: Path) -> None:
    if path.suffix == ".hcl":
        out = [f"name = {_hcl(data['name'])}"]
        for name, var in data["variables"].items():
            out.append(f'variable "{name}" {{\n  type = {var["type"]}\n'
                       f'  default = {_hcl(var["default"])}\n}}')
        for name, env in data["environments"].items():
            out.append(f'environment "{name}" {{\n'
                       + "".join(f"  {k} = {_hcl(v)}\n" for k, v in env.items()) + "}")
        for rid, body in data["resources"].items():
            lines = [f'resource "{rid}" {{']
            lines += [f"  {k} = {_hcl(v)}" for k, v in body.items() if k != "properties"]
            lines.append("  properties {")
            lines += [f"    {k} = {_hcl(v)}" for k, v in body["properties"].items()]
            lines += ["  }", "}"]
            out.append("\n".join(lines))
        path.write_text("\n".join(out) + "\n")
    else:
        import yaml

        path.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                                  sort_keys=False))


def measure(path: Path) -> dict[str, float]:
    """One run, in this process: seconds per phase and peak RSS in MB."""
    import providers
    from provision.graph import build_stages
    from provision.spec import load, resolve, validate
    from provision.spec.perf import gc_paused

    registry = providers.registry()
    for type_name, _, _ in TYPES:
        registry.schema(type_name)  # import adapter modules before timing
    times: dict[str, float] = {}

    def cpu() -> float:
        """This process's CPU seconds and those of its finished children (the HCL reader)."""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    clock = {"wall": time.perf_counter(), "cpu": cpu()}
    first = dict(clock)

    def lap(name: str) -> None:
        now = {"wall": time.perf_counter(), "cpu": cpu()}
        times[name] = now["wall"] - clock["wall"]
        times[f"{name}_cpu"] = now["cpu"] - clock["cpu"]
        clock.update(now)

    # The whole pipeline runs in one collector pause (callers can do the same); the
    # one full collection that follows is timed on its own ("gc").
    with gc_paused():
        spec = load(path)
        lap("load")
        validate(spec, registry)
        lap("validate")
        resolved = resolve(spec, "dev")
        lap("resolve")
        graph = build_stages(resolved)
        lap("order")
    times["total"] = clock["wall"] - first["wall"]
    times["cpu"] = clock["cpu"] - first["cpu"]
    gc.collect()
    lap("gc")
    assert sum(len(s.resources) for s in graph.stages) == len(spec.resources)
    times["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def run_child(path: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(path)],
                         check=True, capture_output=True, text=True, env=env)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--runs", type=int, default=5, help="runs per size (median reported)")
    parser.add_argument("--format", choices=["yaml", "hcl", "both"], default="yaml")
    parser.add_argument("--hcl-cache", choices=["warm", "cold"], default="warm")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    results: dict[int, dict[str, float]] = {}
    formats = ["yaml", "hcl"] if args.format == "both" else [args.format]
    loads: dict[tuple[str, int], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="provision-bench-") as tmp:
        from provision.spec import hclread

        reader = hclread.find_hclread()     # found in the real cache, before it is moved
        env = {**os.environ, "PROVISION_CACHE": str(Path(tmp) / "cache")}
        if reader is not None:
            env[hclread.BIN_ENV] = str(reader)
        if args.hcl_cache == "cold":
            env["PROVISION_HCL_CACHE"] = "0"
        for fmt in formats:
            for n in args.sizes:
                path = Path(tmp) / f"spec-{n}.{fmt}"
                write_spec(generate(n), path)
                if fmt == "hcl" and args.hcl_cache == "warm":
                    run_child(path, env)        # primes the parse cache; not timed
                runs = [run_child(path, env) for _ in range(args.runs)]
                results[n] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                results[n]["runs"] = len(runs)
                results[n]["file_mb"] = path.stat().st_size / 1e6
                loads[fmt, n] = (results[n]["load"], results[n]["load_cpu"])
                if not args.json:
                    r = results[n]
                    phases = "  ".join(f"{p} {r[p]:.3f}s/{r[p + '_cpu']:.3f}s"
                                       for p in ("load", "validate", "resolve", "order"))
                    phases += f"  (then gc {r['gc']:.3f}s/{r['gc_cpu']:.3f}s)"
                    label = fmt + (f", cache {args.hcl_cache}, "
                                   f"{'hclread' if reader else 'python-hcl2'}"
                                   if fmt == "hcl" else "")
                    print(f"{n:>7} resources ({label}, {r['file_mb']:.1f} MB, median of "
                          f"{len(runs)}; wall/cpu): {phases}  total {r['total']:.3f}s/"
                          f"{r['cpu']:.3f}s  peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    if args.format == "both":
        for n in args.sizes:
            (hw, hc), (yw, yc) = loads["hcl", n], loads["yaml", n]
            print(f"{n:>7} resources: load HCL / YAML = {hw / yw:.2f}x wall, {hc / yc:.2f}x cpu "
                  f"(HCL cache {args.hcl_cache}; target <= 2x): "
                  f"{'met' if max(hw / yw, hc / yc) <= 2 else 'NOT met'}")
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    elif 10000 in results:
        r10 = results[10000]
        verdict = r10["total"] <= TARGET_10K_SECONDS and r10["peak_rss_mb"] <= TARGET_10K_MB
        print(f"target 10k <= {TARGET_10K_SECONDS:.0f}s and <= {TARGET_10K_MB:.0f} MB: "
              f"{'met' if verdict else 'NOT met'} (wall {r10['total']:.3f}s, cpu "
              f"{r10['cpu']:.3f}s, {r10['peak_rss_mb']:.0f} MB)")
        if 100000 in results:
            ratio = results[100000]["total"] / r10["total"]
            cpu_ratio = results[100000]["cpu"] / r10["cpu"]
            print(f"100k / 10k time ratio: {ratio:.1f}x wall, {cpu_ratio:.1f}x cpu "
                  f"(target <= 12x): {'met' if max(ratio, cpu_ratio) <= 12 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
