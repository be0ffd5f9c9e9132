"""The run journal: where every mutating run is, kept next to the state.

Before a stage starts and after it ends, the run writes the whole journal of the
run again as one object on the state backend
(``.provision/journal/<spec>/<env>/<run id>.json``): run id, operation, and per
stage its entries (``start`` with the planned change counts; ``end`` with the
outcome and Pulumi's update version). After any crash, the next run reads the
latest journals and learns which stages were in flight (started, never ended).
Only the lock holder writes, so whole-object writes need no merging. No plan
values are written: counts and outcomes only, so no secret enters the journal.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from provision.engine.statestore import StateStore
from provision.vocabulary import Operation, StageStatus

JOURNAL_PREFIX = ".provision/journal"
KEEP = 20          # journals kept per environment; older ones are pruned


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def journal_dir(spec: str, env: str) -> str:
    return f"{JOURNAL_PREFIX}/{spec}/{env}"


@dataclass
class RunJournal:
    """One run's journal as read back: its entries, in order."""

    run_id: str
    operation: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    finished: str = ""             # the run's final status ("" while running, or after a crash)

    def in_flight(self) -> list[str]:
        """Stages that started and never ended (in the order they started)."""
        open_: dict[str, None] = {}
        for entry in self.entries:
            if entry.get("event") == "start":
                open_[entry["stage"]] = None
            elif entry.get("event") == "end":
                open_.pop(entry["stage"], None)
        return list(open_)

    def stopped_at(self) -> dict[str, str]:
        """Each stage's last outcome (``in-flight`` for stages without one)."""
        last: dict[str, str] = {}
        for entry in self.entries:
            if entry.get("event") == "start":
                last[entry["stage"]] = "in-flight"
            elif entry.get("event") == "end":
                last[entry["stage"]] = str(entry.get("outcome", ""))
        return last


class Journal:
    """Writes the journal of one run (see module doc); thread safe."""

    def __init__(self, store: StateStore, spec: str, env: str, run_id: str,
                 operation: Operation) -> None:
        self.store = store
        self.key = f"{journal_dir(spec, env)}/{run_id}.json"
        self.data: dict[str, Any] = {"run_id": run_id, "operation": operation.value,
                                     "spec": spec, "env": env, "started_at": _now(),
                                     "entries": [], "finished": ""}
        self._lock = threading.Lock()
        self._dir = journal_dir(spec, env)
        self.written = False

    def _write(self) -> None:
        self.store.put(self.key, json.dumps(self.data, indent=2, default=str).encode("utf-8"))
        self.written = True

    def begin(self) -> None:
        """Prune old journals. The journal itself is written with its first entry, so a
        run that stops before any stage leaves none."""
        self._prune()

    def stage_start(self, stage: str, operation: str, planned: dict[str, int] | None = None
                    ) -> None:
        with self._lock:
            self.data["entries"].append({"event": "start", "stage": stage, "operation": operation,
                                         "planned": planned or {}, "time": _now()})
            self._write()

    def stage_end(self, stage: str, outcome: StageStatus | str, *,
                  update_version: int | None = None, changes: dict[str, int] | None = None,
                  error: str = "") -> None:
        value = outcome.value if isinstance(outcome, StageStatus) else outcome
        entry: dict[str, Any] = {"event": "end", "stage": stage, "outcome": value,
                                 "update_version": update_version, "changes": changes or {},
                                 "time": _now()}
        if error:
            entry["error"] = error
        with self._lock:
            self.data["entries"].append(entry)
            self._write()

    def note(self, message: str) -> None:
        """A free-form entry (a lock takeover, a repair)."""
        with self._lock:
            self.data["entries"].append({"event": "note", "message": message, "time": _now()})
            self._write()

    def finish(self, status: str) -> None:
        """Mark the run finished (once; a journal never written stays unwritten)."""
        with self._lock:
            if not self.written or self.data["finished"]:
                return
            self.data["finished"] = status
            self.data["finished_at"] = _now()
            self._write()

    def _prune(self) -> None:
        keys = self.store.list(self._dir)
        for key in keys[:-KEEP]:
            self.store.delete(key)


def read_journals(store: StateStore, spec: str, env: str) -> list[RunJournal]:
    """Every kept journal of the environment, oldest first (run ids sort by time)."""
    journals = []
    for key in store.list(journal_dir(spec, env)):
        found = store.read(key)
        if found is None:
            continue
        try:
            raw = json.loads(found[0].decode("utf-8"))
        except ValueError:
            continue
        journals.append(RunJournal(run_id=str(raw.get("run_id", "")),
                                   operation=str(raw.get("operation", "")),
                                   entries=list(raw.get("entries") or []),
                                   finished=str(raw.get("finished") or "")))
    return journals


def unfinished(store: StateStore, spec: str, env: str, *, current: str = "") -> list[RunJournal]:
    """Journals of runs that never finished (crashed or killed), except ``current``."""
    return [j for j in read_journals(store, spec, env) if not j.finished and j.run_id != current]


def close_journal(store: StateStore, spec: str, env: str, run_id: str, status: str) -> None:
    """Mark another (crashed) run's journal finished with ``status``, once it is handled."""
    key = f"{journal_dir(spec, env)}/{run_id}.json"
    found = store.read(key)
    if found is None:
        return
    try:
        raw = json.loads(found[0].decode("utf-8"))
    except ValueError:
        return
    raw.update(finished=status, finished_at=_now())
    store.put(key, json.dumps(raw, indent=2, default=str).encode("utf-8"))
