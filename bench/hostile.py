"""Hostile-input benchmark: how fast, and in how much memory, `validate` refuses bad specs.

    .venv/bin/python bench/hostile.py            # every case, 3 runs each
    .venv/bin/python bench/hostile.py --runs 5 --json

Each case is a spec of a few kilobytes that, without the input limits of
``provision/spec/limits.py``, would take minutes and gigabytes (YAML aliases that
expand exponentially) or overflow the parser (deep nesting). Every run is a fresh
``provision validate`` process (the real CLI, imports included); the report gives
the median wall and CPU time, the exit code, and the child's peak RSS. Target:
each refused in under 2 s (CPU; wall on an idle core) with a peak RSS under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0
TARGET_MB = 200.0


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["name: lol", "lol0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int = 20) -> str:
    lines = ["name: merge", "m0: &m0 {a: 1, b: 2}"]
    for i in range(1, levels + 1):
        lines.append(f"m{i}: &m{i} {{x: *m{i - 1}, y: *m{i - 1}}}")
    return "\n".join(lines) + "\n"


CASES = {
    "billion-laughs.yaml": _laughs,
    "nested-aliases.yaml": _merge_bomb,
    "deep-flow.yaml": lambda: "name: d\nv: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep-block.yaml": lambda: "name: d\n" + "".join(" " * i + "k:\n" for i in range(990)),
    "deep.hcl": lambda: 'name = "d"\nv = ' + "[" * 5_000 + "]" * 5_000 + "\n",
}


def run_case(path: Path) -> dict[str, float]:
    """One `provision validate` child: wall and CPU seconds, exit code, peak RSS (MB).

    Called in a process of its own (``--one``), so the children's usage is this run's.
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "provision.cli.main", "validate", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # this process has one child
    return {"seconds": wall, "cpu": usage.ru_utime + usage.ru_stime, "code": proc.returncode,
            "peak_mb": usage.ru_maxrss / 1024,
            "message": (proc.stderr.splitlines() or [""])[0][:160]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # child mode: measure one case in a process of its own
        print(json.dumps(run_case(args.one)))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            path = Path(tmp) / name
            path.write_text(make())
            runs = []
            for _ in range(args.runs):
                out = subprocess.run([sys.executable, __file__, "--one", str(path)],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout))
            results[name] = {
                "bytes": path.stat().st_size,
                "seconds": statistics.median(r["seconds"] for r in runs),
                "cpu": statistics.median(r["cpu"] for r in runs),
                "peak_mb": statistics.median(r["peak_mb"] for r in runs),
                "codes": sorted({r["code"] for r in runs}),
                "message": runs[0]["message"],
            }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, r in results.items():
        ok = r["cpu"] < TARGET_SECONDS and r["peak_mb"] < TARGET_MB and r["codes"] == [1]
        print(f"{name:22} {r['bytes']:>7} B  exit {r['codes']}  wall {r['seconds']:.2f} s  "
              f"cpu {r['cpu']:.2f} s  "
              f"{r['peak_mb']:.0f} MB  {'ok' if ok else 'NOT met'}\n    {r['message']}")


if __name__ == "__main__":
    main()
