"""Crash soak: SIGKILL `provision apply` at random moments, then a plain apply must converge.

    .venv/bin/python bench/crash.py                    # 20 trials on a private sandbox
    .venv/bin/python bench/crash.py --trials 5 --seed 7 --json out.json

A spec of 20 resources in 3 stages over the three clouds (8 S3 buckets -> 6 Azure
resource groups tagged with their ARNs -> 6 GCS buckets labelled with the groups'
names). Each trial uses fresh resource names, then:

1. ``provision apply`` is started and, once it starts applying its first stage
   (after planning), SIGKILLed after a random delay, uniform between 0 s and the
   duration of the applying phase of an uninterrupted apply (measured first) or
   ``--window-s`` (on a loaded machine applying takes longer than that first measure);
2. every process the killed run started must be gone within 30 s (found by a
   marker variable in the environment of its processes);
3. a plain ``provision apply --yes`` must exit 0 with no manual step, and
   ``plan --detailed-exitcode`` must then exit 0;
4. the clouds are counted through their SDKs directly (boto3, azure-mgmt-resource,
   google-cloud-storage): every resource of the trial exists exactly once and no
   other resource carries the trial's prefix (orphans), and every one is in the state.

Results (per trial and totals) are printed, and written as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

S3_COUNT, RG_COUNT, GCS_COUNT = 8, 6, 6


def spec_text(prefix: str) -> str:
    lines = [f"name: crash{prefix.replace('-', '')}", "environments:", "  local:",
             "    aws: {region: us-east-1}", "resources:"]
    for i in range(S3_COUNT):
        lines += [f"  s3_{i}:", "    type: aws:s3:Bucket",
                  f"    properties: {{bucket: {prefix}-s3-{i}, tags: {{trial: {prefix}}}}}"]
    for i in range(RG_COUNT):
        lines += [f"  rg_{i}:", "    type: azure:resources:ResourceGroup",
                  f"    properties: {{name: {prefix}-rg-{i}, "
                  f"tags: {{logs: \"${{s3_{i}.arn}}\"}}}}"]
    for i in range(GCS_COUNT):
        lines += [f"  gcs_{i}:", "    type: gcp:storage:Bucket",
                  f"    properties: {{name: {prefix}-gcs-{i}, "
                  f"labels: {{group: \"${{rg_{i}.name}}\"}}}}"]
    return "\n".join(lines) + "\n"


class Clouds:
    """Counts a trial's resources through each cloud's SDK, on the sandbox."""

    def __init__(self, settings: dict[str, dict[str, Any]]) -> None:
        import boto3
        from azure.core.pipeline.policies import SansIOHTTPPolicy
        from azure.mgmt.resource.resources import ResourceManagementClient
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        class _Auth(SansIOHTTPPolicy):  # type: ignore[type-arg]
            def on_request(self, request: Any) -> None:
                request.http_request.headers["Authorization"] = "Bearer sandbox"

        aws, azure, gcp = settings["aws"], settings["azure"], settings["gcp"]
        self.s3 = boto3.client("s3", endpoint_url=aws["endpoint_url"], region_name=aws["region"],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        self.arm = ResourceManagementClient(credential=object(),
                                            subscription_id=azure["subscription_id"],
                                            base_url=azure["arm_endpoint"],
                                            authentication_policy=_Auth())
        self.gcs = storage.Client(project=gcp["project"], credentials=AnonymousCredentials(),
                                  client_options={"api_endpoint": gcp["storage_endpoint"]})

    def names(self, prefix: str) -> list[str]:
        found = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        found += [g.name for g in self.arm.resource_groups.list()]
        found += [b.name for b in self.gcs.list_buckets()]
        return sorted(n for n in found if n.startswith(prefix + "-"))


def expected(prefix: str) -> list[str]:
    return sorted([f"{prefix}-s3-{i}" for i in range(S3_COUNT)]
                  + [f"{prefix}-rg-{i}" for i in range(RG_COUNT)]
                  + [f"{prefix}-gcs-{i}" for i in range(GCS_COUNT)])


def marked(mark: str) -> list[int]:
    from provision.engine.supervise import processes_with_env
    return processes_with_env("PROVISION_CRASH_MARK", mark)


class Runner:
    def __init__(self, work: Path, sandbox_home: Path) -> None:
        self.work = work
        self.env = {**os.environ, "PROVISION_HOME": str(work / "home"),
                    "PROVISION_SANDBOX_DIR": str(sandbox_home),
                    "AWS_EC2_METADATA_DISABLED": "true"}
        self.env.pop("PROVISION_PASSPHRASE", None)

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "provision.cli.main", *args]

    def run(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cmd(*args), cwd=self.work, env=self.env, text=True,
                              capture_output=True, timeout=timeout, check=False)

    def start(self, mark: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
        """Start in the background; stderr (human progress) goes to the returned file."""
        log = self.work / f"{mark}.err"
        with open(log, "w") as err:
            proc = subprocess.Popen(self.cmd(*args), cwd=self.work,
                                    env={**self.env, "PROVISION_CRASH_MARK": mark},
                                    stdout=subprocess.DEVNULL, stderr=err, text=True)
        return proc, log


def wait_applying(proc: subprocess.Popen[str], log: Path) -> float:
    """Wait until the run starts applying its first stage; the time it took (s)."""
    t0 = time.monotonic()
    while proc.poll() is None and "apply stage" not in log.read_text():
        time.sleep(0.05)
    return time.monotonic() - t0


def trial(runner: Runner, clouds: Clouds, n: int, delay: float) -> dict[str, Any]:
    prefix = f"c{uuid.uuid4().hex[:6]}{n}"
    spec = runner.work / f"{prefix}.yaml"
    spec.write_text(spec_text(prefix))
    mark = uuid.uuid4().hex
    result: dict[str, Any] = {"trial": n, "prefix": prefix, "kill_after_s": round(delay, 2)}
    proc, log = runner.start(mark, "apply", spec.name, "--env", "local", "--yes", "--no-policy")
    result["planning_s"] = round(wait_applying(proc, log), 1)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    result["killed"] = killed
    result["created_before_kill"] = len(clouds.names(prefix))
    end = time.monotonic() + 30
    while marked(mark) and time.monotonic() < end:
        time.sleep(0.2)
    result["processes_left"] = len(marked(mark))
    t0 = time.monotonic()
    again = runner.run("apply", spec.name, "--env", "local", "--yes", "--no-policy")
    result["reapply_exit"] = again.returncode
    result["reapply_s"] = round(time.monotonic() - t0, 1)
    if again.returncode != 0:
        result["reapply_error"] = again.stderr[-2000:]
    plan = runner.run("plan", spec.name, "--env", "local", "--detailed-exitcode", "--no-policy")
    result["plan_exit"] = plan.returncode
    names = clouds.names(prefix)
    want = expected(prefix)
    result["duplicates"] = sum(names.count(n) - 1 for n in set(names))
    result["orphans"] = len([n for n in names if n not in want])
    result["missing"] = len([n for n in want if n not in names])
    result["converged"] = (again.returncode == 0 and plan.returncode == 0
                           and not result["missing"] and not result["duplicates"]
                           and not result["orphans"] and not result["processes_left"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--window-s", type=float, default=0.0,
                        help="kill within this many seconds of applying (0: the applying "
                             "phase of the uninterrupted apply, measured first)")
    parser.add_argument("--deadline-min", type=float, default=0.0,
                        help="stop starting trials after this many minutes (0: no limit)")
    args = parser.parse_args()
    from provision.sandbox import Sandbox

    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="provision-crash-") as tmp:
        work = Path(tmp)
        box = Sandbox(work / "sandbox")
        status = box.up()
        try:
            runner = Runner(work, work / "sandbox")
            clouds = Clouds(status.cloud_settings())
            # One uninterrupted apply gives the window in which kills land.
            warm = f"w{uuid.uuid4().hex[:6]}"
            (work / "warm.yaml").write_text(spec_text(warm))
            t0 = time.monotonic()
            first, log = runner.start("warm", "apply", "warm.yaml", "--env", "local", "--yes",
                                      "--no-policy")
            planning = wait_applying(first, log)
            first.wait()
            total = time.monotonic() - t0
            applying = total - planning
            window = args.window_s or applying
            if first.returncode != 0:
                sys.exit(f"the uninterrupted apply failed:\n{log.read_text()}")
            print(f"uninterrupted apply of 20 resources: {total:.1f} s "
                  f"({planning:.1f} s planning, {applying:.1f} s applying); "
                  f"kills within {window:.1f} s of applying", flush=True)
            results = []
            for n in range(args.trials):
                if args.deadline_min and time.monotonic() - started > args.deadline_min * 60:
                    print("deadline reached; stopping", flush=True)
                    break
                res = trial(runner, clouds, n, rng.uniform(0.0, window))
                results.append(res)
                print(json.dumps(res), flush=True)
        finally:
            box.down()
    summary = {
        "trials": len(results), "uninterrupted_apply_s": round(total, 1),
        "applying_phase_s": round(applying, 1), "kill_window_s": round(window, 1),
        "converged": sum(r["converged"] for r in results),
        "killed_mid_run": sum(r["killed"] for r in results),
        "orphans": sum(r["orphans"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "processes_left": sum(r["processes_left"] for r in results),
        "reapply_failures": sum(r["reapply_exit"] != 0 for r in results),
    }
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps({"summary": summary, "trials": results}, indent=2))


if __name__ == "__main__":
    main()
