"""Follow the control-plane host's neighbours and routes: `ip monitor` wakes a re-read.

Changes come in bursts (a neighbour's state machine, a BGP update of many routes): each
wake-up waits 50 ms for the rest of the burst, reads the whole view once and reports it
only if it differs from the last one (a neighbour going REACHABLE -> STALE changes
nothing for the switch). A re-read every `interval` seconds covers anything a monitor
could miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nve.model import Switch
from nve.underlay.kernel import KernelView, read_view

log = logging.getLogger("nve.underlay")

SETTLE_S = 0.05


async def _monitor(namespace: str, wake: asyncio.Event) -> None:
    proc = await asyncio.create_subprocess_exec(
        "ip",
        "-n",
        namespace,
        "monitor",
        "neigh",
        "route",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        while await proc.stdout.readline():
            wake.set()
    finally:
        if proc.returncode is None:
            proc.kill()
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()


async def watch_kernel(
    namespace: str,
    switch: Switch,
    on_change: Callable[[KernelView], None],
    interval: float = 30.0,
) -> None:
    """Report the kernel's view now and after every change, until cancelled."""
    wake = asyncio.Event()
    monitor = asyncio.create_task(_monitor(namespace, wake), name=f"ip-monitor-{namespace}")
    view: KernelView | None = None
    try:
        while True:
            new = await asyncio.to_thread(read_view, namespace, switch)
            if new != view:
                view = new
                on_change(new)
            if monitor.done():  # `ip monitor` ended: start another
                monitor = asyncio.create_task(_monitor(namespace, wake))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await wake.wait()
            await asyncio.sleep(SETTLE_S)
            wake.clear()
    finally:
        monitor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await monitor
