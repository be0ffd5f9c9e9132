"""`provision plan --format terraform-json` of a real plan, scanned by checkov: the
export is read without parse errors and checks report on its resources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import Run

pytestmark = [pytest.mark.sandbox, pytest.mark.engine]

CHECKOV = os.environ.get("CHECKOV") or shutil.which("checkov")


@pytest.mark.skipif(CHECKOV is None and not os.environ.get("CI"),
                    reason="checkov is not installed (make test installs it)")
def test_checkov_scans_a_terraform_json_plan(sandbox: Any, run_cli: Run, tmp_path: Path) -> None:
    sfx = uuid.uuid4().hex[:8]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""name: tf{sfx}
environments: {{local: {{}}}}
resources:
  logs: {{type: aws:s3:Bucket, properties: {{bucket: tf-logs-{sfx}}}}}
  site: {{type: gcp:storage:Bucket, properties: {{name: "tf-site-${{logs.bucket}}"}}}}
""")
    env = {"PROVISION_SANDBOX_DIR": str(sandbox.home)}
    exported = run_cli("plan", str(spec), "--env", "local", "--format", "terraform-json", env=env)
    assert exported.code == 0, exported.stderr
    doc = json.loads(exported.stdout)
    assert {r["address"] for r in doc["resource_changes"]} == {
        "aws_s3_bucket.logs", "google_storage_bucket.site"}
    plan_file = tmp_path / "tfplan.json"
    plan_file.write_text(exported.stdout)

    assert CHECKOV is not None, "checkov must be installed under CI (make test does it)"
    scan = subprocess.run(
        [CHECKOV, "-f", str(plan_file), "--framework", "terraform_plan", "--skip-download",
         "-o", "json"], capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"})
    report = json.loads(scan.stdout)
    assert report["summary"]["parsing_errors"] == 0, scan.stderr[-2000:]
    failed = {c["resource"] for c in report["results"]["failed_checks"]}
    assert {"aws_s3_bucket.logs", "google_storage_bucket.site"} <= failed
