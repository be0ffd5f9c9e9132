"""Sealed pre-update states for a rollback activity: what goes in comes out on a worker
with the same passphrase, and nothing of it is readable in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.engine.protocol import META_OUTPUT, StackSnapshot
from provision.errors import ExecutorError, PassphraseError
from provision.executor.checkpoints import CheckpointStore

SECRET = "hunter2-not-a-real-password"


def test_a_checkpoint_opens_on_another_worker_with_the_passphrase_and_leaks_nothing(
        tmp_path: Path) -> None:
    before = StackSnapshot(outputs={META_OUTPUT: {"types": {"db": "test:fake:Other"}},
                                    "db": {"arn": "arn:db"}},
                           digest="d", inputs={"db": {"name": "db", "password": SECRET}})
    cid = CheckpointStore(tmp_path, "pw").put(before)
    [sealed] = tmp_path.iterdir()
    assert SECRET.encode() not in sealed.read_bytes() and b"password" not in sealed.read_bytes()
    opened = CheckpointStore(tmp_path, "pw").get(cid)          # another worker, same passphrase
    assert opened is not None
    assert opened.inputs == before.inputs
    assert opened.outputs == {META_OUTPUT: {"types": {"db": "test:fake:Other"}}}
    with pytest.raises(PassphraseError):
        CheckpointStore(tmp_path, "another").get(cid)
    CheckpointStore(tmp_path, "pw").discard(cid)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ExecutorError, match="not in"):
        CheckpointStore(tmp_path, "pw").get(cid)


def test_no_stack_before_is_no_checkpoint(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "cp", "pw")
    assert store.put(None) == ""
    assert store.get("") is None
    assert not (tmp_path / "cp").exists()
    with pytest.raises(ExecutorError, match="not a stage checkpoint id"):
        store.get("../../etc/passwd")
