"""Exclusive holds on sets of switches, so that work on one switch never waits for another.

A reconcile or an endpoint patch holds the switches it reads and writes, nothing else: two
holds on disjoint sets run side by side (a takeover's reconciles overlap their reads and
writes; a move on a reconciled switch does not wait for a switch that is still being read,
or that stopped answering). Holds are granted in arrival order among those that overlap: a
request waits for the holders of its switches and for the earlier waiters that want any of
them, never for unrelated ones, and a large request (every switch) is not starved by a
stream of small ones, which queue behind it where they overlap it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class SwitchLocks:
    """Per-switch mutual exclusion over sets of switch names (one event loop)."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._waiting: list[tuple[frozenset[str], asyncio.Future[None]]] = []

    def busy(self, name: str) -> bool:
        """Whether `name` is held, or wanted by a waiting request."""
        return name in self._held or any(name in want for want, _ in self._waiting)

    @asynccontextmanager
    async def hold(self, names: Iterable[str]) -> AsyncIterator[None]:
        want = frozenset(names)
        if self._waiting or want & self._held:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((want, fut))
            self._grant()  # the queue may let it through at once
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._release(want)  # granted, then cancelled before it ran
                else:
                    fut.cancel()
                    self._waiting = [(w, f) for w, f in self._waiting if f is not fut]
                    self._grant()  # it may have held back later, disjoint requests
                raise
        else:
            self._held |= want
        try:
            yield
        finally:
            self._release(want)

    def _release(self, want: frozenset[str]) -> None:
        self._held -= want
        self._grant()

    def _grant(self) -> None:
        """Grant every waiting request, in arrival order, whose switches are neither held
        nor wanted by an earlier waiter."""
        ahead: set[str] = set()
        still: list[tuple[frozenset[str], asyncio.Future[None]]] = []
        for want, fut in self._waiting:
            if fut.done():
                continue
            if want & self._held or want & ahead:
                ahead |= want
                still.append((want, fut))
            else:
                self._held |= want
                fut.set_result(None)
        self._waiting = still
