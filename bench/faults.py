"""Faults on the crash-test spec: `provision apply` with 30 % transient faults on each cloud.

    .venv/bin/python bench/faults.py                  # 5 trials on a private sandbox
    .venv/bin/python bench/faults.py --trials 3 --json out.json

The spec is bench/crash.py's (8 S3 buckets -> 6 Azure resource groups -> 6 GCS
buckets, 3 stages). The sandbox answers 15 % of the requests to every service with
429 (Retry-After 0.05 s), 10 % with 500 and 5 % with 503 after doing the work (the
answer is lost, so a retried create meets its own resource); each trial has its own
seed and fresh names. Per trial:

1. a control: of 20 S3 calls by a client that never retries, how many fail;
2. ``provision apply --yes`` must exit 0;
3. with faults off, ``plan --detailed-exitcode`` must exit 0;
4. the clouds are counted through their SDKs (bench/crash.py's ``Clouds``): every
   resource exactly once, no other with the trial's prefix;
5. ``provision destroy --yes`` (faults off) cleans up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crash import Clouds, Runner, expected, spec_text  # noqa: E402


def plan(seed: int) -> dict[str, Any]:
    return {"seed": seed, "faults": [{"rate": 0.15, "status": 429, "retry_after": 0.05},
                                     {"rate": 0.10, "status": 500},
                                     {"rate": 0.05, "status": 503, "after": True}]}


def control(settings: dict[str, Any], calls: int = 20) -> int:
    """How many of ``calls`` ListBuckets fail for an S3 client that never retries."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    plain = boto3.client("s3", endpoint_url=settings["endpoint_url"],
                         region_name=settings["region"], aws_access_key_id="testing",
                         aws_secret_access_key="testing",
                         config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    failed = 0
    for _ in range(calls):
        try:
            plain.list_buckets()
        except ClientError:
            failed += 1
    return failed


def trial(box: Any, runner: Runner, clouds: Clouds, n: int, seed: int) -> dict[str, Any]:
    from provision.sandbox.faults import FaultPlan, parse_plan

    prefix = f"f{uuid.uuid4().hex[:6]}{n}"
    spec = runner.work / f"{prefix}.yaml"
    spec.write_text(spec_text(prefix))
    result: dict[str, Any] = {"trial": n, "seed": seed, "prefix": prefix}
    box.up(faults=parse_plan(plan(seed)))
    result["control_failed_of_20"] = control(box.status().cloud_settings()["aws"])
    t0 = time.monotonic()
    applied = runner.run("apply", spec.name, "--env", "local", "--yes", "--no-policy")
    result["apply_s"] = round(time.monotonic() - t0, 1)
    result["apply_exit"] = applied.returncode
    if applied.returncode != 0:
        result["apply_error"] = applied.stderr[-2000:]
    box.up(faults=FaultPlan())
    result["plan_exit"] = runner.run("plan", spec.name, "--env", "local",
                                     "--detailed-exitcode", "--no-policy").returncode
    names, want = clouds.names(prefix), expected(prefix)
    result["duplicates"] = sum(names.count(x) - 1 for x in set(names))
    result["orphans"] = len([x for x in names if x not in want])
    result["missing"] = len([x for x in want if x not in names])
    result["ok"] = (applied.returncode == 0 and result["plan_exit"] == 0
                    and not result["duplicates"] and not result["orphans"]
                    and not result["missing"])
    result["destroy_exit"] = runner.run("destroy", spec.name, "--env", "local",
                                        "--yes").returncode
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first trial")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from provision.sandbox import Sandbox
    from provision.sandbox.faults import FaultPlan

    with tempfile.TemporaryDirectory(prefix="provision-faults-") as tmp:
        work = Path(tmp)
        box = Sandbox(work / "sandbox")
        status = box.up(faults=FaultPlan())
        try:
            runner = Runner(work, work / "sandbox")
            clouds = Clouds(status.cloud_settings())
            results = []
            for n in range(args.trials):
                res = trial(box, runner, clouds, n, args.seed + n)
                results.append(res)
                print(json.dumps(res), flush=True)
        finally:
            box.down()
    summary = {
        "trials": len(results), "ok": sum(r["ok"] for r in results),
        "apply_failures": sum(r["apply_exit"] != 0 for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "orphans": sum(r["orphans"] for r in results),
        "missing": sum(r["missing"] for r in results),
        "apply_s": [r["apply_s"] for r in results],
    }
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps({"summary": summary, "trials": results}, indent=2))


if __name__ == "__main__":
    main()
