"""Per-resource cost of the S3 adapter: shared clients and lean reads, before and after.

Runs against moto started by the sandbox manager (one service, 127.0.0.1). For N
buckets it times, in one process and one run:

- ``read``    N adapter reads of existing buckets, as a no-op plan's refresh makes them
- ``create``  N adapter creates (bucket + tags), as an apply makes them
- ``direct``  N x (CreateBucket + PutBucketTagging) with one plain boto3 client: the
              floor set by the emulator itself

each with ``--threads`` workers (Pulumi's default ``--parallel`` is 10 at most here),
for the adapter as it is now (``after``) and as it was before client reuse
(``before``: the S3 adapter and session module of commit ``--before``, loaded from
git, which built a new boto3 client for every call and read a bucket in six
sequential calls). Reports medians of ``--runs`` runs (wall and process CPU
seconds), per-resource cost, ratios, and the load average.

    .venv/bin/python bench/adapter_runtime.py --sizes 50 200 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from provision.provider import CloudConfig  # noqa: E402
from provision.sandbox import Sandbox  # noqa: E402
from provision.sandbox.services import DEFAULT_SERVICES  # noqa: E402
from providers.aws.s3_bucket import S3Bucket  # noqa: E402
from providers.clients import CLIENTS  # noqa: E402

BEFORE = "980cefa"  # main before the client cache (providers/aws/{session,s3_bucket}.py)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _old_adapter(commit: str) -> Any:
    """The S3 adapter of ``commit``, wired to that commit's session module."""
    def load(path: str, name: str) -> types.ModuleType:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
                                capture_output=True, text=True, check=True).stdout
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        exec(compile(source, path, "exec"), module.__dict__)
        return module

    old_session = load("providers/aws/session.py", "bench_old_aws_session")
    old_s3 = load("providers/aws/s3_bucket.py", "bench_old_s3_bucket")
    old_s3.session = old_session  # type: ignore[attr-defined]
    return old_s3.S3Bucket()


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    cpu, wall = _cpu(), time.perf_counter()
    work()
    return time.perf_counter() - wall, _cpu() - cpu


def _parallel(threads: int, fn: Callable[[int], Any], n: int) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(fn, range(n)):
            pass


def run_once(adapter: Any, config: CloudConfig, n: int, threads: int,
             s3: Any) -> dict[str, tuple[float, float]]:
    prefix = f"b{uuid.uuid4().hex[:8]}"
    CLIENTS.clear()
    results = {
        "create": _timed(lambda: _parallel(threads, lambda i: adapter.create(
            {"bucket": f"{prefix}-{i}", "tags": {"team": "core"}}, config), n)),
        "read": _timed(lambda: _parallel(threads, lambda i: adapter.read(
            f"{prefix}-{i}", {}, config), n)),
    }
    _parallel(threads, lambda i: s3.delete_bucket(Bucket=f"{prefix}-{i}"), n)
    return results


def run_direct(s3: Any, n: int, threads: int) -> tuple[float, float]:
    prefix = f"d{uuid.uuid4().hex[:8]}"

    def one(i: int) -> None:
        s3.create_bucket(Bucket=f"{prefix}-{i}")
        s3.put_bucket_tagging(Bucket=f"{prefix}-{i}",
                              Tagging={"TagSet": [{"Key": "team", "Value": "core"}]})

    timing = _timed(lambda: _parallel(threads, one, n))
    _parallel(threads, lambda i: s3.delete_bucket(Bucket=f"{prefix}-{i}"), n)
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--before", default=BEFORE, help="commit of the 'before' adapter")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import boto3

    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as home:
        box = Sandbox(Path(home), services=[s for s in DEFAULT_SERVICES if s.name == "aws"])
        try:
            status = box.up()
            endpoint = status.endpoints["aws"]
            config = CloudConfig("aws", {"endpoint_url": endpoint, "region": "us-east-1"},
                                 sandbox=True)
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x")
            adapters = {"before": _old_adapter(args.before), "after": S3Bucket()}
            report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                      "load_before": os.getloadavg(), "threads": args.threads,
                                      "sizes": {}}
            for n in args.sizes:
                samples: dict[str, list[tuple[float, float]]] = {}
                for _ in range(args.runs):
                    for label, adapter in adapters.items():
                        for op, timing in run_once(adapter, config, n, args.threads, s3).items():
                            samples.setdefault(f"{label} {op}", []).append(timing)
                    samples.setdefault("direct", []).append(run_direct(s3, n, args.threads))
                report["sizes"][n] = {
                    key: {"wall": statistics.median(w for w, _ in values),
                          "cpu": statistics.median(c for _, c in values)}
                    for key, values in samples.items()}
            report["load_after"] = os.getloadavg()
        finally:
            box.down()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['date']}  threads={args.threads}  runs={args.runs}  load average "
          f"{report['load_before'][0]:.1f} -> {report['load_after'][0]:.1f}")
    for n, row in report["sizes"].items():
        print(f"\nN = {n}   (median wall s / CPU s; per resource in ms)")
        for key, value in row.items():
            print(f"  {key:14} {value['wall']:8.2f} / {value['cpu']:7.2f}   "
                  f"{1000 * value['wall'] / n:7.1f} ms")
        for op in ("read", "create"):
            before, after = row[f"before {op}"], row[f"after {op}"]
            print(f"  {op}: before/after wall {before['wall'] / after['wall']:.1f}x, "
                  f"CPU {before['cpu'] / max(after['cpu'], 1e-9):.1f}x")
        print(f"  after create / direct: {row['after create']['wall'] / row['direct']['wall']:.2f}x")


if __name__ == "__main__":
    main()
