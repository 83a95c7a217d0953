"""Where every P4 value lives in the generated code: one Python local variable per scalar.

The generated packet function keeps the whole PHV (header fields, header validity, varbit
lengths, user and standard metadata, and the local variables of controls, which bmv2 also
allocates as metadata) in Python locals, the fastest storage CPython has. A storage
location is named by a *path*: a root (``H`` for the program's headers, ``M`` for its
metadata, ``S`` for standard_metadata, or a local variable's uid) followed by field names.
:class:`Storage` turns paths into unique, readable identifiers and remembers which ones
are header storage (re-parsed for an ingress clone) and which are metadata (zeroed for a
clone, as bmv2's ``reset_metadata`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..frontend import ir as I

Path = tuple[str, ...]

VALID = "$valid"  # last path element of a header's validity bit
VLEN = "$len"  # last path element of a header's varbit length (bits)
NEXT = "$next"  # last path element of a header stack's next index

_PREFIX = {"H": "h", "M": "m", "S": "sm"}


@dataclass
class Slot:
    """One scalar storage location."""

    name: str  # the Python identifier
    path: Path
    width: int  # bits (1 for validity; 0 for a varbit length)
    is_header: bool  # part of a header instance (field, validity or varbit length)
    kind: str = "field"  # "field" | "valid" | "vlen" | "varbit" | "next"
    annotations: tuple[I.Annotation, ...] = ()


@dataclass
class HeaderSlots:
    """The storage of one header instance, for extract/emit/setValid."""

    path: Path
    type: I.HeaderType
    valid: str
    fields: list[tuple[str, I.Field]] = field(default_factory=list)  # (slot name, field)
    vlen: str | None = None

    @property
    def fixed_bytes(self) -> int:
        return self.type.bit_width // 8


class Storage:
    """The registry of storage slots of one generated program."""

    def __init__(self) -> None:
        self.slots: dict[Path, Slot] = {}
        self.headers: dict[Path, HeaderSlots] = {}
        self._names: set[str] = set()

    # -- naming ---------------------------------------------------------------------------
    def _fresh(self, path: Path) -> str:
        root = _PREFIX.get(path[0], "v")
        parts = [root] + [p.replace("$", "") for p in (path[1:] if root != "v" else path)]
        base = re.sub(r"\W", "_", "_".join(parts))
        if base[0].isdigit():
            base = "v_" + base
        name = base
        n = 1
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def temp(self, hint: str) -> str:
        """A fresh identifier for a temporary (not part of the PHV)."""
        name = f"_{hint}"
        n = 1
        while name in self._names:
            n += 1
            name = f"_{hint}{n}"
        self._names.add(name)
        return name

    # -- declaration ------------------------------------------------------------------------
    def declare(
        self,
        path: Path,
        t: I.Type,
        *,
        in_header: bool = False,
        annotations: tuple[I.Annotation, ...] = (),
    ) -> None:
        """Declare storage for a value of type ``t`` at ``path`` (recursively)."""
        if isinstance(t, I.HeaderType):
            hs = HeaderSlots(path, t, self._slot(path + (VALID,), 1, True, "valid"))
            for f in t.fields:
                if isinstance(f.type, I.VarbitType):
                    name = self._slot(path + (f.name,), f.type.max_width, True, "varbit")
                    hs.vlen = self._slot(path + (f.name, VLEN), 0, True, "vlen")
                else:
                    name = self._slot(
                        path + (f.name,), f.type.width or 0, True, "field", f.annotations
                    )
                hs.fields.append((name, f))
            self.headers[path] = hs
        elif isinstance(t, I.StructType):
            for f in t.fields:
                self.declare(
                    path + (f.name,), f.type, in_header=in_header, annotations=f.annotations
                )
        elif isinstance(t, I.HeaderStackType):
            for i in range(t.size):
                self.declare(path + (str(i),), t.element, in_header=True)
            # the next index (stack.next, .last, .lastIndex, push_front, pop_front)
            self._slot(path + (NEXT,), 32, True, "next")
        elif isinstance(t, I.VarbitType):
            # outside a header (a local variable, a struct field): its bits and its length
            self._slot(path, t.max_width, in_header, "varbit", annotations)
            self._slot(path + (VLEN,), 0, in_header, "vlen")
        elif isinstance(t, I.TupleType):
            for i, et in enumerate(t.elements):
                self.declare(path + (str(i),), et, in_header=in_header)
        elif isinstance(t, (I.BitsType, I.BoolType, I.EnumType, I.ErrorType)):
            width = t.width if t.width is not None else 32
            self._slot(path, width, in_header, "field", annotations)
        # other types (extern objects, packet_in/out, strings) need no storage

    def _slot(
        self,
        path: Path,
        width: int,
        is_header: bool,
        kind: str,
        annotations: tuple[I.Annotation, ...] = (),
    ) -> str:
        slot = self.slots.get(path)
        if slot is None:
            slot = Slot(self._fresh(path), path, width, is_header, kind, annotations)
            self.slots[path] = slot
        return slot.name

    # -- lookup ----------------------------------------------------------------------------
    def name(self, path: Path) -> str:
        slot = self.slots.get(path)
        if slot is None:
            raise KeyError(path)
        return slot.name

    def header(self, path: Path) -> HeaderSlots:
        return self.headers[path]

    def leaves(self, path: Path) -> Iterator[Slot]:
        """Every slot at or under ``path`` (in declaration order)."""
        n = len(path)
        for p, slot in self.slots.items():
            if p[:n] == path:
                yield slot

    def all_names(self) -> list[str]:
        return [s.name for s in self.slots.values()]

    def field_list(self, index: int) -> list[Slot]:
        """The metadata slots annotated ``@field_list(index)`` (v1model clone/resubmit lists)."""
        out = []
        for slot in self.slots.values():
            if slot.is_header:
                continue
            for a in slot.annotations:
                if a.name == "field_list" and any(_as_int(x) == index for x in a.args):
                    out.append(slot)
                    break
        return out


def _as_int(text: str) -> int | None:
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None
