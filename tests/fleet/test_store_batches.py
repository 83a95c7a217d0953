"""Batches of endpoint changes against a real etcd: one transaction for many changes,
each checked against the ones before it, refusals alone, splits at etcd's limits."""

from __future__ import annotations

import asyncio

import pytest

from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import (
    Add,
    ChangeRefused,
    ChangeResult,
    EndpointChange,
    Limits,
    Move,
    Remove,
    change_endpoints,
    move_endpoint,
)
from nve.store.etcd import MAX_TXN_OPS, Etcd, Put, WatchedChange
from nve.store.importer import import_overlay
from nve.store.incremental import apply_changes
from nve.store.keys import Root
from nve.store.reader import current_generation, read_overlay
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import EXAMPLE, check_indexes, endpoint, run

WEB = 0x001001
TOR1_V100 = LocalAttachment(switch="tor1", port=1, vlan=100)
TOR2_UNTAGGED = LocalAttachment(switch="tor2", port=1)


def web(i: int, att: LocalAttachment = TOR1_V100) -> Add:
    return Add(
        endpoint(
            name=f"b{i}",
            vsid=WEB,
            mac=f"52:54:00:b1:05:{i:02x}",
            ipv4=f"192.168.10.{100 + i}",
            attachment=att.model_dump(),
        )
    )


def committed(results: list[ChangeResult | ChangeRefused]) -> list[ChangeResult]:
    assert all(isinstance(r, ChangeResult) for r in results), results
    return [r for r in results if isinstance(r, ChangeResult)]


def test_a_batch_of_adds_is_one_transaction_in_the_order_given(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    adds = [web(i) for i in range(20)]  # its reads exceed one transaction's operations

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        before = await client.revision()
        results = committed(await change_endpoints(client, prefix, adds))
        assert {r.revision for r in results} == {before + 1}
        assert {r.attempts for r in results} == {1}
        overlay = await check_indexes(client, prefix)
        assert [e.name for e in overlay.endpoints][-20:] == [a.name for a in adds]

    run(etcd, body)


def test_a_refused_change_stays_out_and_the_others_commit(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    dup = Add(
        endpoint(
            name="dup",
            vsid=WEB,
            mac="52:54:00:b1:00:01",  # blue-web1's
            ipv4="192.168.10.99",
            attachment=TOR1_V100.model_dump(),
        )
    )

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        batch: list[EndpointChange] = [
            web(1),
            dup,
            Move("nobody", TOR2_UNTAGGED),
            web(2),
        ]
        r = await change_endpoints(client, prefix, batch)
        assert isinstance(r[0], ChangeResult) and isinstance(r[3], ChangeResult)
        assert r[0].revision == r[3].revision
        assert isinstance(r[1], ChangeRefused)
        assert r[1].reasons == [
            "MAC 52:54:00:b1:00:01 is already in VSID 0x001001 (endpoint blue-web1)"
        ]
        assert isinstance(r[2], ChangeRefused) and r[2].reasons == ["no endpoint nobody"]
        overlay = await check_indexes(client, prefix)
        names = {e.name for e in overlay.endpoints}
        assert {"b1", "b2"} <= names and "dup" not in names

    run(etcd, body)


def test_each_change_is_checked_against_the_ones_before_it(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    red_port = LocalAttachment(switch="tor2", port=2)  # red-app2's, untagged

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        # The port is red's until red-app2 goes: in that order, blue may take it.
        r = await change_endpoints(client, prefix, [Remove("red-app2"), web(1, red_port)])
        assert len({c.revision for c in committed(r)}) == 1
        # The first of two endpoints with one MAC takes it; the second is refused.
        r = await change_endpoints(
            client, prefix, [web(3, red_port), Add(endpoint(**{**_fields(4), "mac": _mac(3)}))]
        )
        assert isinstance(r[0], ChangeResult)
        assert isinstance(r[1], ChangeRefused)
        assert r[1].reasons == [f"MAC {_mac(3)} is already in VSID 0x001001 (endpoint b3)"]
        await check_indexes(client, prefix)

    run(etcd, body)


def _mac(i: int) -> str:
    return f"52:54:00:b1:05:{i:02x}"


def _fields(i: int) -> dict[str, object]:
    return {
        "name": f"b{i}",
        "vsid": WEB,
        "mac": _mac(i),
        "ipv4": f"192.168.10.{100 + i}",
        "attachment": TOR1_V100.model_dump(),
    }


def test_a_batch_beyond_one_transaction_commits_in_order(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    small = Limits(ops=16)  # a server configured with --max-txn-ops 16

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        adds = [web(i) for i in range(30)]
        names = {a.name for a in adds}
        revisions = [
            r.revision
            for r in committed(await change_endpoints(client, prefix, adds, limits=small))
        ]
        assert revisions == sorted(revisions) and len(set(revisions)) > 1
        moves: list[EndpointChange] = [Move(a.name, TOR2_UNTAGGED) for a in adds]
        revisions = [
            r.revision
            for r in committed(await change_endpoints(client, prefix, moves, limits=small))
        ]
        assert revisions == sorted(revisions) and len(set(revisions)) > 1
        overlay = await check_indexes(client, prefix)
        assert {e.attachment for e in overlay.endpoints if e.name in names} == {TOR2_UNTAGGED}

    run(etcd, body)


def test_an_endpoint_named_twice_is_refused_before_anything_is_read(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        before = await client.revision()
        with pytest.raises(
            ValueError, match=r"endpoint b1 is changed twice in one batch \(changes 0 and 2\)"
        ):
            await change_endpoints(client, prefix, [web(1), web(2), Remove("b1")])
        assert await client.revision() == before

    run(etcd, body)


def test_concurrent_batches_never_pass_a_switchs_limit(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)  # tor1 holds 3 local endpoints
    limit = 6

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded, max_local_endpoints=limit)
        batches = [[web(5 * b + i) for i in range(5)] for b in range(4)]
        outcomes = await asyncio.gather(*(change_endpoints(client, prefix, b) for b in batches))
        flat = [r for o in outcomes for r in o]
        assert sum(isinstance(r, ChangeResult) for r in flat) == 3, flat
        refused = [r for r in flat if isinstance(r, ChangeRefused)]
        assert len(refused) == 17
        assert all("switch tor1 already holds 6 local endpoints" in str(r) for r in refused)
        await check_indexes(client, prefix, limit)

    run(etcd, body)


def test_a_move_neither_writes_nor_compares_the_keys_it_keeps(etcd: EtcdServer) -> None:
    """Its MAC and CA stay its own: writing them again would make every move conflict
    with nothing and cost etcd a write each."""
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        gen = Root(prefix).generation((await current_generation(client, prefix))[0])
        kept = [gen.mac(WEB, "52:54:00:b1:00:01"), gen.ca(WEB, "192.168.10.11")]
        _, before = await client.get_many(kept)
        assert set(before) == set(kept)
        await move_endpoint(client, prefix, "blue-web1", TOR2_UNTAGGED)
        _, after = await client.get_many(kept)
        assert after == before
        await check_indexes(client, prefix)

    run(etcd, body)


def test_get_many_beyond_one_transaction_reads_one_revision(etcd: EtcdServer) -> None:
    async def body(client: Etcd, prefix: str) -> None:
        keys = [f"{prefix}/k{i:04d}".encode() for i in range(3 * MAX_TXN_OPS)]
        for start in range(0, len(keys), MAX_TXN_OPS):
            await client.txn([], [Put(k, b"1") for k in keys[start : start + MAX_TXN_OPS]])
        # The first and the last key change together, between the transactions of reads.
        writing = asyncio.create_task(_keep_writing(client, [keys[0], keys[-1]]))
        try:
            for _ in range(20):
                revision, found = await client.get_many(keys)
                assert set(found) == set(keys)
                assert found[keys[0]].value == found[keys[-1]].value
                assert found[keys[0]].mod_revision <= revision
        finally:
            writing.cancel()

    run(etcd, body)


async def _keep_writing(client: Etcd, keys: list[bytes]) -> None:
    n = 0
    while True:
        n += 1
        await client.txn([], [Put(k, str(n).encode()) for k in keys])


def test_a_follower_sees_a_batch_as_a_full_read_does(etcd: EtcdServer) -> None:
    """The watch reports a transaction's changes in the order of its operations; the
    endpoints a batch adds follow in the order given, whether applied from the watch
    (nve.store.incremental) or read whole (their records' `at`)."""
    loaded = load_overlay(EXAMPLE)
    adds = [web(i) for i in (7, 3, 12, 1, 9)]  # not in name order

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        before = await read_overlay(client, prefix)
        batch: list[EndpointChange] = [*adds, Move("blue-web1", TOR2_UNTAGGED), Remove("red-app2")]
        committed(await change_endpoints(client, prefix, batch))
        # a key after the batch marks the end of what to watch (index keys are skipped)
        gen = Root(prefix).generation(before.generation)
        end = gen.prefix + b"idx/end-of-test"
        await client.txn([], [Put(end, b"")])
        seen: list[WatchedChange] = []
        async for ch in client.watch_changes(gen.prefix, before.revision + 1):
            if ch.key == end:
                break
            seen.append(ch)
        got = apply_changes(before.loaded.overlay, prefix, before.generation, seen)
        after = await read_overlay(client, prefix)
        assert got.overlay == after.loaded.overlay
        assert [e.name for e in after.loaded.overlay.endpoints][-5:] == [a.name for a in adds]

    run(etcd, body)


def test_an_atomic_batch_commits_all_or_nothing(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        await import_overlay(client, prefix, loaded)
        before = await client.revision()
        bad: list[EndpointChange] = [web(1), Move("nobody", TOR2_UNTAGGED), web(2)]
        with pytest.raises(ChangeRefused) as err:
            await change_endpoints(client, prefix, bad, atomic=True)
        assert err.value.reasons == [
            "changes[1] (move nobody): no endpoint nobody",
            "nothing changed (all or nothing)",
        ]
        with pytest.raises(ChangeRefused, match="needs more than one transaction"):
            await change_endpoints(
                client, prefix, [web(i) for i in range(10)], atomic=True, limits=Limits(ops=16)
            )
        assert await client.revision() == before
        results = committed(await change_endpoints(client, prefix, [web(1), web(2)], atomic=True))
        assert len({r.revision for r in results}) == 1
        await check_indexes(client, prefix)

    run(etcd, body)
