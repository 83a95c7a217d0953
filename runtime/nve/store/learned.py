"""Learned MACs in the store, so that every replica and every switch agrees on them
(docs/fleet.md, "Learned MACs").

A MAC a switch learns (a digest its controller accepted, within the switch's learning
limits) is written to `PREFIX/learned/VSID/MAC`: one key per (VSID, MAC), as a MAC has
one place in a VSID; its value names the switch and port. The key is bound to the
writer's lease, so the MACs of a controller that dies leave the store a lease TTL later
(its switches' entries age out or are relearned by the next owner). Ageing stays in the
data plane: when the switch reports the entry idle, the key is deleted if it still
names that switch (a MAC that moved since is left alone). A move overwrites the key.

Every controller following the store applies the changes it watches to its learned
table (without limits: they were applied where it was learned), and reconciles the
switches that carry the VSID; its own writes come back as no change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from nve.compile import LearnedEndpoint
from nve.fleet.etcd_leases import LeaseEtcd
from nve.mac import Mac
from nve.store.etcd import StoreError, WatchedChange
from nve.store.keys import Root, unpart
from nve.store.url import StoreUrl

log = logging.getLogger("nve.store")


def encode(le: LearnedEndpoint) -> bytes:
    return json.dumps(
        {"switch": le.switch, "vsid": le.vsid, "mac": str(le.mac), "port": le.port},
        sort_keys=True,
    ).encode()


def decode(value: bytes) -> LearnedEndpoint:
    """The learned MAC a key holds; ValueError if the record is not one."""
    try:
        d = json.loads(value)
        le = LearnedEndpoint(str(d["switch"]), int(d["vsid"]), Mac(str(d["mac"])), int(d["port"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a learned MAC record ({exc})") from None
    return le


@dataclass(frozen=True)
class LearnedChange:
    """A learned-MAC key that changed: its (VSID, MAC) and new record (None: deleted)."""

    vsid: int
    mac: Mac
    learned: LearnedEndpoint | None


def learned_changes(root: Root, changes: list[WatchedChange]) -> list[LearnedChange]:
    """The watched changes under `PREFIX/learned/` (unreadable keys or records skipped,
    logged)."""
    out = []
    for ch in changes:
        if not ch.key.startswith(root.learned_prefix):
            continue
        try:
            vsid_text, mac_text = ch.key[len(root.learned_prefix) :].decode().split("/")
            vsid, mac = int(vsid_text, 16), Mac(unpart(mac_text))
            le = None if ch.deleted else decode(ch.value)
        except (UnicodeDecodeError, ValueError) as exc:
            log.warning("%s: %s", ch.key.decode(errors="replace"), exc)
            continue
        out.append(LearnedChange(vsid, mac, le))
    return out


class LearnedPublisher:
    """Writes what its controller learns and ages out, in order, on its own lease.

    `offer` is called from the controller (never blocks); a task writes the queue. A
    failed write is logged and the rest go on (the switches keep forwarding; the store
    catches up with the next change of that MAC)."""

    def __init__(self, url: StoreUrl, ttl_s: int = 30) -> None:
        self.url = url
        self.root = Root(url.prefix)
        self.ttl_s = ttl_s
        self._queue: asyncio.Queue[tuple[LearnedEndpoint, bool]] = asyncio.Queue()
        self.written = 0
        self.failed = 0

    def offer(self, le: LearnedEndpoint, present: bool) -> None:
        """`le` was learned (or moved) when `present`, aged out otherwise."""
        self._queue.put_nowait((le, present))

    async def run(self) -> None:
        """Until cancelled: hold a lease, write the queue under it (a new lease after a
        failure; the MACs written under the old one are written again)."""
        mine: dict[bytes, bytes] = {}  # key -> value this publisher wrote (still current)
        while True:
            etcd = LeaseEtcd(self.url)
            try:
                await etcd.open()
                lease = await etcd.grant(self.ttl_s)
                for key, value in list(mine.items()):
                    await etcd.put(key, value, lease)
                keeper = asyncio.create_task(self._keep(etcd, lease))
                try:
                    while True:
                        nxt = asyncio.ensure_future(self._queue.get())
                        await asyncio.wait({nxt, keeper}, return_when=asyncio.FIRST_COMPLETED)
                        if not nxt.done():  # the lease is gone
                            nxt.cancel()
                            keeper.result()  # raises why
                            raise StoreError(f"{self.url}: lease keeper stopped")
                        le, present = nxt.result()
                        await self._write(etcd, lease, le, present, mine)
                finally:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StoreError):
                        await keeper
                    with contextlib.suppress(StoreError):
                        await asyncio.shield(etcd.revoke(lease))
            except StoreError as exc:
                log.warning("learned MACs: %s; retrying", exc)
                await asyncio.sleep(1.0)
            finally:
                await etcd.close()

    async def _write(
        self,
        etcd: LeaseEtcd,
        lease: int,
        le: LearnedEndpoint,
        present: bool,
        mine: dict[bytes, bytes],
    ) -> None:
        key, value = self.root.learned(le.vsid, le.mac), encode(le)
        try:
            if present:
                mine[key] = value  # written again under a new lease if this fails
                await etcd.put(key, value, lease)
            else:
                mine.pop(key, None)
                await etcd.delete_if_value(key, value)
            self.written += 1
        except StoreError as exc:
            self.failed += 1
            log.warning("learned MAC %s in VSID 0x%06X: %s", le.mac, le.vsid, exc)
            raise

    async def _keep(self, etcd: LeaseEtcd, lease: int) -> None:
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            if await etcd.keep_alive(lease) <= 0:
                raise StoreError(f"{self.url}: the learned MACs' lease expired")
