"""Pausing Python's cyclic garbage collector while nve builds large acyclic structures.

Loading a 100,000-endpoint description, compiling it and diffing it against what a
switch holds allocate millions of small objects (YAML nodes, pydantic models, tuples,
dataclasses) that stay alive. Each allocation burst makes the collector re-scan all of
them, again and again: measured, that is more than half of the load time and a third of
a reconcile. None of these structures forms reference cycles, so reference counting
frees them anyway; the collector is only paused for the duration of the bulk work and
restored afterwards (nesting is fine: the outermost pause restores it).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then put it back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
