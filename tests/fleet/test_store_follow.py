"""follow_store (what `nve run --store` follows with) against a real etcd, no switch."""

from __future__ import annotations

import asyncio
from typing import cast

from nve.controller import Controller
from nve.index import OverlayIndex
from nve.loader import LoadedOverlay, load_overlay
from nve.model import Endpoint, Overlay
from nve.store.endpoints import add_endpoint
from nve.store.etcd import Etcd
from nve.store.follow import follow_store
from nve.store.importer import import_overlay
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE, endpoint, run


class Taker:
    """What follow_store uses of a Controller: the overlay, reload, the switches it
    drives and their compiled VSIDs, and the incremental hook (recorded)."""

    def __init__(self) -> None:
        self.overlay = Overlay()
        self.index = OverlayIndex()
        self.loads: list[LoadedOverlay] = []
        self.selected = ["tor1", "tor2"]
        self.states: dict[str, object] = {}
        self.applied: list[set[str]] = []
        self.changed = asyncio.Event()
        self.on_learned = None
        self.learned_changes: list[object] = []

    @property
    def loaded(self) -> LoadedOverlay:
        return self.loads[-1]

    def apply_learned(self, changes: list[object]) -> set[int]:
        self.learned_changes += changes
        return set()

    def reload(self, loaded: LoadedOverlay) -> None:
        self.overlay = loaded.overlay
        self.index = OverlayIndex.build(loaded.overlay)
        self.loads.append(loaded)

    def reload_endpoints(
        self, loaded: LoadedOverlay, old: list[Endpoint], new: list[tuple[int, Endpoint]]
    ) -> None:
        self.overlay = loaded.overlay
        self.index.replace_endpoints(old, new)
        self.loads.append(loaded)

    async def apply_endpoint_changes(
        self, old: list[Endpoint], names: set[str], touched: set[str]
    ) -> None:
        self.applied.append(touched)
        self.changed.set()


async def _set(event: asyncio.Event) -> None:
    """Liveness, not speed: a generous deadline."""
    await asyncio.wait_for(event.wait(), 30)
    event.clear()


def test_follow_reads_again_when_its_watch_start_is_compacted_then_follows(
    etcd: EtcdServer,
) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        await client.compact_and_defragment()  # revision 2 is gone: the watch cannot start
        taker, dirty = Taker(), asyncio.Event()
        url = client.url  # run() connected it to etcd://HOST:PORT/PREFIX
        assert url.prefix == prefix
        follower = asyncio.create_task(
            follow_store(url, cast("Controller", taker), dirty, since=1, retry_s=0.05)
        )
        try:
            await _set(dirty)
            assert taker.overlay == loaded.overlay
            web3 = endpoint(
                name="web3",
                vsid=0x001001,
                mac="52:54:00:b1:00:03",
                ipv4="192.168.10.13",
                attachment={"switch": "tor2", "port": 1},
            )
            await add_endpoint(client, prefix, web3)
            await _set(taker.changed)  # incremental: no full read, no dirty
            assert taker.overlay.endpoints[-1] == web3
            assert taker.overlay.endpoints[:-1] == loaded.overlay.endpoints
            assert len(taker.loads) == 2 and not dirty.is_set()
            assert taker.applied == [{"tor2"}]  # attached there; no compiled state yet
        finally:
            follower.cancel()

    run(etcd, body)
