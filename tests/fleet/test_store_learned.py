"""Learned MACs in the store (nve.store.learned, docs/fleet.md "Learned MACs"): two
controllers following one store (as two replicas do) agree on what either learned, a
move overwrites, ageing deletes only the place that aged, and a controller that stops
takes its MACs out of the store with its lease. Real etcd, no switch needed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nve.compile import LearnedEndpoint
from nve.controller import Controller
from nve.fleet.etcd_leases import LeaseEtcd
from nve.loader import load_overlay
from nve.mac import Mac
from nve.store.etcd import Etcd
from nve.store.follow import follow_store
from nve.store.importer import import_overlay
from nve.store.keys import Root
from nve.store.learned import LearnedChange, decode
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE, run

VSID = 0x001001
MAC = Mac("02:aa:00:00:00:01")


async def _until(what: Callable[[], bool], limit_s: float = 20.0) -> None:
    """Liveness, not speed: a generous deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while not what():
        assert loop.time() < end, "not within the deadline"
        await asyncio.sleep(0.05)


def test_two_controllers_share_learned_macs(etcd: EtcdServer) -> None:
    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, load_overlay(EXAMPLE))
        url = StoreUrl.parse(f"{etcd.url}{prefix}")
        root = Root(prefix)
        a, b = Controller(load_overlay(EXAMPLE)), Controller(load_overlay(EXAMPLE))
        tasks = [
            asyncio.create_task(follow_store(url, c, asyncio.Event(), 0, learned_ttl_s=5))
            for c in (a, b)
        ]

        async def stored() -> tuple[LearnedEndpoint, int] | None:
            leases = LeaseEtcd(url)
            await leases.open()
            try:
                _, held = await leases.read(root.learned_prefix)
            finally:
                await leases.close()
            return (decode(held[0].value), held[0].lease) if held else None

        async def settle(check: Callable[[], Awaitable[bool]]) -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + 20
            while not await check():
                assert loop.time() < end, "not within the deadline"
                await asyncio.sleep(0.05)

        try:
            await _until(lambda: a.on_learned is not None and b.on_learned is not None)
            # a's switch tor1 learns the MAC: in the store under a lease, then in b's table
            on_tor1 = LearnedEndpoint("tor1", VSID, MAC, 2)
            assert a.learn(on_tor1)
            await _until(lambda: b.learned.where(VSID, MAC) == on_tor1)
            found = await stored()
            assert found is not None and found[0] == on_tor1 and found[1] != 0

            # it moves: b's switch tor2 learns it; a's table follows
            on_tor2 = LearnedEndpoint("tor2", VSID, MAC, 1)
            assert b.learn(on_tor2)
            await _until(lambda: a.learned.where(VSID, MAC) == on_tor2)

            # tor1's old entry ageing is no news: the MAC is at tor2 (nothing deleted)
            assert not a.age_out("tor1", VSID, MAC)
            await asyncio.sleep(0.5)
            assert (await stored() or (None, 0))[0] == on_tor2

            # tor2's entry ages out: deleted from the store, forgotten by a too
            assert b.age_out("tor2", VSID, MAC)
            await _until(lambda: a.learned.where(VSID, MAC) is None)

            async def gone() -> bool:
                return await stored() is None

            await settle(gone)

            # a configured endpoint's MAC is never taken from the store
            configured = a.overlay.endpoints[0]
            clash = LearnedEndpoint("tor2", configured.vsid, configured.mac, 1)
            assert a.apply_learned([LearnedChange(clash.vsid, clash.mac, clash)]) == set()
            assert a.learned.where(clash.vsid, clash.mac) is None

            # b learns one more and stops: its lease is revoked, the MAC leaves the store
            last = LearnedEndpoint("tor2", VSID, Mac("02:aa:00:00:00:02"), 1)
            assert b.learn(last)
            await _until(lambda: a.learned.where(VSID, last.mac) == last)
            tasks[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tasks[1]
            await _until(lambda: a.learned.where(VSID, last.mac) is None)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    run(etcd, body)
