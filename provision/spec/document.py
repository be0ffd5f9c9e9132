"""The common output of the YAML and HCL readers: plain data with located keys.

Both readers normalise their syntax to the same nested dict shape (the YAML
shape documented in docs/spec.md) and record, for each key path such as
``("resources", "logs", "properties", "bucket")``, where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from provision.errors import Diagnostic
from provision.spec.model import SourceLocation

Path = tuple[Union[str, int], ...]


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

    def where(self, path: Path) -> tuple[int, int]:
        """The location of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), (0, 0))

    def location(self, path: Path) -> SourceLocation:
        line, column = self.where(path)
        return SourceLocation(self.file, line, column)

    def diag(self, path: Path, message: str, *, resource: str = "", hint: str = "") -> Diagnostic:
        line, column = self.where(path)
        return Diagnostic(message, file=self.file, line=line, column=column,
                          resource=resource, hint=hint)
