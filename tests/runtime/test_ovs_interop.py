"""NVGRE interoperability with Open vSwitch: a p4sim ToR and OVS (userspace datapath) as the
remote hypervisor's NVE, through a Linux router, with no static ARP entry on the way.

Topology::

    vm1 ─port 1─ p4sim tor1 ─port 3─ spine (Linux router) ─ hv: OVS br-ul, PA 10.2.0.9/24
                 10.1.0.1/24        10.1.0.2 | 10.2.0.254      br-v5001: gre key 0x500100 ─ vm2
                 host ns: PA 10.0.0.1 on lo

The spine resolves the ToR's PA 10.0.0.1 by ARP, answered by the ToR's control-plane
host (``underlay:``, docs/underlay.md); OVS resolves the spine by ARP itself (native
tunnelling); the ToR's next hop toward OVS is the spine as the description names it. OVS
runs its own ovsdb-server and ovs-vswitchd in the hypervisor's namespace and run
directory, stopped afterwards.

(Without the spine, a ToR whose only way to OVS's PA is a neighbour its host learns by
ARP is refused by the compiler: every remote NVE needs an underlay route when `nve run`
starts, before any ARP.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from lab.ovs import OvsInstance, ovs_missing
from lab.targets import RunningSwitch, compile_pipeline, start_switch
from nve.p4info import P4Index, load_p4info
from nve.p4names import Counter, Drop
from nve.p4rt_client import SwitchClient
from nve.stats import read_counter
from tests.support.nve_run import NveRun
from tests.support.shell import sh

pytestmark = [pytest.mark.root, pytest.mark.slow]

VSID, BAD_VSID = 0x005001, 0x00BEEF
NVE_MAC, OVS_MAC = "02:00:0a:00:00:01", "02:00:0c:00:00:09"
PA, PORT_ADDR, OVS_PA = "10.0.0.1", "10.1.0.1/24", "10.2.0.9"
SPINE_TOR, SPINE_HV, SPINE_MAC = "10.1.0.2/24", "10.2.0.254/24", "02:00:0b:00:00:01"
VM1 = ("52:54:00:50:00:01", "192.168.50.1")
VM2 = ("52:54:00:50:00:02", "192.168.50.2")
BROADCAST = "192.168.50.255"


@dataclass
class Fabric:
    switch: RunningSwitch
    ovs: OvsInstance
    vm1: tuple[str, str]  # (namespace, interface)
    vm2: tuple[str, str]
    underlay_if: str  # the switch's end of the port 3 veth (root namespace)
    p4info: Path
    spine: str
    spine_hv_if: str
    overlay: Path


def overlay(switch: RunningSwitch, pipeline_p4info: Path, device: Path, host_ns: str) -> dict:
    return {
        "switches": [
            {
                "name": "tor1",
                "address": switch.grpc_addr,
                "pipeline": {"p4info": str(pipeline_p4info), "device_config": str(device)},
                "election_id": 10,
                "nve_mac": NVE_MAC,
                "local_pas": [PA],
                "underlay": {"namespace": host_ns},
                "ports": [
                    {"port": 1, "role": "access"},
                    {"port": 3, "role": "network", "addresses": [PORT_ADDR]},
                ],
                "next_hops": [{"name": "spine", "port": 3, "mac": SPINE_MAC}],
                "underlay_routes": [{"prefix": "10.2.0.0/24", "via": "spine"}],
            }
        ],
        "tenants": [
            {
                "name": "t",
                "vrf": 1,
                "subnets": [{"name": "s", "vsid": VSID, "bum": {"mode": "nway"}}],
            }
        ],
        "endpoints": [
            {
                "name": "vm1",
                "vsid": VSID,
                "mac": VM1[0],
                "ipv4": VM1[1],
                "attachment": {"switch": "tor1", "port": 1},
            },
            {
                "name": "vm2",
                "vsid": VSID,
                "mac": VM2[0],
                "ipv4": VM2[1],
                "attachment": {"remote_nve": "hv"},
            },
        ],
        "remote_nves": [{"name": "hv", "pa": OVS_PA, "flow_id": False, "vsids": [VSID]}],
    }


def vm(ns: str, ifname: str, mac_ip: tuple[str, str]) -> tuple[str, str]:
    sh("ip", "link", "set", ifname, "address", mac_ip[0], ns=ns)
    sh("ip", "addr", "add", f"{mac_ip[1]}/24", "dev", ifname, ns=ns)
    sh("sysctl", "-qw", "net.ipv4.icmp_echo_ignore_broadcasts=0", ns=ns)
    return ns, ifname


@pytest.fixture(scope="module")
def fabric(tmp_path_factory) -> Iterator[Fabric]:
    why = can_create_interfaces() or ovs_missing()
    if why is not None:
        pytest.skip(f"OVS interop test skipped: {why}")
    work = tmp_path_factory.mktemp("ovs-interop")
    pipeline = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net:
        ns1, hv, ns2 = net.namespace("vm1"), net.namespace("hv"), net.namespace("vm2")
        spine = net.namespace("spine")
        host = net.namespace("host")  # the ToR's control-plane host; nve reuses it
        access = net.veth_pair(1, test_ns=ns1)
        uplink = net.veth_pair(3, test_ns=spine)
        hv_link = net.veth_pair(switch_ns=hv, test_ns=spine)
        vm_link = net.veth_pair(switch_ns=hv, test_ns=ns2)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=spine)
        sh("ip", "link", "set", uplink.test_if, "address", SPINE_MAC, ns=spine)
        sh("ip", "addr", "add", SPINE_TOR, "dev", uplink.test_if, ns=spine)
        sh("ip", "addr", "add", SPINE_HV, "dev", hv_link.test_if, ns=spine)
        # On-link: the spine resolves the ToR's PA itself, answered by the ToR's host.
        sh("ip", "route", "add", f"{PA}/32", "dev", uplink.test_if, ns=spine)
        ovs = OvsInstance(hv, work / "ovs")
        switch = start_switch("p4sim", [access, uplink], pipeline, work / "logs")
        try:
            ovs.start()
            ovs.underlay(
                hv_link.switch_if, f"{OVS_PA}/24", SPINE_HV.split("/", maxsplit=1)[0], OVS_MAC
            )
            bridge = ovs.vsid_bridge(VSID, OVS_PA, [PA])
            ovs.attach(bridge, vm_link.switch_if)
            # A second bridge whose only GRE port uses a VSID the ToR does not serve. Its
            # kernel interface stays down: the host's own IPv6 router solicitations would
            # otherwise leave with the wrong key at random times during the other tests.
            ovs.vsid_bridge(BAD_VSID, OVS_PA, [PA], up=False)
            desc = overlay(switch, pipeline.p4info, pipeline.device_config, host)
            (work / "overlay.yaml").write_text(yaml.safe_dump(desc, sort_keys=False))
            yield Fabric(
                switch,
                ovs,
                vm(ns1, access.test_if, VM1),
                vm(ns2, vm_link.test_if, VM2),
                uplink.switch_if,
                pipeline.p4info,
                spine,
                hv_link.test_if,
                work / "overlay.yaml",
            )
        finally:
            ovs.stop()
            switch.stop()


@pytest.fixture(scope="module")
def nve(fabric: Fabric) -> Iterator[NveRun]:
    run = NveRun(fabric.overlay, fabric.overlay.with_name("nve-run.log")).start()
    yield run
    run.stop()


def ping(src: tuple[str, str], dst: str, count: int = 1) -> bool:
    cmd = ["ping", "-c", str(count), "-i", "0.2", "-W", "1", dst]
    return (
        subprocess.run(
            ["ip", "netns", "exec", src[0], *cmd], capture_output=True, check=False
        ).returncode
        == 0
    )


def reachable(src: tuple[str, str], dst: str, within: float = 20.0) -> bool:
    """Ping until one answer or `within` seconds: the first packets wait for OVS's ARP of
    the ToR's PA and for the switch's route to OVS, which follows the host's neighbour."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if ping(src, dst):
            return True
    return False


class Capture:
    """tcpdump writing a pcap file, started and stopped by the test."""

    def __init__(self, path: Path, ifname: str, bpf: str, ns: str | None = None) -> None:
        self.path = path
        cmd = ["tcpdump", "-i", ifname, "--immediate-mode", "-U", "-n", "-w", str(path), bpf]
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *cmd] if ns else cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()  # "listening on ...": the capture is armed
        assert "listening" in line, line

    def frames(self) -> list[bytes]:
        time.sleep(0.3)  # let the last frames reach the file before tcpdump stops
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        return read_pcap(self.path.read_bytes())


def read_pcap(data: bytes) -> list[bytes]:
    """The frames of a classic pcap file (any byte order)."""
    order = "<" if data[:4] == bytes.fromhex("d4c3b2a1") else ">"
    out, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack(order + "IIII", data[pos : pos + 16])[2]
        out.append(data[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return out


@dataclass(frozen=True)
class Gre:
    src: str
    dst: str
    df: bool
    flags_version: int
    protocol: int
    key: int
    inner_dst: bytes


def parse_gre(frame: bytes) -> Gre | None:
    if frame[12:14] != b"\x08\x00" or frame[23] != 47:
        return None
    ihl = (frame[14] & 0x0F) * 4
    frag = struct.unpack("!H", frame[20:22])[0]
    g = 14 + ihl
    flags, proto, key = struct.unpack("!HHI", frame[g : g + 8])
    return Gre(
        str(ipaddress.IPv4Address(frame[26:30])),
        str(ipaddress.IPv4Address(frame[30:34])),
        bool(frag & 0x4000),
        flags,
        proto,
        key,
        frame[g + 8 : g + 14],
    )


def drops(fabric: Fabric, reason: Drop) -> int:
    """Packets of ingress drop counter `reason`, read from the switch over P4Runtime."""
    index = P4Index(load_p4info(fabric.p4info))

    async def read() -> int:
        async with SwitchClient(fabric.switch.grpc_addr, 0, 1) as client:
            cells = await read_counter(client, index, Counter.INGRESS_COUNTERS_DROPS)
        return cells.get(int(reason), (0, 0))[0]

    return asyncio.run(read())


def test_unicast_both_ways(fabric: Fabric, nve: NveRun) -> None:
    assert reachable(fabric.vm2, VM1[1]), "VM behind OVS never reached the ToR's VM"
    assert ping(fabric.vm1, VM2[1], count=3), "ToR's VM does not reach the VM behind OVS"
    assert ping(fabric.vm2, VM1[1], count=3), "VM behind OVS does not reach the ToR's VM"
    # No static ARP entry: OVS resolved the spine by ARP, the spine the ToR's PA.
    spine_mac = mac_of(fabric.spine, fabric.spine_hv_if)
    arp = fabric.ovs.appctl("tnl/arp/show")
    assert spine_mac in arp and SPINE_HV.split("/", maxsplit=1)[0] in arp, arp
    neigh = sh("ip", "neigh", "show", PA, ns=fabric.spine)
    assert NVE_MAC in neigh and "PERMANENT" not in neigh, neigh


def mac_of(ns: str, dev: str) -> str:
    return sh("cat", f"/sys/class/net/{dev}/address", ns=ns).strip()


def test_the_gre_key_on_the_wire_is_vsid_shifted_by_8(
    fabric: Fabric, nve: NveRun, tmp_path: Path
) -> None:
    assert reachable(fabric.vm1, VM2[1])
    cap = Capture(tmp_path / "ul.pcap", fabric.underlay_if, "ip proto 47")
    assert ping(fabric.vm1, VM2[1], count=3)
    pkts = [g for g in map(parse_gre, cap.frames()) if g is not None]
    for src, dst in ((PA, OVS_PA), (OVS_PA, PA)):
        way = [g for g in pkts if (g.src, g.dst) == (src, dst)]
        assert way, f"no NVGRE packet {src} -> {dst} captured: {pkts}"
        for g in way:
            # K bit only (no checksum, no sequence number), version 0, Transparent Ethernet
            # Bridging, key = VSID << 8 with FlowID 0, DF set (RFC 7637 §4).
            assert (g.flags_version, g.protocol, g.key, g.df) == (
                0x2000,
                0x6558,
                VSID << 8,
                True,
            ), g


def test_broadcast_reaches_the_other_side_both_ways(
    fabric: Fabric, nve: NveRun, tmp_path: Path
) -> None:
    assert reachable(fabric.vm2, VM1[1])
    for src, dst, name in (
        (fabric.vm2, fabric.vm1, "from OVS"),
        (fabric.vm1, fabric.vm2, "to OVS"),
    ):
        cap = Capture(tmp_path / "bum.pcap", dst[1], "ether broadcast and icmp", ns=dst[0])
        sh("ping", "-b", "-c", "2", "-i", "0.2", "-W", "1", BROADCAST, ns=src[0], check=False)
        frames = cap.frames()
        assert frames, f"broadcast {name}: nothing reached {dst[0]}"
        assert all(f[:6] == b"\xff" * 6 for f in frames), frames


def test_a_wrong_vsid_from_ovs_is_dropped_and_counted(
    fabric: Fabric, nve: NveRun, tmp_path: Path
) -> None:
    assert reachable(fabric.vm2, VM1[1])  # OVS has resolved the ToR's PA
    before = drops(fabric, Drop.NET_VSID_UNKNOWN)
    cap = Capture(tmp_path / "bad.pcap", fabric.underlay_if, "ip proto 47")
    frame = bytes.fromhex("ffffffffffff" + VM2[0].replace(":", "") + "88b5") + b"\x00" * 46
    bridge = f"br-v{BAD_VSID:x}"
    fabric.ovs.ofctl(
        "packet-out", bridge, f"in_port=LOCAL,packet={frame.hex()},actions=output:gre{BAD_VSID:x}-0"
    )
    sent = [g for g in map(parse_gre, cap.frames()) if g is not None and g.src == OVS_PA]
    # The guests' own kernels may send at any time on their VSIDs (router solicitations, MLD):
    # only the frame sent here may carry the unknown one, and it must be on the wire once.
    assert [g.key for g in sent if g.key >> 8 == BAD_VSID] == [BAD_VSID << 8], sent
    assert all(g.inner_dst == b"\xff" * 6 for g in sent if g.key >> 8 == BAD_VSID), sent
    end = time.monotonic() + 5
    while drops(fabric, Drop.NET_VSID_UNKNOWN) == before and time.monotonic() < end:
        time.sleep(0.1)
    assert drops(fabric, Drop.NET_VSID_UNKNOWN) == before + 1
