"""The common output of the YAML and HCL readers: plain data with located keys.

Both readers normalise their syntax to the same nested dict shape (the YAML
shape documented in docs/spec.md) and record, for each key path such as
``("resources", "logs", "properties", "bucket")``, where it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from provision.errors import Diagnostic
from provision.spec.model import SourceLocation

Path = tuple[Union[str, int], ...]

# A control character (or tab) as raw text; a lone CR (CRLF is a line ending).
_RAW_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def may_hold_controls(text: str) -> bool:
    """Can values read from ``text`` contain control characters (raw, or as escapes)?"""
    return "\\" in text or _RAW_CONTROL.search(text) is not None


@dataclass
class Document:
    file: str
    form: str = "yaml"  # "yaml" | "hcl": only changes how hints name things
    data: Any = None
    # key path -> (line, column), 1-based
    locations: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # (path, line, column, line of the first definition) for keys written twice
    duplicates: list[tuple[Path, int, int, int]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # False when the source text holds no escape and no raw control character, so
    # the structure check may skip looking for control characters in every value.
    controls: bool = True

    def where(self, path: Path) -> tuple[int, int]:
        """The location of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), (0, 0))

    def location(self, path: Path) -> SourceLocation:
        found = self.locations.get(path)        # the common case, without where()'s walk
        line, column = found if found is not None else self.where(path)
        return SourceLocation.at(self.file, line, column)

    def diag(self, path: Path, message: str, *, resource: str = "", hint: str = "") -> Diagnostic:
        line, column = self.where(path)
        return Diagnostic(message, file=self.file, line=line, column=column,
                          resource=resource, hint=hint)
