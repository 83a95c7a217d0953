"""Per-update Write errors for large batches: nve's client against a p4sim over real gRPC.

One bad update among 10,000 comes back with its index and reason while the rest are
applied (the trailer of ~350 KB fits the client's metadata limit). When a Write's answer
loses its per-update details anyway (here: a client whose metadata limit is far too small),
the client reads the switch back to tell which updates took effect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from finsy.proto import p4i, p4r

from nve import p4rt_client
from nve.p4rt_client import SwitchClient, WriteResult
from p4sim.compiler import compile_source
from p4sim.device_config import make_device_config
from p4sim.ports import InProcessPorts
from p4sim.server import P4RuntimeServer
from p4sim.switch import Switch

DEVICE = 1
FILENAME = "big_table.p4"
SOURCE = """#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table hosts {
        key = { hdr.eth.dst: exact; }
        actions = { fwd; NoAction; }
        size = 16384;
        default_action = NoAction();
    }
    apply { hosts.apply(); }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""
SMALL_METADATA = 4096  # bytes: the details of ~100 updates at most
INSERT, MODIFY, DELETE = p4r.Update.INSERT, p4r.Update.MODIFY, p4r.Update.DELETE


@dataclass
class Pipeline:
    p4info: p4i.P4Info
    device_config: bytes
    table_id: int
    action_id: int


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    info = compile_source(SOURCE, filename=FILENAME).p4info()
    config = make_device_config(SOURCE, FILENAME, info).to_bytes()
    (table,) = [t for t in info.tables if t.preamble.name.endswith("hosts")]
    (action,) = [a for a in info.actions if a.preamble.name.endswith("fwd")]
    return Pipeline(info, config, table.preamble.id, action.preamble.id)


@pytest.fixture
def address() -> Iterator[str]:
    sw = Switch(device_id=DEVICE, ports=InProcessPorts())
    sw.start()
    srv = P4RuntimeServer(sw, "127.0.0.1:0").start()
    try:
        yield srv.address
    finally:
        srv.stop()
        sw.stop()


def _bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def host(p: Pipeline, mac: int, port: int | None = None) -> p4r.Entity:
    te = p4r.TableEntry(table_id=p.table_id)
    te.match.add(field_id=1).exact.value = _bytes(mac)
    if port is not None:
        te.action.action.action_id = p.action_id
        te.action.action.params.add(param_id=1, value=_bytes(port))
    return p4r.Entity(table_entry=te)


def update(kind: p4r.Update.Type.ValueType, entity: p4r.Entity) -> p4r.Update:
    return p4r.Update(type=kind, entity=entity)


async def installed(client: SwitchClient, p: Pipeline) -> dict[int, int]:
    """MAC -> port of every entry the switch holds."""
    got = await client.read_all([p4r.Entity(table_entry=p4r.TableEntry(table_id=p.table_id))])
    return {
        int.from_bytes(e.table_entry.match[0].exact.value, "big"): int.from_bytes(
            e.table_entry.action.action.params[0].value, "big"
        )
        for e in got
    }


@contextlib.asynccontextmanager
async def primary(address: str, p: Pipeline) -> AsyncIterator[SwitchClient]:
    async with SwitchClient(address, DEVICE, 1) as client:
        assert client.is_primary
        await client.set_pipeline(p.p4info, p.device_config, cookie=1)
        yield client


@pytest.mark.parametrize("chunk", [None, 3000])
def test_one_bad_update_among_10000_is_reported_alone(address, pipeline, chunk):
    bad = 6543
    updates = [update(INSERT, host(pipeline, 0x1000 + i, port=i % 500)) for i in range(10_000)]
    updates[bad] = update(INSERT, host(pipeline, 0x1000 + 17, port=1))  # entry 17 again

    async def run() -> tuple[WriteResult, dict[int, int]]:
        async with primary(address, pipeline) as client:
            result = await client.write_chunked(updates, list, chunk=chunk)
            return result, await installed(client, pipeline)

    result, now = asyncio.run(run())
    assert result.attempted == 10_000
    assert [(e.index, e.code_name) for e in result.errors] == [(bad, "ALREADY_EXISTS")]
    assert "already exists" in result.errors[0].message
    assert result.errors[0].entity == updates[bad].entity
    # The other 9,999 are applied, each as written.
    assert len(now) == 9_999
    assert all(now[0x1000 + i] == i % 500 for i in range(10_000) if i != bad)


def test_write_without_details_is_attributed_by_reading_back(
    address, pipeline, monkeypatch: pytest.MonkeyPatch
):
    before = {0x2000 + i: 7 for i in range(300)}
    updates = (
        [update(INSERT, host(pipeline, 0x9000 + i, port=3)) for i in range(100)]  # 0-99 applied
        + [update(INSERT, host(pipeline, 0x2000 + 5, port=9))]  # 100: exists with port 7
        + [update(INSERT, host(pipeline, 0x9999, port=1 << 12))]  # 101: port wider than 9 bits
        + [update(MODIFY, host(pipeline, 0x2000 + i, port=4)) for i in range(10, 110)]
        + [update(MODIFY, host(pipeline, 0x7777, port=4))]  # 202: no such entry
        + [update(DELETE, host(pipeline, 0x2000 + i)) for i in range(200, 300)]  # applied
        + [update(DELETE, host(pipeline, 0x8888))]  # 303: absent before and after
    )

    async def run() -> tuple[WriteResult, dict[int, int]]:
        async with primary(address, pipeline) as client:
            setup = await client.write(
                [update(INSERT, host(pipeline, m, p)) for m, p in before.items()]
            )
            assert setup.ok, setup.errors
        small = [
            ("grpc.max_metadata_size", SMALL_METADATA),
            ("grpc.absolute_max_metadata_size", SMALL_METADATA),
        ]
        with monkeypatch.context() as m:  # only this client's channel takes the small limit
            kept = [o for o in p4rt_client.GRPC_OPTIONS if "metadata" not in o[0]]
            m.setattr(p4rt_client, "GRPC_OPTIONS", kept + small)
            client = SwitchClient(address, DEVICE, 1)
            await client.open()
        try:
            return await client.write(updates), await installed(client, pipeline)
        finally:
            await client.close()

    result, now = asyncio.run(run())
    failed = {e.index: e.message for e in result.errors}
    assert sorted(failed) == [100, 101, 202], failed
    assert "RESOURCE_EXHAUSTED" in failed[100]  # the Write's own answer, without details
    assert failed[100].endswith(
        "read back: INSERT: the switch holds the entity with other contents"
    )
    assert failed[101].endswith("read back: INSERT: the entity is absent from the switch")
    assert failed[202].endswith("read back: MODIFY: the entity is absent from the switch")
    # The switch's state agrees: what was reported applied is there.
    assert all(now[0x9000 + i] == 3 for i in range(100))
    assert now[0x2005] == 7 and 0x9999 not in now and 0x7777 not in now
    assert all(now[0x2000 + i] == 4 for i in range(10, 110))
    assert not any(0x2000 + i in now for i in range(200, 300))
