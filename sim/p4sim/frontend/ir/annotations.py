"""Annotations (`@name`, `@name(args)`) as the IR keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import SourceLocation


@dataclass(frozen=True)
class Annotation:
    """`@name`, `@name(args)`; args are kept as source strings (string literals unquoted)."""

    name: str
    args: tuple[str, ...] = ()
    loc: SourceLocation | None = None
    body: str | None = None  # the text between the parentheses, as written

    def __str__(self) -> str:
        return f"@{self.name}" if self.body is None else f"@{self.name}({self.body})"

    @property
    def value(self) -> str | None:
        return self.args[0] if self.args else None


def find_annotation(
    annotations: tuple[Annotation, ...] | list[Annotation], name: str
) -> Annotation | None:
    for a in annotations:
        if a.name == name:
            return a
    return None
