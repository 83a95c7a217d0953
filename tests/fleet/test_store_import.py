"""`nve import` into a real etcd: round trip, rejected descriptions, batching, replacement."""

from __future__ import annotations

import asyncio

import pytest

from nve.loader import OverlayError, load_overlay, parse_overlay
from nve.store.etcd import Etcd, Put, StoreError, op_size
from nve.store.importer import ImportResult, batches, import_overlay
from nve.store.keys import Root
from nve.store.reader import read_overlay
from tests.fleet.etcd_server import EtcdServer, etcd_binary, running_etcd
from tests.fleet.store_util import EXAMPLE, check_indexes, run


def test_round_trip_equals_the_loaded_description(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        result = await import_overlay(client, prefix, loaded)
        stored = await read_overlay(client, prefix)
        assert stored.generation == result.generation
        assert stored.loaded.overlay == loaded.overlay
        assert stored.loaded.base_dir == loaded.base_dir
        await check_indexes(client, prefix)

    run(etcd, body)


def test_small_transactions_give_the_same_overlay(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)

    async def body(client: Etcd, prefix: str) -> None:
        result = await import_overlay(client, prefix, loaded, max_ops=3, in_flight=2)
        assert result.transactions > result.keys // 3
        assert (await read_overlay(client, prefix)).loaded.overlay == loaded.overlay

    run(etcd, body)


def test_rejected_description_leaves_the_current_overlay(etcd: EtcdServer) -> None:
    good = load_overlay(EXAMPLE)
    text = EXAMPLE.read_text().replace("vsid: 0x002001", "vsid: 0x001001")
    bad = parse_overlay(text, "bad.yaml")

    async def body(client: Etcd, prefix: str) -> None:
        first = await import_overlay(client, prefix, good)
        before = await client.revision()
        with pytest.raises(OverlayError) as err:
            await import_overlay(client, prefix, bad)
        assert "bad.yaml:" in str(err.value) and "0x001001 is already used" in str(err.value)
        assert await client.revision() == before  # nothing written at all
        stored = await read_overlay(client, prefix)
        assert stored.generation == first.generation
        assert stored.loaded.overlay == good.overlay

    run(etcd, body)


def test_a_new_import_replaces_the_old_generation(etcd: EtcdServer) -> None:
    loaded = load_overlay(EXAMPLE)
    smaller = parse_overlay(
        EXAMPLE.read_text().split("\nroutes:")[0], "smaller.yaml", loaded.base_dir
    )

    async def body(client: Etcd, prefix: str) -> None:
        first = await import_overlay(client, prefix, loaded)
        second = await import_overlay(client, prefix, smaller)
        assert second.previous == first.generation
        stored = await read_overlay(client, prefix)
        assert stored.loaded.overlay == smaller.overlay
        _, left = await client.get_many([], [Root(prefix).gen_prefix(first.generation)])
        assert left == {}

    run(etcd, body)


def test_reading_an_empty_store_says_how_to_fill_it(etcd: EtcdServer) -> None:
    async def body(client: Etcd, prefix: str) -> None:
        with pytest.raises(StoreError, match=r"no overlay stored under .*nve import FILE --store"):
            await read_overlay(client, prefix)

    run(etcd, body)


def test_batches_stay_within_etcd_limits() -> None:
    records = [(f"/k/{i:05d}".encode(), b"x" * (i % 700)) for i in range(2000)]
    out = list(batches(records, max_ops=128, max_bytes=64 * 1024))
    assert [op for b in out for op in b] == [Put(k, v) for k, v in records]
    for b in out:
        assert len(b) <= 128
        assert sum(op_size(op) for op in b) <= 64 * 1024


def test_a_record_too_large_for_one_request_is_named() -> None:
    with pytest.raises(StoreError, match=r"/k/big: .* more than one etcd request may hold"):
        list(batches([(b"/k/big", b"x" * 70_000)], max_bytes=64 * 1024))


def test_an_import_failing_part_way_leaves_no_trace() -> None:
    """An etcd that refuses requests over 1,200 bytes takes the first transactions (one
    record each) and refuses the first switch's: the import fails after writing some."""
    if etcd_binary() is None:
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    good = load_overlay(EXAMPLE)
    smaller = parse_overlay("tenants:\n  - {name: t, vrf: 1}\n", "smaller.yaml")

    async def body(client: Etcd, prefix: str) -> None:
        first = await import_overlay(client, prefix, smaller, max_ops=1)
        with pytest.raises(StoreError, match="request is too large"):
            await import_overlay(client, prefix, good, max_ops=1, in_flight=1)
        stored = await read_overlay(client, prefix)
        assert stored.generation == first.generation
        assert stored.loaded.overlay == smaller.overlay
        _, gens = await client.get_many([], [f"{prefix}/gen/".encode()])
        assert {k.split(b"/")[3] for k in gens} == {first.generation.encode()}

    with running_etcd("--max-request-bytes=1200") as server:
        run(server, body)


def test_of_two_racing_imports_one_becomes_current_the_other_leaves_nothing(
    etcd: EtcdServer,
) -> None:
    one = load_overlay(EXAMPLE)
    two = parse_overlay(EXAMPLE.read_text().split("\nroutes:")[0], "two.yaml", one.base_dir)

    async def body(client: Etcd, prefix: str) -> None:
        outcomes = await asyncio.gather(
            import_overlay(client, prefix, one),
            import_overlay(client, prefix, two),
            return_exceptions=True,
        )
        won = [o for o in outcomes if isinstance(o, ImportResult)]
        lost = [o for o in outcomes if isinstance(o, StoreError)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert "another import became current" in str(lost[0])
        stored = await read_overlay(client, prefix)
        assert stored.generation == won[0].generation
        _, gens = await client.get_many([], [f"{prefix}/gen/".encode()])
        assert {k.split(b"/")[3] for k in gens} == {won[0].generation.encode()}
        await check_indexes(client, prefix)

    run(etcd, body)


def test_a_scan_reads_every_key_in_order_with_pages_that_shrink_with_what_is_left(
    etcd: EtcdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """etcd 3.4 counts every key from a page's start to the range end, so fixed pages cost
    the square of the keys; a page is an eighth of what is left (at least `page`)."""
    keys = [f"k{i:05d}".encode() for i in range(5000)]

    async def body(client: Etcd, prefix: str) -> None:
        base = f"{prefix}/scan/".encode()
        for i in range(0, len(keys), 128):
            await client.txn([], [Put(base + k, b"v") for k in keys[i : i + 128]])
        revision = await client.revision()
        limits: list[int] = []
        call = client._call

        async def counting(method: str, request: object) -> object:
            if method == "Range":
                limits.append(int(request.limit))  # type: ignore[attr-defined]
            return await call(method, request)

        monkeypatch.setattr(client, "_call", counting)
        got = [kv.key async for kv in client.scan(base, revision, page=50)]
        assert got == [base + k for k in keys]
        assert limits[0] == 50 and max(limits) > 500  # fixed pages of 50: 100 requests
        assert len(limits) < 50, limits

    run(etcd, body)
