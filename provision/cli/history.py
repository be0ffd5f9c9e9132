"""Run records: every apply leaves one JSON file in ``.provision/runs/``.

A record holds what was planned, how each stage ended and every policy result
(advisory warnings included), so a run can be audited after the terminal is gone.
No secret enters it: plan values are not recorded, only counts and results.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provision.engine.clouds import home_dir


class RunRecord:
    def __init__(self, spec: str, env: str, operation: str) -> None:
        now = datetime.now(timezone.utc)
        self.id = now.strftime("%Y%m%dT%H%M%S%fZ") + f"-{operation}-{spec}-{env}"
        self.data: dict[str, Any] = {
            "id": self.id, "spec": spec, "env": env, "operation": operation,
            "started_at": now.isoformat(), "stages": {}, "policy": [],
        }
        self._lock = threading.Lock()

    def policy(self, stage: str, phase: str, results: list[dict[str, Any]]) -> None:
        with self._lock:
            self.data["policy"].append({"stage": stage, "phase": phase, "results": results})

    def stage(self, stage: str, status: str) -> None:
        with self._lock:
            self.data["stages"][stage] = status

    def finish(self, status: str, **extra: Any) -> Path:
        self.data.update(status=status, finished_at=datetime.now(timezone.utc).isoformat(), **extra)
        runs = home_dir() / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        target = runs / f"{self.id}.json"
        fd, tmp = tempfile.mkstemp(dir=runs, prefix=".run-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=2, default=str)
        os.replace(tmp, target)
        return target
