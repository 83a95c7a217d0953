"""A running ``p4sim --no-p4`` and hostile device configs for the untrusted-config tests."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from finsy.proto import p4r, p4r_grpc

from p4sim.compiler import compile_source
from p4sim.device_config import make_device_config

P4SIM = str(Path(sys.executable).with_name("p4sim"))

MINI = """#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { ethernet_t eth; }
struct meta_t { }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table l2 { key = { hdr.eth.dst : exact; } actions = { fwd; NoAction; } size = 64; }
    apply { l2.apply(); }
}
control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
"""


def mini_p4info() -> Any:
    return compile_source(MINI, filename="mini.p4").p4info()


def bundle(source: str, p4info: Any, filename: str = "mini.p4", **files: str) -> bytes:
    """A device config for ``source`` claiming ``p4info`` (its digest: the client's word)."""
    return make_device_config(source, filename, p4info, files or None).to_bytes()


def raw_config(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode("utf-8")


@contextmanager
def running_p4sim(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``p4sim --no-p4 ARGS``, its process and its P4Runtime address; stopped afterwards."""
    proc = subprocess.Popen(
        [P4SIM, "--no-p4", *args, "--", "--grpc-server-addr", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    address = None
    for _ in range(50):
        line = proc.stderr.readline()
        m = re.search(r"P4Runtime on (\S+),", line)
        if m:
            address = m.group(1)
            break
        if not line:
            break
    if address is None:
        proc.kill()
        raise AssertionError("p4sim did not start")
    try:
        yield proc, address
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def big_program(statements: int) -> str:
    """MINI with ``statements`` more statements in its ingress (slow to compile when large)."""
    body = "\n".join(
        f"        sm.egress_spec = sm.egress_spec + {i % 7};" for i in range(statements)
    )
    return MINI.replace("apply { l2.apply(); }", "apply {\n" + body + "\n        l2.apply(); }")


def set_pipeline(addr: str, p4info: Any, config: bytes, timeout: float = 120) -> None:
    """VERIFY_AND_COMMIT on device 0 over a fresh channel; raises grpc.RpcError."""
    with grpc.insecure_channel(addr, options=[("grpc.max_send_message_length", -1)]) as ch:
        req = p4r.SetForwardingPipelineConfigRequest(
            device_id=0, action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT
        )
        req.config.p4info.CopyFrom(p4info)
        req.config.p4_device_config = config
        p4r_grpc.P4RuntimeStub(ch).SetForwardingPipelineConfig(req, timeout=timeout)


def abandon(addr: str, p4info: Any, config: bytes, after: float) -> None:
    """Send a config and give up on it after ``after`` seconds."""
    with contextlib.suppress(grpc.RpcError):
        set_pipeline(addr, p4info, config, timeout=after)


def children(pid: int) -> list[str]:
    """The pids of a process's children (of all its threads)."""
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += (task / "children").read_text().split()
    return found
