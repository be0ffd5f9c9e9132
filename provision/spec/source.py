"""Read an input file (spec, policy file) as UTF-8 text, saying exactly why when it cannot be.

Every reader of user files goes through :func:`read_source`, so a directory, a
symbolic-link loop, a FIFO or a device given as a file is named for what it is
instead of "not found" (or a read that never returns), and the size limit of
:mod:`provision.spec.limits` holds before anything is parsed.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from provision.errors import InputFileError
from provision.spec.limits import MAX_FILE_BYTES

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def read_source(path: str | Path, what: str = "file") -> str:
    """The text of ``path``; BOM and line endings are left to the parsers.

    Raises :class:`InputFileError` (with ``reason`` one of "not found", "is a
    directory", "too many levels of symbolic links", "not a regular file: a FIFO (named pipe)",
    "permission denied", "larger than the 64 MiB input limit", "not UTF-8 text ...").
    """
    file = str(path)
    try:
        info = os.stat(file)  # follows symbolic links, like open() would
    except FileNotFoundError:
        if os.path.islink(file):
            raise InputFileError(file, what, "broken symbolic link (its target does not exist)")
        raise InputFileError(file, what, "not found") from None
    except OSError as exc:
        raise InputFileError(file, what, _reason(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(file, what, "is a directory")
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
        raise InputFileError(file, what, f"not a regular file: {kind}")
    if info.st_size > MAX_FILE_BYTES:
        raise InputFileError(file, what, _too_large())
    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputFileError(file, what, _reason(exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputFileError(file, what, _too_large())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(file, what, f"not UTF-8 text: {exc.reason} at byte {exc.start}") \
            from None


def _too_large() -> str:
    return f"larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB input limit"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    if exc.errno == errno.ENOTDIR:
        return "not found (a part of the path is not a directory)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)
