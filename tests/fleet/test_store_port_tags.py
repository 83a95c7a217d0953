"""Port tags in the store: one member key per local endpoint, bindings that exist while a
tag has members, and writers that share a port without conflicting (real etcd)."""

from __future__ import annotations

import asyncio
import json

import pytest

from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import (
    ChangeRefused,
    add_endpoint,
    change_endpoints,
    move_endpoint,
    remove_endpoint,
)
from nve.store.endpoints import Move as MoveChange
from nve.store.etcd import Etcd, Put, StoreError
from nve.store.importer import import_overlay
from nve.store.keys import Root
from nve.store.reader import current_generation
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE, check_indexes, endpoint, run

WEB = 0x001001
RED = 0x002001


def on_tor1(name: str, i: int, port: int, vlan: int | None, vsid: int = WEB) -> dict[str, object]:
    return {
        "name": name,
        "vsid": vsid,
        "mac": f"52:54:00:{0xB1 if vsid == WEB else 0xC1:02x}:0{port}:{i:02x}",
        "ipv4": f"192.168.10.{100 + i + 40 * (port - 1)}",
        "attachment": {"switch": "tor1", "port": port, "vlan": vlan},
    }


async def _gen(client: Etcd, prefix: str):
    return Root(prefix).generation((await current_generation(client, prefix))[0])


def test_concurrent_moves_between_two_tags_of_a_port_commit_without_conflict(
    etcd: EtcdServer,
) -> None:
    """Sixteen endpoints on tor1 port 1 VLAN 100; every other one moves to port 2 VLAN 100
    at once. Counted bindings made each of them rewrite the same two keys (one commit per
    round: up to eight attempts); members conflict only with a leaver's witness."""
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        for i in range(16):
            await add_endpoint(client, prefix, endpoint(**on_tor1(f"m{i:02d}", i, 1, 100)))
        # the destination tag has a member already (the first joiner of a tag creates its
        # bindings, which concurrent first joiners do conflict on)
        await add_endpoint(client, prefix, endpoint(**on_tor1("anchor", 30, 2, 100)))
        to = LocalAttachment(switch="tor1", port=2, vlan=100)
        results = await asyncio.gather(
            *(move_endpoint(client, prefix, f"m{i:02d}", to) for i in range(0, 16, 2))
        )
        assert [r.attempts for r in results] == [1] * 8
        overlay = await check_indexes(client, prefix)
        moved = {e.name for e in overlay.endpoints if e.attachment == to}
        assert moved == {"anchor"} | {f"m{i:02d}" for i in range(0, 16, 2)}

    run(etcd, body)


def test_the_last_member_takes_the_bindings_and_the_tag_is_free_again(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        gen = await _gen(client, prefix)
        for i in range(3):
            await add_endpoint(client, prefix, endpoint(**on_tor1(f"t{i}", i, 2, 300)))
        binding = gen.port_vlan("tor1", 2, 300)
        assert json.loads((await client.get(binding)).value) == {"vsid": WEB}  # type: ignore[union-attr]
        with pytest.raises(ChangeRefused, match="VLAN 300 on tor1 port 2 is already used by"):
            await add_endpoint(client, prefix, endpoint(**on_tor1("r0", 9, 2, 300, RED)))
        # the three leave at once (removals concurrent with each other): the bindings go
        # with whichever is last, never before
        await asyncio.gather(*(remove_endpoint(client, prefix, f"t{i}") for i in range(3)))
        assert await client.get(binding) is None
        assert await client.get(gen.port_vsid("tor1", 2, WEB)) is None
        await check_indexes(client, prefix)
        # VLAN 300 on that port is free: another VSID takes it
        await add_endpoint(client, prefix, endpoint(**on_tor1("r0", 9, 2, 300, RED)))
        assert json.loads((await client.get(binding)).value) == {"vsid": RED}  # type: ignore[union-attr]
        await check_indexes(client, prefix)

    run(etcd, body)


def test_joins_and_leaves_racing_on_one_tag_keep_the_bindings_exact(etcd: EtcdServer) -> None:
    """Endpoints join and leave one tag concurrently, again and again, the tag often down
    to one member or none: after each round, bindings exist exactly when members do."""
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        home = LocalAttachment(switch="tor1", port=2, vlan=400)
        away = LocalAttachment(switch="tor1", port=1, vlan=100)  # blue-web1's tag
        for i in range(4):
            await add_endpoint(client, prefix, endpoint(**on_tor1(f"j{i}", i, 2, 400)))
        for r in range(6):
            # all to `away`, or all but one, or back home, interleaved
            target = [away if (i + r) % 2 else home for i in range(4)]
            await asyncio.gather(
                *(move_endpoint(client, prefix, f"j{i}", target[i]) for i in range(4))
            )
            await check_indexes(client, prefix)
        await asyncio.gather(*(move_endpoint(client, prefix, f"j{i}", away) for i in range(4)))
        gen = await _gen(client, prefix)
        assert await client.get(gen.port_vlan("tor1", 2, 400)) is None
        await check_indexes(client, prefix)

    run(etcd, body)


def test_a_batch_leaving_a_tag_whole_removes_its_bindings_once(etcd: EtcdServer) -> None:
    """One batch moves every member of a tag away: each leave sees the ones before it."""
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        for i in range(5):
            await add_endpoint(client, prefix, endpoint(**on_tor1(f"b{i}", i, 2, 600)))
        away = LocalAttachment(switch="tor1", port=1, vlan=100)
        results = await change_endpoints(
            client, prefix, [MoveChange(f"b{i}", away) for i in range(5)]
        )
        assert len({r.revision for r in results}) == 1  # type: ignore[union-attr]
        gen = await _gen(client, prefix)
        assert await client.get(gen.port_vlan("tor1", 2, 600)) is None
        await check_indexes(client, prefix)

    run(etcd, body)


def test_a_generation_of_the_counted_layout_is_refused_with_what_to_do(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        gen = await _gen(client, prefix)
        meta = json.loads((await client.get(gen.meta)).value)  # type: ignore[union-attr]
        del meta["layout"]
        assert (await client.txn([], [Put(gen.meta, json.dumps(meta).encode())]))[0]
        with pytest.raises(StoreError, match=r"index layout 1.*import the overlay again"):
            await add_endpoint(client, prefix, endpoint(**on_tor1("x", 1, 1, 100)))

    run(etcd, body)
