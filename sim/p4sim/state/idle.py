"""The entries of one table that have an idle timeout, swept a bounded slice at a time.

The P4Runtime server must notify the controller once an entry with ``idle_timeout_ns > 0``
has not been hit for that long.  Scanning every entry of every support_timeout table on each
tick costs time proportional to the table (65,536 learned MACs in the large profile), under
the GIL the packet thread needs too.  So a table keeps only its timed entries here, and each
tick looks at no more than a fixed budget of them, continuing where the previous tick stopped
(a round-robin cursor).  A full pass over ``n`` entries thus takes ``ceil(n / budget)`` ticks,
which bounds how late a notification can be.

The set is a list plus a position map: O(1) add and remove (swap with the last element) and
positional slices for the cursor.  A removal keeps the slice before the cursor ("visited in
this pass") contiguous, so no entry that is still present is skipped in a pass.

Not thread-safe by itself: the owning :class:`~p4sim.state.tables.Table` calls it under its
lock.  The per-packet path never touches it (it only writes ``last_hit_ns`` and
``idle_notified`` on the entry, as before).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class IdleTimed(Hashable, Protocol):
    """What the set reads and writes of an entry (:class:`p4sim.state.tables.TableEntry`,
    whose module imports this one: a protocol, so that this one need not import it back)."""

    idle_timeout_ns: int
    last_hit_ns: int
    idle_notified: bool


E = TypeVar("E", bound=IdleTimed)


@dataclass
class SweepResult(Generic[E]):
    """What one bounded sweep did: entries looked at, and the entries that just went idle."""

    visited: int = 0
    expired: list[E] = field(default_factory=list)


class IdleSet(Generic[E]):
    """Entries with an idle timeout, in an order a round-robin cursor can walk."""

    __slots__ = ("_cursor", "_items", "_pos")

    def __init__(self) -> None:
        self._items: list[E] = []
        self._pos: dict[E, int] = {}
        self._cursor = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, entry: object) -> bool:
        return entry in self._pos

    def add(self, entry: E) -> None:
        """Track ``entry`` (no-op if already tracked); it is reached later in the current pass."""
        if entry in self._pos:
            return
        self._pos[entry] = len(self._items)
        self._items.append(entry)

    def discard(self, entry: E) -> None:
        """Stop tracking ``entry`` (no-op if it is not tracked)."""
        i = self._pos.pop(entry, None)
        if i is None:
            return
        items = self._items
        if i < self._cursor:
            # The hole is in the visited part: fill it with the last visited entry, so the
            # visited part shrinks by one and the hole moves to its end.
            self._cursor -= 1
            j = self._cursor
            if j != i:
                moved = items[j]
                items[i] = moved
                self._pos[moved] = i
            i = j
        last = items.pop()
        if i < len(items):
            items[i] = last
            self._pos[last] = i

    def clear(self) -> None:
        self._items.clear()
        self._pos.clear()
        self._cursor = 0

    def sweep(self, now_ns: int, budget: int) -> SweepResult[E]:
        """Look at up to ``budget`` entries from the cursor on; mark and return those gone idle.

        An entry is returned when it has not been hit for its ``idle_timeout_ns`` and has not
        been notified in this idle period; it is marked ``idle_notified`` so it is returned
        once per idle period (a hit clears the mark).  A pass ends at the end of the list,
        even with budget left, so each tick's slice is contiguous; the next tick starts over.
        """
        items = self._items
        n = len(items)
        if n == 0 or budget <= 0:
            return SweepResult[E]()
        start = self._cursor if self._cursor < n else 0
        end = min(n, start + budget)
        expired: list[E] = []
        for e in items[start:end]:
            if not e.idle_notified and now_ns - e.last_hit_ns >= e.idle_timeout_ns:
                e.idle_notified = True
                expired.append(e)
        self._cursor = end if end < n else 0
        return SweepResult(end - start, expired)
