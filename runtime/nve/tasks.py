"""Ending tasks for certain.

A task can swallow one cancellation: a library that turns it into its own error, or a
timeout that fires in the same loop turn. A switch released by one replica must not stay
with it because of that, nor `nve run` hang on exit, so cancellation is asked again until
the tasks have ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("nve")

AGAIN_S = 1.0  # how long a cancelled task has to end before it is cancelled again


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], again_s: float = AGAIN_S) -> None:
    """Cancel `tasks` and wait until every one has ended, cancelling those still running
    every `again_s`. Their results and exceptions are dropped (retrieved, not logged)."""
    every = list(tasks)
    pending = {t for t in every if not t.done()}
    for t in pending:
        t.cancel()
    while pending:
        _, pending = await asyncio.wait(pending, timeout=again_s)
        for t in pending:
            log.warning("task %s went on after it was cancelled; cancelling it again", t.get_name())
            t.cancel()
    for t in every:
        if not t.cancelled():
            t.exception()
