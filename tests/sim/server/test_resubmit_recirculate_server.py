"""Resubmit and recirculate behind the real P4Runtime server, compiler and engine.

One frame in: the first ingress pass clones it to a session written over P4Runtime (with a
class of service, which bmv2 simple_switch ignores), sends a digest and resubmits; the
resubmitted pass forwards it; egress recirculates it once; the recirculated pass forwards it
again, to the port the test reads (simple_switch.cpp ingress_thread, egress_thread).
"""

from __future__ import annotations

import pytest
from finsy.proto import p4r

from p4sim.compiler import compile_source
from p4sim.device_config import make_device_config
from p4sim.ports import InProcessPorts
from tests.sim.p4sim_switch_support import engine_switch, update

SOURCE = """#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<8> itype; bit<8> keep; bit<8> passes; bit<8> eg_itype; }
struct headers_t { eth_t eth; tag_t tag; }
struct meta_t { @field_list(1) bit<8> keep; @field_list(1) bit<8> passes; }
struct dg_t { bit<48> src; bit<8> passes; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.tag); transition accept; }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        meta.passes = meta.passes + 1;
        if (sm.instance_type == 0) {
            meta.keep = 0x5A;
            clone(CloneType.I2E, 32w3);
            digest<dg_t>(1, {hdr.eth.src, meta.passes});
            resubmit_preserving_field_list(1);
        } else {
            hdr.tag.itype = (bit<8>)sm.instance_type;
            hdr.tag.keep = meta.keep;
            hdr.tag.passes = meta.passes;
            sm.egress_spec = 2;
        }
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.tag.eg_itype = (bit<8>)sm.instance_type;
        if (sm.instance_type == 0 && hdr.tag.itype == 6) { recirculate_preserving_field_list(1); }
    }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.tag); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""

ETH = bytes.fromhex("0200000000020200000000018888")


@pytest.fixture
def env():
    ports = InProcessPorts()
    with engine_switch(ports) as (_sw, client):
        yield client, ports


def test_resubmit_then_recirculate_through_the_server(env):
    client, ports = env
    program = compile_source(SOURCE, filename="reentry.p4")
    p4info = program.p4info()
    client.set_pipeline(p4info, make_device_config(SOURCE, "reentry.p4", p4info).to_bytes())
    client.write(
        update(
            "INSERT",
            p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry(
                    session_id=3, replicas=[p4r.Replica(port=b"\x07")], class_of_service=5
                )
            ),
        )
    )
    digest_id = p4info.digests[0].preamble.id
    client.write(
        update(
            "INSERT",
            p4r.DigestEntry(
                digest_id=digest_id,
                config=p4r.DigestEntry.Config(
                    max_timeout_ns=0, max_list_size=1, ack_timeout_ns=10**10
                ),
            ),
        )
    )

    ports.inject(1, ETH + bytes(4) + b"data")
    # the clone: the received packet, instance_type 1 in egress, class of service ignored
    assert ports.receive(7) == ETH + bytes([0, 0, 0, 1]) + b"data"
    # pass 1 resubmits; pass 2 (instance_type 6) forwards and its egress recirculates; pass 3
    # (instance_type 4) forwards: the field list carried keep and the pass count through
    assert ports.receive(2) == ETH + bytes([4, 0x5A, 3, 0]) + b"data"
    assert ports.receive(2, timeout=0.2) is None
    dl = client.next("digest").digest
    [data] = dl.data
    assert [m.bitstring for m in data.struct.members] == [bytes.fromhex("020000000001"), b"\x01"]
