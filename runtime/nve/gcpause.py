"""Pausing Python's cyclic garbage collector while nve builds large acyclic structures,
and keeping it off them afterwards.

Loading a 100,000-endpoint description, compiling it and diffing it against what a
switch holds allocate millions of small objects (YAML nodes, pydantic models, tuples,
dataclasses) that stay alive. Each allocation burst makes the collector re-scan all of
them, again and again: measured, that is more than half of the load time and a third of
a reconcile. None of these structures forms reference cycles, so reference counting
frees them anyway; the collector is only paused for the duration of the bulk work and
restored afterwards (nesting is fine: the outermost pause restores it).

When the outermost pause ends after a large build (more than FREEZE_ABOVE objects
left that the collector tracks), what exists then is frozen (`gc.freeze()`): moved to
the collector's permanent generation, which later collections do not scan. Without it
the next full collection walks every object of the overlay and the compiled switches:
0.7-1.1 s at 100,000 endpoints and about ten seconds at a million (bench/follow_apply.py),
during which a replica's event loop stands still and every endpoint move waits. Frozen
objects are still freed by reference counting when dropped; what freezing costs is that
a reference cycle already garbage at that moment is never collected (nve's bulk
structures hold none; other cycles, such as a failed call's traceback, are few and
small). Small builds are left to the collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

FREEZE_ABOVE = 100_000  # objects the block left for the collector (its youngest generation)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then (after a large build) freeze
    what exists and put the collector back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > FREEZE_ABOVE:
                gc.freeze()
            gc.enable()


class SharedPause:
    """gc_paused for holders that overlap without nesting (coroutines of one event loop,
    such as the reconciles of different switches): the collector goes off when the first
    enters and comes back, with the freeze, when the last leaves."""

    def __init__(self) -> None:
        self._holders = 0
        self._pause: AbstractContextManager[None] | None = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self._holders == 0:
            self._pause = gc_paused()
            self._pause.__enter__()
        self._holders += 1
        try:
            yield
        finally:
            self._holders -= 1
            if self._holders == 0 and self._pause is not None:
                pause, self._pause = self._pause, None
                pause.__exit__(None, None, None)
