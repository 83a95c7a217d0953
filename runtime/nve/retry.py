"""Switches left out of a reconcile (not answering) or cut short (a lost connection, a
failed Write) are reconciled again on their own: after RETRY_FIRST_S, the wait doubling
up to RETRY_MAX_S while they keep failing. A change that reconciles every switch (the
description, learned MACs) comes first and resets the wait."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

RETRY_FIRST_S = 2.0
RETRY_MAX_S = 60.0


def longer(wait: float) -> float:
    """The wait after one more failed try."""
    return min(wait * 2, RETRY_MAX_S)


@dataclass
class Retry:
    names: list[str] = field(default_factory=list)
    wait: float = RETRY_FIRST_S

    async def next(self, dirty: asyncio.Event) -> list[str] | None:
        """Wait for `dirty` (None: reconcile every switch) or, while there are switches to
        try again, at most `wait` seconds (those switches)."""
        if not self.names:
            await dirty.wait()
            return None
        try:
            async with asyncio.timeout(self.wait):
                await dirty.wait()
        except TimeoutError:
            return list(self.names)
        return None

    def after(self, failed: list[str], *, retried: bool) -> None:
        """What the last reconcile left to try again; `retried`: it was a retry."""
        self.names = list(failed)
        self.wait = longer(self.wait) if failed and retried else RETRY_FIRST_S
