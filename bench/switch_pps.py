"""p4sim as a switch: packets/s between veths on the NVGRE encap and decap paths.

One p4sim process runs the NVGRE program (small profile) on two veth pairs: port 1 is an
access port with a local customer endpoint, port 2 a network port toward a remote NVE.
The controller (`nve apply`) installs the overlay. A separate process offers N frames as
fast as it can on the test end of one port; this process counts what comes out of the
other, checks the first frame is what the path must produce (NVGRE toward the remote PA,
or the bare customer frame) and every later one the same, and reports forwarded packets/s from the first to the last
frame received, with the number lost (frames the kernel or the switch dropped because it
could not keep up). For scale: a default build of bmv2's simple_switch forwards about
14,000 packets/s between two veths on machines of this size.
`--quick` (or NVE_BENCH_QUICK=1) offers fewer frames. Needs root.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import GRE, Ether

from bench._p4sim import proc_stats, quick
from nve_ptf.netns import TestNetwork, can_create_interfaces
from nve_ptf.targets import compile_pipeline, start_switch

SO_RCVBUFFORCE = 33
VSID = 0x001001
NVE_MAC, SPINE_MAC = "02:00:0a:00:00:01", "02:00:0b:00:00:01"
LOCAL_MAC, FAR_MAC = "52:54:00:00:00:01", "52:54:00:00:00:02"
LOCAL_PA, FAR_PA = "10.0.0.1", "10.0.0.2"

OVERLAY = """
switches:
  - name: s1
    address: {address}
    device_id: 0
    election_id: 1
    pipeline: {{p4info: {p4info}, device_config: {device_config}}}
    nve_mac: "{nve_mac}"
    local_pas: [{local_pa}]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: network}}
    next_hops: [{{name: spine, port: 2, mac: "{spine_mac}"}}]
    underlay_routes: [{{prefix: 10.0.0.0/16, via: spine}}]
tenants:
  - name: t
    vrf: 1
    subnets: [{{name: s, vsid: {vsid}}}]
endpoints:
  - {{name: near, vsid: {vsid}, mac: "{local_mac}", ipv4: 192.168.1.1, attachment: {{switch: s1, port: 1}}}}
  - {{name: far, vsid: {vsid}, mac: "{far_mac}", ipv4: 192.168.1.2, attachment: {{remote_nve: hv}}}}
remote_nves:
  - {{name: hv, pa: {far_pa}, vsids: [{vsid}]}}
"""

SENDER = textwrap.dedent("""
    import socket, sys
    ifname, frame, count = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    send = s.send
    for _ in range(count):
        send(frame)
""")


def customer_frame() -> bytes:
    return bytes(
        Ether(src=LOCAL_MAC, dst=FAR_MAC)
        / IP(src="192.168.1.1", dst="192.168.1.2")
        / UDP(sport=40000, dport=5001)
        / bytes(64)
    )


def nvgre_frame() -> bytes:
    inner = (
        Ether(src=FAR_MAC, dst=LOCAL_MAC)
        / IP(src="192.168.1.2", dst="192.168.1.1")
        / UDP(sport=5001, dport=40000)
        / bytes(64)
    )
    return bytes(
        Ether(src=SPINE_MAC, dst=NVE_MAC)
        / IP(src=FAR_PA, dst=LOCAL_PA, flags="DF", ttl=63)
        / GRE(key_present=1, proto=0x6558, key=VSID << 8)
        / inner
    )


def measure(
    tx_if: str, rx_if: str, frame: bytes, count: int, looks_right
) -> tuple[int, float, bool]:
    """Offer ``count`` frames on tx_if from another process; return (received, pps, all ok):
    all ok when the first frame out is what the path must produce and every other frame
    out is the same (the same frame is offered every time).

    The receiver drains its socket, then sleeps a millisecond: woken for every frame, it
    would cost the switch a cross-CPU wake-up per frame (or share its core), and the figure
    would measure the receiver.  Its buffer holds every frame of a run, so nothing is lost
    on this side; the timestamps are taken per drained batch (within a millisecond).
    """
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    rx.bind((rx_if, 0))
    try:
        rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    except OSError:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 20)
    rx.setblocking(False)
    sender = subprocess.Popen([sys.executable, "-c", SENDER, tx_if, frame.hex(), str(count)])
    got, first_ok, t_first, t_last, first = 0, False, 0.0, 0.0, b""
    idle_since = time.perf_counter()
    try:
        while got < count and time.perf_counter() - idle_since < 2.0:
            batch = 0
            while True:
                try:
                    data, addr = rx.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == 4:  # PACKET_OUTGOING
                    continue
                if got == 0:
                    t_first, first_ok, first = time.perf_counter(), looks_right(data), data
                elif data != first:
                    first_ok = False
                got += 1
                batch += 1
            if batch:
                t_last = idle_since = time.perf_counter()
            else:
                time.sleep(0.001)
    finally:
        sender.wait(timeout=60)
        rx.close()
    pps = (got - 1) / (t_last - t_first) if got > 1 and t_last > t_first else 0.0
    return got, pps, first_ok


def main() -> None:
    why = can_create_interfaces()
    if why is not None:
        print(f"  skipped: {why}")
        return
    count = 3_000 if quick() else 30_000
    with TestNetwork() as net, tempfile.TemporaryDirectory() as tmp:
        pairs = [net.veth_pair(1), net.veth_pair(2)]
        pipeline = compile_pipeline("p4sim", Path(tmp), {"NVE_PROFILE_SMALL": ""})
        switch = start_switch("p4sim", pairs, pipeline, Path(tmp))
        try:
            overlay = Path(tmp) / "overlay.yaml"
            overlay.write_text(
                OVERLAY.format(
                    address=switch.grpc_addr,
                    p4info=pipeline.p4info,
                    device_config=pipeline.device_config,
                    nve_mac=NVE_MAC,
                    spine_mac=SPINE_MAC,
                    local_pa=LOCAL_PA,
                    far_pa=FAR_PA,
                    vsid=VSID,
                    local_mac=LOCAL_MAC,
                    far_mac=FAR_MAC,
                )
            )
            nve = str(Path(sys.executable).with_name("nve"))
            applied = subprocess.run(
                [nve, "apply", str(overlay)], check=False, capture_output=True, text=True
            )
            if applied.returncode != 0:
                raise RuntimeError(f"nve apply failed: {applied.stderr or applied.stdout}")
            access, network = pairs[0].test_if, pairs[1].test_if

            def is_nvgre(data: bytes) -> bool:
                p = Ether(data)
                return GRE in p and p[GRE].key >> 8 == VSID and p[IP].dst == FAR_PA

            def is_customer(data: bytes) -> bool:
                return data == bytes(Ether(nvgre_frame())[GRE].payload)

            cpu0 = proc_stats(switch.proc.pid).cpu_s
            for name, tx, rx, frame, check in (
                ("encap", access, network, customer_frame(), is_nvgre),
                ("decap", network, access, nvgre_frame(), is_customer),
            ):
                got, pps, ok = measure(tx, rx, frame, count, check)
                if not ok:
                    print(
                        f"  {name}: WRONG frames came out ({got:,} of {count:,} frames out): no rate reported"
                    )
                    continue
                print(
                    f"  {name}: {pps:,.0f} packets/s forwarded between veths "
                    f"({got:,} of {count:,} frames out, {count - got:,} lost; every frame correct)"
                )
            cpu = proc_stats(switch.proc.pid).cpu_s - cpu0
            print(
                f"  p4sim CPU time for {2 * count:,} offered frames: {cpu:.1f} s "
                f"({cpu / (2 * count) * 1e6:.0f} us per frame)"
            )
        finally:
            switch.stop()


if __name__ == "__main__":
    main()
