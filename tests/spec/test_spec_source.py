"""Input files that are not regular text files are named for what they are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provision.errors import InputFileError
from provision.spec.source import read_source


def test_reads_a_regular_file_and_one_behind_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("name: s\n", encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to("s.yaml")
    assert read_source(tmp_path / "s.yaml") == "name: s\n"
    assert read_source(tmp_path / "link.yaml") == "name: s\n"


def _reason(path: Path) -> str:
    with pytest.raises(InputFileError) as info:
        read_source(path, "spec file")
    assert str(path) in info.value.message
    return info.value.reason


def test_missing(tmp_path: Path) -> None:
    assert _reason(tmp_path / "nope.yaml") == "not found"
    assert _reason(tmp_path / "nope" / "s.yaml") == "not found"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").mkdir()
    assert _reason(tmp_path / "d.yaml") == "is a directory"


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    assert _reason(tmp_path / "a.yaml") == "too many levels of symbolic links"


def test_fifo_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.yaml")  # reading it would block forever
    assert _reason(tmp_path / "f.yaml") == "not a regular file: a FIFO (named pipe)"


def test_device(tmp_path: Path) -> None:
    assert _reason(Path("/dev/null")) == "not a regular file: a character device"


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").symlink_to("gone.yaml")
    assert _reason(tmp_path / "s.yaml").startswith("broken symbolic link")


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_bytes(b"name: \xff\n")
    assert _reason(tmp_path / "s.yaml").startswith("not UTF-8 text")
