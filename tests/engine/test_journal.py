"""The run journal: entries next to the state; unfinished runs and in-flight stages."""

from __future__ import annotations

from pathlib import Path

from provision.engine.journal import Journal, close_journal, read_journals, unfinished
from provision.engine.statestore import FileStateStore
from provision.vocabulary import Operation, StageStatus


def test_a_crashed_run_shows_its_in_flight_stage(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    journal = Journal(store, "demo", "local", "20260101T000000Z-apply", Operation.APPLY)
    journal.begin()
    journal.stage_start("aws", "apply", {"create": 2})
    journal.stage_end("aws", StageStatus.APPLIED, update_version=3, changes={"create": 2})
    journal.stage_start("azure", "apply", {"create": 1})
    # ... the process dies here: no end entry, no finish.
    [found] = unfinished(store, "demo", "local")
    assert found.in_flight() == ["azure"]
    assert found.stopped_at() == {"aws": "applied", "azure": "in-flight"}
    assert found.entries[1]["update_version"] == 3
    assert unfinished(store, "demo", "local", current=found.run_id) == []
    close_journal(store, "demo", "local", found.run_id, "crashed; recovered by run x")
    assert unfinished(store, "demo", "local") == []


def test_a_finished_run_is_not_unfinished_and_an_empty_run_writes_nothing(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    empty = Journal(store, "demo", "local", "r0", Operation.APPLY)
    empty.begin()
    empty.finish("no-changes")
    assert read_journals(store, "demo", "local") == []
    done = Journal(store, "demo", "local", "r1", Operation.DESTROY)
    done.stage_start("aws", "destroy")
    done.stage_end("aws", StageStatus.DESTROYED)
    done.finish("destroyed")
    [found] = read_journals(store, "demo", "local")
    assert found.finished == "destroyed" and found.in_flight() == []
    assert (tmp_path / ".provision/journal/demo/local/r1.json").is_file()


def test_old_journals_are_pruned(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    for i in range(25):
        j = Journal(store, "demo", "local", f"r{i:03d}", Operation.APPLY)
        j.begin()
        j.note("x")
    assert len(read_journals(store, "demo", "local")) <= 21
