"""Read a policy file (``pack.yaml``, ``waivers.yaml``, ``config.yaml``) like a spec.

The same reader as specs: a path that is a directory or a FIFO is named for what
it is, the input limits hold (size, depth, alias expansion), and scalars follow
the YAML 1.2 core schema, so ``expires: 2027-02-30`` reaches the waiver check
as the text written (and is reported as a date that does not exist) instead of
failing inside the YAML library. Problems are :class:`PolicyError` with
``file:line:column``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provision.errors import InputFileError, PolicyError
from provision.spec.document import Document, Path as KeyPath
from provision.spec.loader_yaml import parse_yaml
from provision.spec.source import read_source


class PolicyFile:
    """A parsed policy file: its data and where each key was written."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.file = doc.file
        self.data: Any = doc.data

    def at(self, path: KeyPath) -> str:
        """``file:line:column`` of a key path (or its nearest located parent)."""
        line, column = self.doc.where(path)
        return f"{self.file}:{line}:{column}" if line else self.file


def read_policy_yaml(path: Path, what: str = "policy file") -> PolicyFile:
    """Parse ``path``; raise :class:`PolicyError` naming file:line for any problem."""
    try:
        text = read_source(path, what)
    except InputFileError as exc:
        raise PolicyError(exc.message, hint=exc.hint) from None
    doc = parse_yaml(text, str(path))
    problems = [d.render() for d in doc.diagnostics]
    if doc.duplicates:
        problems += [f"{doc.file}:{line}:{col}: duplicate key '{p[-1]}'"
                     + (f" (first on line {first})" if first else "")
                     for p, line, col, first in doc.duplicates]
    if problems:
        raise PolicyError("\n".join(problems),
                          hint="fix the YAML; each key may be written once")
    return PolicyFile(doc)
