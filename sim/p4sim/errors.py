"""Errors and warnings of the p4sim compiler.

Every problem found in a P4 program is reported against the user's original file, line and
column (after mapping back through the preprocessor), in the `file:line:col: error: ...` form
that editors and p4c users already know, so that a message can be acted on without reading
compiler internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A position in an original source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


UNKNOWN_LOCATION = SourceLocation("<unknown>", 0, 0)


class CompileError(Exception):
    """A P4 program that p4sim cannot (or p4c would not) compile.

    `str()` gives `file:line:col: error: message`.
    """

    def __init__(self, message: str, *, file: str, line: int, col: int) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        super().__init__(str(self))

    @classmethod
    def at(cls, message: str, loc: SourceLocation | None) -> CompileError:
        """Build an error at a SourceLocation (or at an unknown place if none is known)."""
        loc = loc or UNKNOWN_LOCATION
        return cls(message, file=loc.file, line=loc.line, col=loc.col)

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.file, self.line, self.col)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: error: {self.message}"

    def __reduce__(  # keep the keyword-only constructor picklable
        self,
    ) -> tuple[Callable[[str, str, int, int], CompileError], tuple[str, str, int, int]]:
        return (_rebuild_compile_error, (self.message, self.file, self.line, self.col))


def _rebuild_compile_error(message: str, file: str, line: int, col: int) -> CompileError:
    return CompileError(message, file=file, line=line, col=col)


@dataclass(frozen=True)
class Diagnostic:
    """A warning (or note) about a program that still compiles.

    `code` is a short stable tag (e.g. "invalid-header-read") so that tests and tools can
    filter warnings without matching message text.
    """

    message: str
    file: str
    line: int
    col: int
    severity: str = "warning"
    code: str = ""

    @classmethod
    def at(
        cls, message: str, loc: SourceLocation | None, *, code: str = "", severity: str = "warning"
    ) -> Diagnostic:
        loc = loc or UNKNOWN_LOCATION
        return cls(message, loc.file, loc.line, loc.col, severity, code)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"
