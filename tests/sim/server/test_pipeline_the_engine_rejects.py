"""SetForwardingPipelineConfig with a program the front end accepts but the engine cannot run.

The real front end and the real engine stand behind a real server here: the engine's
EngineError (which names file:line:col) must come back as INVALID_ARGUMENT, not as an
exception escaping the servicer, and the pipeline that was running must stay.
"""

from __future__ import annotations

import grpc
import pytest
from finsy.proto import p4r

from p4sim.compiler import compile_source
from p4sim.device_config import make_device_config
from p4sim.ports import InProcessPorts
from tests.sim.p4sim_switch_support import engine_switch

SAC = p4r.SetForwardingPipelineConfigRequest
HEAD = """#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { bit<8> m8; }
struct dg_t { bit<48> src; bit<8> m8; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; digest<dg_t>(1, {hdr.eth.src, meta.m8}); }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
"""
TAIL = """
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""
GOOD = HEAD + "    apply { }" + TAIL
# v1model's resubmit belongs to ingress (p4c-bm2-ss rejects it elsewhere); p4sim's front end
# takes it in egress too and its engine refuses it there.
BAD_LINE = HEAD.count("\n") + 1
BAD = HEAD + "    apply { resubmit_preserving_field_list(0); }" + TAIL


def _config(source: str, filename: str):
    p4info = compile_source(source, filename=filename).p4info()
    return p4info, make_device_config(source, filename, p4info).to_bytes()


@pytest.fixture
def server():
    with engine_switch(InProcessPorts()) as (sw, client):
        yield sw, client


@pytest.mark.parametrize("action", [SAC.VERIFY, SAC.VERIFY_AND_COMMIT])
def test_engine_error_is_invalid_argument_naming_the_place(server, action):
    sw, client = server
    good_info, good_config = _config(GOOD, "good.p4")
    client.set_pipeline(good_info, good_config)
    running = sw.config
    bad_info, bad_config = _config(BAD, "egress_resubmit.p4")
    with pytest.raises(grpc.RpcError) as ei:
        client.set_pipeline(bad_info, bad_config, action=action)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = ei.value.details()
    assert f"egress_resubmit.p4:{BAD_LINE}:" in details, details
    assert "resubmit" in details
    assert sw.config is running  # the old pipeline keeps running
    # and the server still serves: the good program can be set again
    client.set_pipeline(good_info, good_config)
