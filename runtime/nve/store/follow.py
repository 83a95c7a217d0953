"""`nve run --store`: follow the overlay in etcd, as `nve run FILE` follows its file.

The follower watches the store's prefix from the revision it last applied. Endpoint
changes (what an orchestrator does all day) are applied to the controller's overlay as
they come (nve.store.incremental) and the switches they touch are reconciled at once,
against what the controller knows it installed: only the changed entities are written,
no switch is read. Anything else (an import, a switch or subnet changed) and any failure
(etcd unreachable, the watch's start compacted away) make it read the overlay whole
again at one revision, validate it, reload the controller and watch from there, so
nothing that happened meanwhile is missed. docs/fleet.md, "Incremental updates".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from nve.controller import Controller
from nve.loader import LoadedOverlay
from nve.store.etcd import Etcd, StoreError, WatchedChange
from nve.store.incremental import NeedFullRead, apply_changes
from nve.store.keys import Root
from nve.store.learned import LearnedPublisher, learned_changes
from nve.store.reader import StoredOverlay, read_overlay
from nve.store.url import StoreUrl
from nve.validate import validate_overlay

log = logging.getLogger("nve.store")


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
    generation: str | None = None,
    learned_ttl_s: int = 30,
) -> None:
    """Keep `ctl` on the overlay stored after revision `since` (`generation`: the one
    read at `since`; None reads it first). Endpoint changes go through
    `ctl.apply_endpoint_changes`; the rest reloads and sets `dirty`. Learned MACs go
    both ways (nve.store.learned): what `ctl` learns or ages out is written under a
    lease of `learned_ttl_s`; what the store holds is applied to `ctl`'s table."""
    seen, gen = since, generation
    learned_read = False
    publisher = LearnedPublisher(url, learned_ttl_s)
    ctl.on_learned = publisher.offer
    publishing = asyncio.create_task(publisher.run())
    try:
        while True:
            try:
                async with Etcd(url) as etcd:
                    if gen is None:
                        stored = await read_overlay(etcd, url.prefix, base_dir)
                        seen, gen = stored.revision, stored.generation
                        await _read_learned(etcd, url.prefix, ctl, seen)
                        _take(ctl, stored, dirty)
                    elif not learned_read:  # the overlay was read by the caller
                        await _read_learned(etcd, url.prefix, ctl, seen)
                    learned_read = True
                    queue: asyncio.Queue[WatchedChange | StoreError] = asyncio.Queue()
                    watcher = asyncio.create_task(_changes(etcd, url, seen + 1, queue))
                    try:
                        while True:
                            batch = await _batch(queue)
                            try:
                                seen = await _apply(ctl, url.prefix, gen, batch, seen)
                            except NeedFullRead as why:
                                log.info("%s: %s: reading the overlay whole", url, why)
                                stored = await read_overlay(etcd, url.prefix, base_dir)
                                seen, gen = stored.revision, stored.generation
                                await _read_learned(etcd, url.prefix, ctl, seen)
                                _take(ctl, stored, dirty)
                                watcher.cancel()  # watch again from the read's revision
                                queue = asyncio.Queue()
                                watcher = asyncio.create_task(_changes(etcd, url, seen + 1, queue))
                    finally:
                        watcher.cancel()
            except StoreError as exc:
                log.error("%s; following again in %g s", exc, retry_s)
                gen = None
                await asyncio.sleep(retry_s)
    finally:
        ctl.on_learned = None
        publishing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publishing


async def _read_learned(etcd: Etcd, prefix: str, ctl: Controller, revision: int) -> None:
    """The learned MACs in the store at `revision`, into the controller's table."""
    root = Root(prefix)
    found = [
        WatchedChange(kv.key, kv.value, False, kv.mod_revision)
        async for kv in etcd.scan(root.learned_prefix, revision)
    ]
    ctl.apply_learned(learned_changes(root, found))


async def _changes(
    etcd: Etcd, url: StoreUrl, start: int, queue: asyncio.Queue[WatchedChange | StoreError]
) -> None:
    try:
        async for change in etcd.watch_changes(f"{url.prefix}/".encode(), start):
            queue.put_nowait(change)
        queue.put_nowait(StoreError(f"{url}: the watch ended"))
    except StoreError as exc:
        queue.put_nowait(exc)


async def _batch(queue: asyncio.Queue[WatchedChange | StoreError]) -> list[WatchedChange]:
    """The next change and every one already waiting behind it (StoreError: the watch
    failed, raised once the changes before the failure are taken)."""
    items = [await queue.get()]
    while not queue.empty():
        items.append(queue.get_nowait())
    out: list[WatchedChange] = []
    for item in items:
        if isinstance(item, StoreError):
            if out:
                queue.put_nowait(item)  # after this batch
                break
            raise item
        out.append(item)
    return out


async def _apply(
    ctl: Controller, prefix: str, gen: str, batch: list[WatchedChange], seen: int
) -> int:
    """Apply one batch of endpoint changes; the revision applied (NeedFullRead else)."""
    root = Root(prefix)
    learned = learned_changes(root, batch)
    if learned:  # MACs learned or aged out here or by another controller
        vsids = ctl.apply_learned(learned)
        carriers = {n for n, st in ctl.states.items() if vsids & st.vsi.keys()}
        await ctl.apply_incremental(carriers & set(ctl.selected))
    result = apply_changes(ctl.overlay, prefix, gen, batch, ctl.index)
    if not result.changed:
        return max(seen, result.revision)
    loaded = ctl.loaded
    changed = LoadedOverlay(result.overlay, loaded.source, loaded.lines, loaded.base_dir)
    ctl.reload_endpoints(changed, result.old, result.new)
    carried = {name: state.vsi.keys() for name, state in ctl.states.items()}
    touched = result.switches(carried, ctl.selected)
    log.info(
        "%s: revision %d: %d endpoint change(s), switches %s",
        loaded.source,
        result.revision,
        len(result.changed),
        ",".join(sorted(touched)) or "none",
    )
    await ctl.apply_endpoint_changes(result.old, {ep.name for ep in result.changed}, touched)
    return result.revision


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
