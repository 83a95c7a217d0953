"""What is wrong with an overlay description, and where: `Problem` and its config path.

Every stage (the YAML loader, the pydantic model, `nve.validate`, `nve.compile`, the
pipeline capacity check) reports `Problem`s located by config path; the loader's line
map then adds the file position. The controller and the CLI print them one per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# ('tenants', 1, 'subnets', 0, 'vsid'): keys and list indices from the document's root.
ConfigPath = tuple[str | int, ...]


def format_path(path: ConfigPath) -> str:
    """('tenants', 1, 'subnets', 0, 'vsid') -> 'tenants[1].subnets[0].vsid'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the description, located by config path (and file position)."""

    path: ConfigPath
    message: str
    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.line}:{self.column}: "
            if self.file and self.line
            else (f"{self.file}: " if self.file else "")
        )
        return (
            f"{where}{format_path(self.path)}: {self.message}"
            if self.path
            else f"{where}{self.message}"
        )


def format_problems(problems: Sequence[Problem], limit: int | None = None, hint: str = "") -> str:
    """One line per problem, at most `limit` of them (None: all), then one line counting
    the rest. Only the lines shown are formatted, however many problems there are."""
    shown = problems if limit is None else problems[: max(limit, 0)]
    lines = [str(p) for p in shown]
    more = len(problems) - len(shown)
    if more:
        noun = "problem" if more == 1 else "problems"
        lines.append(f"... and {more:,} more {noun} not shown{hint}")
    return "\n".join(lines)
