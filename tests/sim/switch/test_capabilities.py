"""A running p4sim keeps only CAP_NET_RAW once its sockets are bound (issue 19, item 5).

Read from /proc/<pid>/status of a live ``p4sim`` process, for every one of its threads;
with veth pairs, frames still cross the switch through its raw sockets afterwards.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from p4sim.capabilities import CAP_NET_RAW
from tests.sim.switch.untrusted_support import (
    P4SIM,
    abandon,
    big_program,
    bundle,
    children,
    mini_p4info,
    running_p4sim,
)
from tests.support.rawport import RawPort

pytestmark = pytest.mark.slow

NET_RAW = 1 << CAP_NET_RAW

FORWARD_TO_2 = """#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { ethernet_t eth; }
struct meta_t { }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 2; }
}
control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
"""


def _caps(status: Path) -> dict[str, int]:
    out = {}
    for line in status.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.startswith("Cap"):
            out[key] = int(value.strip(), 16)
    return out


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("capability test skipped: p4sim holds capabilities only when run as root")


def test_p4sim_keeps_only_cap_net_raw_in_every_thread():
    _needs_root()
    with running_p4sim() as (proc, _):
        main = _caps(Path(f"/proc/{proc.pid}/status"))
        assert main["CapEff"] == NET_RAW
        assert main["CapPrm"] == NET_RAW
        assert main["CapInh"] == 0
        assert main["CapBnd"] == NET_RAW
        assert main["CapAmb"] == 0
        tasks = list(Path(f"/proc/{proc.pid}/task").iterdir())
        assert len(tasks) > 1  # the gRPC server and the data plane run in threads
        for task in tasks:
            assert _caps(task / "status")["CapEff"] == NET_RAW, task.name


def test_the_compiler_child_gets_no_capability():
    _needs_root()
    info = mini_p4info()
    with running_p4sim("--compile-cpu-seconds", "600") as (proc, addr):
        assert "NoNewPrivs:\t1" in Path(f"/proc/{proc.pid}/status").read_text()
        push = threading.Thread(
            target=abandon, args=(addr, info, bundle(big_program(60_000), info), 8.0)
        )
        push.start()
        try:
            # Between fork and exec the child is still p4sim (and holds what p4sim holds):
            # the capabilities that matter are the compiler worker's, after its exec.
            caps = None
            for _ in range(200):
                for kid in children(proc.pid):
                    with contextlib.suppress(OSError):
                        if b"p4sim.compile_worker" in Path(f"/proc/{kid}/cmdline").read_bytes():
                            caps = _caps(Path(f"/proc/{kid}/status"))
                            break
                if caps is not None:
                    break
                time.sleep(0.05)
            assert caps is not None, "no compiler worker seen"
        finally:
            push.join()
        # uid 0, yet nothing: the secure bits and the bounding set deny it any capability
        assert caps["CapEff"] == 0
        assert caps["CapPrm"] == 0


@pytest.mark.root
def test_frames_still_cross_raw_socket_ports_after_the_drop(make_network, tmp_path):
    net = make_network()
    p1, p2 = net.veth_pair(1), net.veth_pair(2)
    program = tmp_path / "fwd.p4"
    program.write_text(FORWARD_TO_2)
    proc = subprocess.Popen(
        [
            P4SIM,
            str(program),
            "-i",
            f"1@{p1.switch_if}",
            "-i",
            f"2@{p2.switch_if}",
            "--",
            "--grpc-server-addr",
            "127.0.0.1:0",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for _ in range(50):
            if "P4Runtime on" in proc.stderr.readline():
                break
        assert _caps(Path(f"/proc/{proc.pid}/status"))["CapEff"] == NET_RAW
        frame = bytes.fromhex("02000000000202000000000188b5") + b"after-the-drop" + bytes(40)
        with RawPort(p1.test_if) as t1, RawPort(p2.test_if) as t2:
            t1.send(frame)
            assert t2.wait_for(lambda f: b"after-the-drop" in f, timeout=10) == frame
    finally:
        proc.terminate()
        proc.wait(timeout=15)
