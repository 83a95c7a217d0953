"""`nve run --store`: follow the overlay in etcd, as `nve run FILE` follows its file.

One replica, full apply: every change under the store's prefix (an import, an endpoint
change) makes the controller read the whole current overlay again at one revision,
validate it and reconcile every switch. docs/fleet.md says how ownership per switch
will spread this over replicas and apply only what changed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from nve.controller import Controller
from nve.store.etcd import Etcd, StoreError
from nve.store.reader import StoredOverlay, read_overlay
from nve.store.url import StoreUrl
from nve.validate import validate_overlay

log = logging.getLogger("nve.store")
SETTLE_S = 0.2  # changes closer together than this are read as one


async def load_stored(url: StoreUrl, base_dir: Path | None = None) -> StoredOverlay:
    async with Etcd(url) as etcd:
        return await read_overlay(etcd, url.prefix, base_dir)


async def follow_store(
    url: StoreUrl,
    ctl: Controller,
    dirty: asyncio.Event,
    since: int,
    base_dir: Path | None = None,
    retry_s: float = 1.0,
) -> None:
    """Reload `ctl` with every new valid overlay stored after revision `since`. After a
    failure (etcd unreachable, the watch's start compacted away) it reads the overlay
    whole again and watches from there, so nothing that happened meanwhile is missed."""
    seen, again = since, False
    while True:
        try:
            async with Etcd(url) as etcd:
                if again:
                    stored = await read_overlay(etcd, url.prefix, base_dir)
                    seen = stored.revision
                    _take(ctl, stored, dirty)
                changed = asyncio.Event()
                watcher = asyncio.create_task(_changes(etcd, url, seen + 1, changed))
                try:
                    while True:
                        await _first(changed, watcher)
                        await asyncio.sleep(SETTLE_S)
                        changed.clear()
                        stored = await read_overlay(etcd, url.prefix, base_dir)
                        seen = stored.revision
                        _take(ctl, stored, dirty)
                finally:
                    watcher.cancel()
        except StoreError as exc:
            log.error("%s; following again in %g s", exc, retry_s)
            again = True
            await asyncio.sleep(retry_s)


async def _first(changed: asyncio.Event, watcher: asyncio.Task[None]) -> None:
    """Until a change, or the watch's failure raised."""
    waiter = asyncio.create_task(changed.wait())
    try:
        await asyncio.wait({waiter, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if watcher.done():
        watcher.result()
        raise StoreError("the watch ended")


async def _changes(etcd: Etcd, url: StoreUrl, start: int, changed: asyncio.Event) -> None:
    async for _ in etcd.watch(f"{url.prefix}/".encode(), start):
        changed.set()


def _take(ctl: Controller, stored: StoredOverlay, dirty: asyncio.Event) -> None:
    if stored.loaded.overlay == ctl.overlay:
        return
    problems = validate_overlay(stored.loaded.overlay)
    if problems:  # not written by nve import or nve endpoint: refuse it as a bad file is
        log.error(
            "%s is invalid; keeping the previous description:\n%s",
            stored.loaded.source,
            "\n".join(str(p) for p in stored.loaded.locate(problems)),
        )
        return
    ctl.reload(stored.loaded)
    log.info("%s (revision %d): reconciling", stored.loaded.source, stored.revision)
    dirty.set()
