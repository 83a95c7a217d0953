"""Desired and installed switch state as plain, hashable dataclasses.

Values are Python ints (not P4Runtime bytes), match fields are sorted by name and
don't-care fields are left out, so two entities are equal exactly when the switch
would consider them the same; that makes the diff exact. `key` identifies an entity
(what a DELETE names); equality of the whole object decides MODIFY.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple


# Field matches are named tuples rather than dataclasses: a diff of 100,000 entries hashes
# and compares every one of them, and tuples do that in C. The trailing `kind` tag keeps
# matches of different kinds unequal (Exact(5) != Optional(5)).
class Exact(NamedTuple):
    value: int
    kind: str = "exact"


class Lpm(NamedTuple):
    value: int
    prefix_len: int
    kind: str = "lpm"


class Ternary(NamedTuple):
    value: int
    mask: int
    kind: str = "ternary"


class Range(NamedTuple):
    low: int
    high: int
    kind: str = "range"


class Optional(NamedTuple):
    value: int
    kind: str = "optional"


FieldMatch = Exact | Lpm | Ternary | Range | Optional
Match = tuple[tuple[str, FieldMatch], ...]
Params = tuple[tuple[str, int], ...]
# What identifies an entity on the switch (what a DELETE names): a tag, then names and values.
EntityKey = tuple[Hashable, ...]


def lpm(value: int, prefix_len: int, bitwidth: int) -> Lpm:
    """An LPM match with the host bits cleared, as a switch stores it."""
    mask = ((1 << prefix_len) - 1) << (bitwidth - prefix_len) if prefix_len else 0
    return Lpm(value & mask, prefix_len)


def ternary(value: int, mask: int) -> Ternary:
    return Ternary(value & mask, mask)


def match_value(m: FieldMatch) -> int:
    """The value of a single-value match (exact, LPM, ternary, optional); a range has none."""
    if isinstance(m, Range):
        raise TypeError(f"a range match has no single value: {m}")
    return m.value


def make_match(
    fields: Mapping[str, FieldMatch | None] | None = None, /, **more: FieldMatch | None
) -> Match:
    """Sorted (name, match) pairs; None and match-everything fields are dropped (P4Runtime omits them)."""
    out = []
    for name, m in {**(fields or {}), **more}.items():
        if m is None:
            continue
        if isinstance(m, Lpm) and m.prefix_len == 0:
            continue
        if isinstance(m, Ternary) and m.mask == 0:
            continue
        out.append((name, m))
    return tuple(sorted(out))


def make_params(params: Mapping[str, int] | None = None, /, **more: int) -> Params:
    """Sorted (name, value) pairs of an action's parameters."""
    return tuple(sorted({**(params or {}), **more}.items()))


@dataclass(frozen=True)
class TableEntry:
    table: str
    match: Match = ()
    action: str = ""
    params: Params = ()
    priority: int = 0
    is_default: bool = False
    idle_timeout_ns: int = 0
    tier: int = field(default=0, compare=False)

    @property
    def key(self) -> EntityKey:
        if self.is_default:
            return ("default", self.table)
        return ("table", self.table, self.match, self.priority)

    def describe(self) -> str:
        if self.is_default:
            where = "default"
        else:
            where = ", ".join(f"{n}={_fmt_match(m)}" for n, m in self.match) or "*"
        args = ", ".join(f"{n}={v:#x}" for n, v in self.params)
        return f"{self.table}[{where}] -> {self.action}({args})"


def _fmt_match(m: FieldMatch) -> str:
    if isinstance(m, Exact):
        return f"{m.value:#x}"
    if isinstance(m, Lpm):
        return f"{m.value:#x}/{m.prefix_len}"
    if isinstance(m, Ternary):
        return f"{m.value:#x}&&&{m.mask:#x}"
    if isinstance(m, Range):
        return f"{m.low:#x}..{m.high:#x}"
    return f"{m.value:#x}?"


@dataclass(frozen=True)
class MulticastGroup:
    group_id: int
    replicas: tuple[tuple[int, int], ...] = ()  # sorted (egress_port, instance)
    tier: int = field(default=0, compare=False)

    @property
    def key(self) -> EntityKey:
        return ("mcast", self.group_id)

    def describe(self) -> str:
        return f"multicast group {self.group_id}: " + ", ".join(
            f"port {p} rid {r}" for p, r in self.replicas
        )


@dataclass(frozen=True)
class CloneSession:
    session_id: int
    replicas: tuple[tuple[int, int], ...] = ()
    class_of_service: int = 0
    packet_length_bytes: int = 0
    tier: int = field(default=0, compare=False)

    @property
    def key(self) -> EntityKey:
        return ("clone", self.session_id)

    def describe(self) -> str:
        return f"clone session {self.session_id}: " + ", ".join(
            f"port {p}" for p, _ in self.replicas
        )


@dataclass(frozen=True)
class MeterConfig:
    """An indirect meter cell's rates; always present on the switch, so only MODIFY applies."""

    meter: str
    index: int
    cir: int
    cburst: int
    pir: int
    pburst: int
    tier: int = field(default=0, compare=False)

    @property
    def key(self) -> EntityKey:
        return ("meter", self.meter, self.index)

    def describe(self) -> str:
        return f"meter {self.meter}[{self.index}]: cir={self.cir} cburst={self.cburst} pir={self.pir} pburst={self.pburst}"


@dataclass(frozen=True)
class DigestConfig:
    digest: str
    max_timeout_ns: int = 0
    max_list_size: int = 1
    ack_timeout_ns: int = 1_000_000_000
    tier: int = field(default=0, compare=False)

    @property
    def key(self) -> EntityKey:
        return ("digest", self.digest)

    def describe(self) -> str:
        return (
            f"digest {self.digest}: max_timeout={self.max_timeout_ns}ns list={self.max_list_size} "
            f"ack_timeout={self.ack_timeout_ns}ns"
        )


Entity = TableEntry | MulticastGroup | CloneSession | MeterConfig | DigestConfig
