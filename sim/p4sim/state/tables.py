"""Match tables as the per-packet path sees them: plain ints in, one result tuple out.

A lookup returns the *result* of the winning entry, a tuple ``(action_id, params, entry)``
built once when the entry is written, so the data plane allocates nothing per lookup; a miss
returns the table's default result ``(action_id, params, None)``.

Writers (the P4Runtime server) change a table under the table's own short lock; readers (the
packet thread) never take it except to rebuild the ternary view once after a change.  Every
structure a reader touches is either mutated by single, GIL-atomic dict operations or replaced
wholesale (copy-on-write), so a write is visible to the next lookup once the writer returns.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TypedDict, Unpack

from p4sim.state.idle import IdleSet, SweepResult
from p4sim.state.meters import MeterCell, MeterSpec


class MatchKind(IntEnum):
    """P4Runtime match types (the values of p4.config.v1.MatchField.MatchType)."""

    EXACT = 2
    LPM = 3
    TERNARY = 4
    RANGE = 5
    OPTIONAL = 6


class TableError(Exception):
    """A table operation the control plane asked for cannot be done; ``code`` is a google.rpc code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# google.rpc codes used here (kept local so the state has no protobuf dependency)
ALREADY_EXISTS = 6
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
PERMISSION_DENIED = 7
INVALID_ARGUMENT = 3


@dataclass(frozen=True)
class FieldSpec:
    """One match field, in P4Info order: the key tuple of a lookup follows this order."""

    id: int
    name: str
    bitwidth: int
    kind: MatchKind

    @property
    def full_mask(self) -> int:
        return (1 << self.bitwidth) - 1


# A field's match in an entry, normalised: EXACT -> value; LPM -> (value, prefix_len);
# TERNARY/OPTIONAL -> (value, mask); RANGE -> (low, high).  Don't-care fields are normalised
# to (0, 0) for LPM/TERNARY/OPTIONAL and (0, 2**w - 1) for RANGE.
FieldMatch = int | tuple[int, int]
MatchKey = tuple[FieldMatch, ...]


class TableEntry:
    """One installed entry: its match, action, priority, direct resources and hit bookkeeping.

    The per-packet path may read ``action_id``/``params`` and update ``packets``, ``bytes``
    and ``last_hit_ns`` directly (attributes, not methods, to keep the hit path cheap).
    """

    __slots__ = (
        "action_id",
        "bytes",
        "controller_metadata",
        "idle_notified",
        "idle_timeout_ns",
        "is_const",
        "last_hit_ns",
        "match",
        "metadata",
        "meter",
        "packets",
        "params",
        "priority",
        "result",
    )

    def __init__(
        self,
        match: MatchKey,
        action_id: int,
        params: tuple[int, ...],
        priority: int = 0,
        *,
        idle_timeout_ns: int = 0,
        controller_metadata: int = 0,
        metadata: bytes = b"",
        is_const: bool = False,
        now_ns: int = 0,
    ) -> None:
        self.match = match
        self.priority = priority
        self.action_id = action_id
        self.params = params
        self.idle_timeout_ns = idle_timeout_ns
        self.last_hit_ns = now_ns
        self.packets = 0
        self.bytes = 0
        self.meter: MeterCell | None = None
        self.controller_metadata = controller_metadata
        self.metadata = metadata
        self.is_const = is_const
        self.idle_notified = False
        self.result: tuple[int, tuple[int, ...], TableEntry | None] = (action_id, params, self)

    @property
    def identity(self) -> tuple[MatchKey, int]:
        return (self.match, self.priority)

    def set_action(self, action_id: int, params: tuple[int, ...]) -> None:
        """Change the action; the result tuple is replaced in one step so readers see old or new."""
        self.action_id = action_id
        self.params = params
        self.result = (action_id, params, self)

    def hit(self, nbytes: int, now_ns: int) -> None:
        """Record a hit: direct counter and idle-timeout clock (convenience for the engine)."""
        self.packets += 1
        self.bytes += nbytes
        self.last_hit_ns = now_ns
        self.idle_notified = False


Result = tuple[int, tuple[int, ...], TableEntry | None]


class TableOptions(TypedDict, total=False):
    """The keyword options of :func:`make_table` (their meaning is :class:`Table`'s)."""

    default_action: tuple[int, tuple[int, ...]]
    const_default: bool
    is_const: bool
    support_timeout: bool


class _TableInit(TableOptions, total=False):
    """The keyword arguments of a table class: :func:`make_table` decides ``needs_priority``."""

    needs_priority: bool


class Table:
    """Base for all match tables: entry bookkeeping, default action, size limit.

    Subclasses keep the lookup structure in sync in ``_index_add``/``_index_remove``.
    """

    kind = "generic"

    def __init__(
        self,
        id: int,
        name: str,
        fields: tuple[FieldSpec, ...],
        size: int,
        *,
        default_action: tuple[int, tuple[int, ...]] = (0, ()),
        const_default: bool = False,
        is_const: bool = False,
        support_timeout: bool = False,
        needs_priority: bool = False,
    ) -> None:
        self.id = id
        self.name = name
        self.fields = fields
        # field id -> position in the key tuple (the Write path decodes a match per entry)
        self.field_positions: dict[int, int] = {f.id: i for i, f in enumerate(fields)}
        self.size = size
        self.is_const = is_const
        self.const_default = const_default
        self.support_timeout = support_timeout
        self.needs_priority = needs_priority
        self.initial_default = default_action
        self.default_result: Result = (default_action[0], default_action[1], None)
        # direct resources: counter data of the default entry (P4Runtime can read it)
        self.default_packets = 0
        self.default_bytes = 0
        self.has_direct_counter = False
        self.direct_meter_spec: MeterSpec | None = None  # set when the table has a direct meter
        self._entries: dict[tuple[MatchKey, int], TableEntry] = {}
        # the entries with an idle timeout (support_timeout tables only): what the sweep visits
        self._idle: IdleSet[TableEntry] = IdleSet()
        self._lock = threading.Lock()

    # -- control plane ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[TableEntry]:
        """A snapshot of the installed entries (insertion order)."""
        with self._lock:
            return list(self._entries.values())

    def get(self, match: MatchKey, priority: int = 0) -> TableEntry | None:
        return self._entries.get((match, priority))

    def insert(self, entry: TableEntry) -> None:
        with self._lock:
            ident = entry.identity
            if ident in self._entries:
                raise TableError(ALREADY_EXISTS, f"table {self.name}: entry already exists")
            if len(self._entries) >= self.size:
                raise TableError(
                    RESOURCE_EXHAUSTED, f"table {self.name} is full ({self.size} entries)"
                )
            if self.direct_meter_spec is not None and entry.meter is None:
                entry.meter = MeterCell(self.direct_meter_spec)
            self._entries[ident] = entry
            self._index_add(entry)
            if entry.idle_timeout_ns > 0 and self.support_timeout:
                self._idle.add(entry)

    def modify(
        self, match: MatchKey, priority: int, action_id: int, params: tuple[int, ...]
    ) -> TableEntry:
        with self._lock:
            entry = self._entries.get((match, priority))
            if entry is None:
                raise TableError(NOT_FOUND, f"table {self.name}: no such entry")
            entry.set_action(action_id, params)
            self._index_update(entry)
            return entry

    def delete(self, match: MatchKey, priority: int = 0) -> TableEntry:
        with self._lock:
            entry = self._entries.pop((match, priority), None)
            if entry is None:
                raise TableError(NOT_FOUND, f"table {self.name}: no such entry")
            self._index_remove(entry)
            self._idle.discard(entry)
            return entry

    def clear(self) -> None:
        with self._lock:
            for entry in list(self._entries.values()):
                self._index_remove(entry)
            self._entries.clear()
            self._idle.clear()

    # -- idle timeout -------------------------------------------------------------------------
    def set_idle_timeout(self, entry: TableEntry, idle_timeout_ns: int) -> None:
        """Change an installed entry's idle timeout; the sweep only sees entries set this way.

        Writing ``entry.idle_timeout_ns`` directly after the insert would leave the sweep's
        set stale, so the control plane goes through here.
        """
        with self._lock:
            entry.idle_timeout_ns = idle_timeout_ns
            if (
                idle_timeout_ns > 0
                and self.support_timeout
                and self._entries.get(entry.identity) is entry
            ):
                self._idle.add(entry)
            else:
                self._idle.discard(entry)

    @property
    def timed_entries(self) -> int:
        """How many entries the idle-timeout sweep tracks (those with ``idle_timeout_ns > 0``)."""
        return len(self._idle)

    def idle_sweep(self, now_ns: int, budget: int) -> SweepResult[TableEntry]:
        """Visit up to ``budget`` timed entries (round robin); return those that just went idle.

        Each returned entry is marked ``idle_notified``, so it is returned once per idle period.
        Runs under the table lock, so an entry deleted before the sweep is never returned.
        """
        with self._lock:
            return self._idle.sweep(now_ns, budget)

    def set_default(self, action_id: int, params: tuple[int, ...]) -> None:
        self.default_result = (action_id, params, None)

    def reset_default(self) -> None:
        self.default_result = (self.initial_default[0], self.initial_default[1], None)

    # -- per packet ---------------------------------------------------------------------------
    def lookup(self, key: tuple[int, ...]) -> Result:  # pragma: no cover - overridden
        raise NotImplementedError

    def count_default(self, nbytes: int) -> None:
        """Count a miss on the default entry's direct counter."""
        self.default_packets += 1
        self.default_bytes += nbytes

    # -- index maintenance (called with the lock held) ------------------------------------------
    def _index_add(self, entry: TableEntry) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _index_remove(self, entry: TableEntry) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _index_update(self, entry: TableEntry) -> None:
        self._index_add(entry)


class ExactTable(Table):
    """All fields exact: one dict from the packed key to the result.

    The key's fields are packed into one int, first field most significant, each field
    ``bitwidth`` bits (``pack_key``): an int hashes and compares faster than a tuple of ints
    and needs no tuple built per packet, which the engine's generated lookups rely on (they
    emit the same packing as an expression over the key values).  Key values are always
    within their field's width (the Write path and the engine both mask), so the packing
    is one-to-one.
    """

    kind = "exact"

    def __init__(
        self,
        id: int,
        name: str,
        fields: tuple[FieldSpec, ...],
        size: int,
        **options: Unpack[_TableInit],
    ) -> None:
        super().__init__(id, name, fields, size, **options)
        self._results: dict[int, Result] = {}
        self.key_widths: tuple[int, ...] = tuple(f.bitwidth for f in self.fields)

    def pack_key(self, key: tuple[int, ...]) -> int:
        """The dict key of a match key tuple (see the class docstring)."""
        acc = 0
        for value, width in zip(key, self.key_widths):
            acc = (acc << width) | value
        return acc

    def lookup(self, key: tuple[int, ...]) -> Result:
        return self._results.get(self.pack_key(key)) or self.default_result

    def _index_add(self, entry: TableEntry) -> None:
        self._results[self.pack_key(entry.match)] = entry.result  # type: ignore[arg-type]  # an exact table's match is all ints

    def _index_remove(self, entry: TableEntry) -> None:
        self._results.pop(self.pack_key(entry.match), None)  # type: ignore[arg-type]  # an exact table's match is all ints


class LpmTable(Table):
    """One LPM field (the others exact): a dict per prefix length, searched longest first.

    ``_levels`` is a tuple of ``(mask, dict)`` sorted by prefix length, longest first; it is
    replaced (not mutated) when a prefix length comes into or goes out of use.
    """

    kind = "lpm"

    def __init__(
        self,
        id: int,
        name: str,
        fields: tuple[FieldSpec, ...],
        size: int,
        **options: Unpack[_TableInit],
    ) -> None:
        super().__init__(id, name, fields, size, **options)
        self._lpm_index = next(i for i, f in enumerate(self.fields) if f.kind == MatchKind.LPM)
        self._width = self.fields[self._lpm_index].bitwidth
        self._by_len: dict[int, dict[object, Result]] = {}
        self._levels: tuple[tuple[int, dict[object, Result]], ...] = ()
        self._single = len(self.fields) == 1

    @property
    def prefix_lengths(self) -> list[int]:
        """The prefix lengths in use, longest first."""
        return sorted(self._by_len, reverse=True)

    def _mask(self, plen: int) -> int:
        return ((1 << plen) - 1) << (self._width - plen)

    def lookup(self, key: tuple[int, ...]) -> Result:
        if self._single:
            v = key[0]
            for mask, d in self._levels:
                r = d.get(v & mask)
                if r is not None:
                    return r
            return self.default_result
        i = self._lpm_index
        head, v, tail = key[:i], key[i], key[i + 1 :]
        for mask, d in self._levels:
            r = d.get(head + (v & mask,) + tail)
            if r is not None:
                return r
        return self.default_result

    def _slot(self, entry: TableEntry) -> tuple[int, object]:
        i = self._lpm_index
        value, plen = entry.match[i]  # type: ignore[misc]  # the LPM field's match is (value, prefix_len)
        if self._single:
            return plen, value
        flat = tuple(m for m in entry.match)
        return plen, flat[:i] + (value,) + flat[i + 1 :]

    def _index_add(self, entry: TableEntry) -> None:
        plen, k = self._slot(entry)
        d = self._by_len.get(plen)
        if d is None:
            d = self._by_len[plen] = {}
            d[k] = entry.result
            self._rebuild_levels()
        else:
            d[k] = entry.result

    def _index_remove(self, entry: TableEntry) -> None:
        plen, k = self._slot(entry)
        d = self._by_len.get(plen)
        if d is None:
            return
        d.pop(k, None)
        if not d:
            del self._by_len[plen]
            self._rebuild_levels()

    def _rebuild_levels(self) -> None:
        self._levels = tuple(
            (self._mask(p), self._by_len[p]) for p in sorted(self._by_len, reverse=True)
        )


# One ternary row: (packed mask, packed value, range checks (field index, low, high) or None, result)
_Row = tuple[int, int, tuple[tuple[int, int, int], ...] | None, Result]


class TernaryTable(Table):
    """Ternary, optional, range (and LPM mixed with them): entries in priority order.

    Non-range fields are packed into one int so each entry costs one ``&`` and one ``==``;
    range fields are checked separately.  Each entry's row is computed once when it is
    written; the priority-ordered row list is replaced copy-on-write (a C-level list copy
    per write, no Python loop over the entries), and a small per-key result cache is kept
    when the table is large enough for it to pay.
    """

    kind = "ternary"
    CACHE_MIN_ENTRIES = 8
    CACHE_LIMIT = 4096

    def __init__(
        self,
        id: int,
        name: str,
        fields: tuple[FieldSpec, ...],
        size: int,
        **options: Unpack[_TableInit],
    ) -> None:
        super().__init__(id, name, fields, size, **options)
        shifts = []
        total = 0
        for f in reversed(self.fields):
            shifts.append(total)
            total += f.bitwidth
        self._shifts = tuple(reversed(shifts))
        self._rows: list[_Row] = []
        self._keys: list[tuple[int, int]] = []  # (-priority, sequence), parallel to _rows
        self._seq: dict[int, tuple[int, int]] = {}  # id(entry) -> its sort key
        self._next_seq = 0
        self._cache: dict[tuple[int, ...], Result] = {}
        self._single = len(self.fields) == 1 and not any(
            f.kind == MatchKind.RANGE for f in self.fields
        )

    def _pack(self, key: tuple[int, ...]) -> int:
        packed = 0
        for k, s in zip(key, self._shifts):
            packed |= k << s
        return packed

    def lookup(self, key: tuple[int, ...]) -> Result:
        cache = self._cache  # read the cache before the rows: writers swap them the other way round
        rows = self._rows
        r = cache.get(key)
        if r is not None:
            return r
        packed = key[0] if self._single else self._pack(key)
        result = self.default_result
        for pmask, pvalue, ranges, res in rows:
            if packed & pmask == pvalue:
                if ranges is not None:
                    ok = True
                    for i, lo, hi in ranges:
                        if not lo <= key[i] <= hi:
                            ok = False
                            break
                    if not ok:
                        continue
                result = res
                break
        if len(rows) >= self.CACHE_MIN_ENTRIES:
            if len(cache) >= self.CACHE_LIMIT:
                cache.clear()
            cache[key] = result
        return result

    def _row(self, e: TableEntry) -> _Row:
        pmask = pvalue = 0
        ranges: list[tuple[int, int, int]] = []
        for i, (f, m) in enumerate(zip(self.fields, e.match)):
            s = self._shifts[i]
            if f.kind == MatchKind.EXACT:
                pmask |= f.full_mask << s
                pvalue |= m << s  # type: ignore[operator]  # an EXACT field's match is an int
            elif f.kind == MatchKind.LPM:
                value, plen = m  # type: ignore[misc]  # LPM: (value, prefix_len)
                pmask |= (((1 << plen) - 1) << (f.bitwidth - plen)) << s
                pvalue |= value << s
            elif f.kind == MatchKind.RANGE:
                lo, hi = m  # type: ignore[misc]  # RANGE: (low, high)
                if lo != 0 or hi != f.full_mask:
                    ranges.append((i, lo, hi))
            else:
                value, mask = m  # type: ignore[misc]  # TERNARY/OPTIONAL: (value, mask)
                pmask |= mask << s
                pvalue |= value << s
        return (pmask, pvalue, tuple(ranges) or None, e.result)

    def _index_add(self, entry: TableEntry) -> None:
        # Among equal priorities the older entry wins (sequence numbers grow).
        key = (-entry.priority, self._next_seq)
        self._next_seq += 1
        self._seq[id(entry)] = key
        i = bisect.bisect_left(self._keys, key)
        rows = self._rows.copy()
        rows.insert(i, self._row(entry))
        self._keys.insert(i, key)
        self._publish(rows)

    def _index_update(self, entry: TableEntry) -> None:
        i = bisect.bisect_left(self._keys, self._seq[id(entry)])
        rows = self._rows.copy()
        rows[i] = self._row(entry)
        self._publish(rows)

    def _index_remove(self, entry: TableEntry) -> None:
        key = self._seq.pop(id(entry), None)
        if key is None:
            return
        i = bisect.bisect_left(self._keys, key)
        rows = self._rows.copy()
        del rows[i]
        del self._keys[i]
        self._publish(rows)

    def _publish(self, rows: list[_Row]) -> None:
        self._rows = rows
        self._cache = {}

    def set_default(self, action_id: int, params: tuple[int, ...]) -> None:
        super().set_default(action_id, params)
        self._cache = {}

    def reset_default(self) -> None:
        super().reset_default()
        self._cache = {}


def make_table(
    id: int,
    name: str,
    fields: tuple[FieldSpec, ...],
    size: int,
    **kwargs: Unpack[TableOptions],
) -> Table:
    """The table class that fits the match kinds of ``fields``."""
    kinds = {f.kind for f in fields}
    needs_priority = bool(kinds & {MatchKind.TERNARY, MatchKind.RANGE, MatchKind.OPTIONAL})
    if needs_priority:
        return TernaryTable(id, name, fields, size, needs_priority=True, **kwargs)
    lpm = [f for f in fields if f.kind == MatchKind.LPM]
    if len(lpm) == 1:
        return LpmTable(id, name, fields, size, **kwargs)
    if len(lpm) > 1:
        # More than one LPM field has no longest-prefix order: P4Runtime treats it like ternary.
        return TernaryTable(id, name, fields, size, needs_priority=True, **kwargs)
    return ExactTable(id, name, fields, size, **kwargs)


def iter_tables(tables: dict[int, Table]) -> Iterator[Table]:
    return iter(tables.values())
