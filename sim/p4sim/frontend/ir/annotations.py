"""Annotations (`@name`, `@name(args)`) as the IR keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import SourceLocation

# one item of a structured annotation: (key or None, value)
AnnotationItem = tuple[str | None, str | int | bool]


@dataclass(frozen=True)
class Annotation:
    """`@name`, `@name(args)`; args are kept as source strings (string literals unquoted).

    A structured annotation `@name[...]` has `structured` set: its items, `(key, value)`
    for `k=v` pairs and `(None, value)` for an expression list (values: str, int, bool)."""

    name: str
    args: tuple[str, ...] = ()
    loc: SourceLocation | None = None
    body: str | None = None  # the text between the parentheses, as written
    structured: tuple[AnnotationItem, ...] | None = None

    def __str__(self) -> str:
        if self.structured is not None:
            return f"@{self.name}[{self.body or ''}]"
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
