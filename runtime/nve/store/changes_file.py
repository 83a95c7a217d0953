"""A file of endpoint changes for `nve endpoint apply` (docs/fleet.md, "Endpoint
changes"): read with the description's safeguards, every mistake reported at file:line.

    changes:
      - move: {name: blue-web1, attachment: {switch: tor2, port: 1}}
      - add: {name: blue-web9, vsid: 0x001001, mac: "52:54:00:b1:00:09",
              ipv4: 192.168.10.19, attachment: {switch: tor1, port: 1, vlan: 100}}
      - remove: red-app2
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from nve.loader import OverlayError, parse_document, read_source, shape_problems
from nve.model import AttachmentField, Endpoint, Name
from nve.problems import Problem
from nve.store.endpoints import Add, EndpointChange, Move, Remove

# Changes a file may hold: each is checked and planned in memory before anything is
# committed (bounded by the file's size too: nve.loader's limits).
MAX_CHANGES = 100_000
WHAT = "an endpoint changes file (changes: [add/move/remove])"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _MoveSpec(_Strict):
    name: Name
    attachment: AttachmentField


class _AddItem(_Strict):
    add: Endpoint


class _MoveItem(_Strict):
    move: _MoveSpec


class _RemoveItem(_Strict):
    remove: Name


def _item_kind(value: object) -> str:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return "add"  # the errors then say what an item needs


class ChangesFile(_Strict):
    changes: list[
        Annotated[
            Annotated[_AddItem, Tag("add")]
            | Annotated[_MoveItem, Tag("move")]
            | Annotated[_RemoveItem, Tag("remove")],
            Discriminator(_item_kind),
        ]
    ] = Field(max_length=MAX_CHANGES)


def parse_changes(text: str, source: str = "<string>") -> list[EndpointChange]:
    """The changes, in file order; OverlayError naming file:line for every mistake."""
    data, strict, lines = parse_document(text, source)
    if not isinstance(data, dict):
        raise OverlayError([Problem((), f"must be a mapping: {WHAT}", source, 1, 1), *strict])
    try:
        parsed = ChangesFile.model_validate(data, strict=True)
    except pydantic.ValidationError as exc:
        problems = [
            Problem(p.path, p.message, source, *lines.locate(p.path))
            for p in shape_problems(exc, WHAT)
        ]
        raise OverlayError(sorted([*strict, *problems], key=lambda p: (p.line, p.column))) from None
    if strict:
        raise OverlayError(strict)
    out: list[EndpointChange] = []
    for item in parsed.changes:
        if isinstance(item, _AddItem):
            out.append(Add(item.add))
        elif isinstance(item, _MoveItem):
            out.append(Move(item.move.name, item.move.attachment))
        else:
            out.append(Remove(item.remove))
    return out


def load_changes(path: str | Path) -> list[EndpointChange]:
    return parse_changes(read_source(path), str(path))
