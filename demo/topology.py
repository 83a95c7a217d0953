"""The demo's world: veths, namespaces and a Linux underlay built from an overlay description.

For each switch of the description:
- each **access** port is a veth pair; the host end goes to the endpoint's namespace
  (one untagged endpoint), or to a trunk namespace whose 802.1Q sub-interfaces are
  moved into one namespace per endpoint (several endpoints, one VLAN each);
- each **network** port is a veth pair into the ``spine`` namespace, a plain Linux IPv4
  router whose interface toward the port has the MAC the switch's next hop names, so the
  switches' encapsulated packets are really routed (TTL, checksum) by a kernel.

Each remote NVE that hosts an endpoint is a namespace of its own, a hypervisor whose
NVE is third-party software: Open vSwitch with the userspace datapath when it is
installed (its own ovsdb-server and ovs-vswitchd, GRE ports with key = VSID << 8 and no
FlowID, as RFC 7637 peers without FlowID expect; it resolves the spine by ARP like any
host), else a Linux ``gretap`` tunnel where the kernel has GRE. The endpoint's namespace
is bridged to the tunnels: NVGRE interoperability with another implementation.

Everything is created through :class:`lab.netns.LabNetwork`, which records it in a
ledger and removes it on exit, including after Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from demo.underlay import FIRST_TOR_ASN, Spine
from lab.netns import LabNetwork, NetnsError, VethPair, run
from lab.ovs import OvsError, OvsInstance, ovs_missing
from nve.model import Endpoint, LocalAttachment, Overlay, RemoteAttachment, RemoteNve, Subnet
from p4sim.ports import enable_vlan_auxdata, receive_frame

MAX_IFNAME = 15
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


class TopologyError(RuntimeError):
    """The description asks for something the demo topology cannot build."""


def sh(*argv: str, ns: str | None = None) -> str:
    try:
        return run(*argv, ns=ns)
    except NetnsError as exc:
        raise TopologyError(str(exc)) from None


@dataclass
class Host:
    """One endpoint's namespace."""

    endpoint: Endpoint
    ns: str
    ifname: str
    ipv4: str | None = None
    ipv6: str | None = None
    # The IPv6 address is added by Topology.add_ipv6 once the controller runs, with DAD.
    ipv6_plen: int = 64
    ipv6_gw: str | None = None


@dataclass
class Hypervisor:
    """A remote NVE's namespace: what implements it and how the spine reaches it."""

    ns: str
    kind: str  # "ovs" | "gretap"
    spine_if: str  # the spine's interface toward it
    spine_ip: str  # the spine's address on that link (the hypervisor's default gateway)
    ovs: OvsInstance | None = None


@dataclass
class Topology:
    net: LabNetwork
    # switch name -> [(port number, switch-side interface)]
    switch_ports: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    spine_ns: str = ""
    trunks: list[VlanTrunk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ovs: list[OvsInstance] = field(default_factory=list)
    remotes: dict[str, Hypervisor] = field(default_factory=dict)  # by remote NVE name
    # spine interface toward each switch port: (switch, port) -> interface
    spine_links: dict[tuple[str, int], str] = field(default_factory=dict)
    # More one-line commands for the demo's "what you can try" list, added by parts of the
    # topology that have their own tools (a routing daemon's shell on a spine, say).
    hints: list[str] = field(default_factory=list)
    # A BGP underlay (demo.underlay): the spine's FRR, each switch's control-plane host.
    spine: Spine | None = None
    switch_hosts: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        for t in self.trunks:
            t.start()

    def close(self) -> None:
        if self.spine is not None:
            self.spine.stop()
        for t in self.trunks:
            t.stop()
        for ovs in self.ovs:
            ovs.stop()
            shutil.rmtree(ovs.run_dir, ignore_errors=True)
        self.net.close()

    def add_ipv6(self, timeout: float = 10.0) -> dict[str, str]:
        """Give every host its IPv6 address, with Duplicate Address Detection (RFC 4862 §5.4),
        then its default route. Called once the switches and the controller run, so that
        each host's DAD probe crosses the NVE's ND proxy: the proxy must not answer a host's
        probe for its own address. {host: "ok" | "dadfailed" | "tentative" (no verdict in
        time)} for the hosts with an IPv6 address."""
        hosts = [h for h in self.hosts.values() if h.ipv6 is not None]
        for h in hosts:
            sh("ip", "-6", "addr", "add", f"{h.ipv6}/{h.ipv6_plen}", "dev", h.ifname, ns=h.ns)
        state = {h.endpoint.name: "tentative" for h in hosts}
        deadline = time.monotonic() + timeout
        while True:
            for h in hosts:
                out = sh("ip", "-6", "addr", "show", "dev", h.ifname, ns=h.ns)
                line = next((x for x in out.splitlines() if f" {h.ipv6}/" in x), "")
                if "dadfailed" in line:
                    state[h.endpoint.name] = "dadfailed"
                elif "tentative" not in line and line:
                    state[h.endpoint.name] = "ok"
            if "tentative" not in state.values() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for h in hosts:
            if h.ipv6_gw and state[h.endpoint.name] == "ok":
                sh("ip", "-6", "route", "add", "default", "via", h.ipv6_gw, ns=h.ns)
        return state


def _subnets(overlay: Overlay) -> dict[int, Subnet]:
    return {s.vsid: s for t in overlay.tenants for s in t.subnets}


def _prefixlen(subnet: Subnet | None, family: int) -> tuple[int, str | None]:
    """(prefix length, gateway address) of the subnet for an IP family (4 or 6)."""
    if subnet is None or subnet.gateway is None:
        return (24 if family == 4 else 64), None
    gw = subnet.gateway.ipv4 if family == 4 else subnet.gateway.ipv6
    if gw is None:
        return (24 if family == 4 else 64), None
    iface = ipaddress.ip_interface(str(gw))
    return iface.network.prefixlen, str(iface.ip)


def build(overlay: Overlay, token: str | None = None, bgp: bool = False) -> Topology:
    """The topology; with `bgp`, the spine runs FRR (started by `Topology.spine.start()`)
    and each switch gets a namespace for its control-plane host (`switch_hosts`)."""
    net = LabNetwork(token)
    topo = Topology(net)
    try:
        if bgp:
            topo.spine = Spine(net.namespace("spine"))
            topo.switch_hosts = {
                sw.name: net.namespace(f"{sw.name}-host") for sw in overlay.switches
            }
        _build(overlay, topo)
    except BaseException:
        net.close()
        raise
    return topo


def _build(overlay: Overlay, topo: Topology) -> None:
    net = topo.net
    tok = net.token
    subnets = _subnets(overlay)
    topo.spine_ns = topo.spine.namespace if topo.spine else net.namespace("spine")
    spine = topo.spine_ns
    for key in (
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
    ):
        sh("sysctl", "-qw", key, ns=spine)

    by_port: dict[tuple[str, int], list[Endpoint]] = defaultdict(list)
    for ep in overlay.endpoints:
        if isinstance(ep.attachment, LocalAttachment):
            by_port[(ep.attachment.switch, ep.attachment.port)].append(ep)

    for si, sw in enumerate(overlay.switches):
        ports: list[tuple[int, str]] = []
        hops_by_port = {h.port: h for h in sw.next_hops}
        spine_links: list[str] = []
        for port in sw.ports:
            a, b = f"d{tok}s{si}p{port.port}", f"d{tok}s{si}q{port.port}"
            if port.role == "network":
                pair = net.veth_pair(port.port, names=(a, b), test_ns=spine)
                hop = hops_by_port.get(port.port)
                if hop is not None:
                    sh("ip", "link", "set", b, "address", str(hop.mac), ns=spine)
                sh("sysctl", "-qw", f"net.ipv4.conf.{b}.rp_filter=0", ns=spine)
                if topo.spine is not None:  # BGP unnumbered: IPv6 link-local on the link
                    sh("sysctl", "-qw", f"net.ipv6.conf.{b}.disable_ipv6=0", ns=spine)
                    topo.spine.links.append(b)
                    topo.spine.asns.append(FIRST_TOR_ASN + si)
                spine_links.append(b)
                topo.spine_links[(sw.name, port.port)] = b
            else:
                pair = net.veth_pair(port.port, names=(a, b))
                _attach_hosts(
                    topo, overlay, subnets, pair.test_if, by_port.get((sw.name, port.port), [])
                )
            ports.append((port.port, pair.switch_if))
        topo.switch_ports[sw.name] = ports
        # The spine routes each of this switch's IPv4 PAs to it (ECMP over all its links):
        # statically here, learned from the switch by BGP with a BGP underlay.
        for pa in sw.local_pas:
            if ipaddress.ip_address(str(pa)).version != 4 or not spine_links or topo.spine:
                continue
            for link in spine_links:
                sh(
                    "ip",
                    "neigh",
                    "replace",
                    str(pa),
                    "lladdr",
                    str(sw.nve_mac),
                    "dev",
                    link,
                    "nud",
                    "permanent",
                    ns=spine,
                )
            hops = [arg for link in spine_links for arg in ("nexthop", "dev", link)]
            if len(spine_links) == 1:
                sh("ip", "route", "replace", f"{pa}/32", "dev", spine_links[0], ns=spine)
            else:
                sh("ip", "route", "replace", f"{pa}/32", *hops, ns=spine)

    _build_remote_nves(overlay, topo, subnets)


def _attach_hosts(
    topo: Topology,
    overlay: Overlay,
    subnets: dict[int, Subnet],
    host_if: str,
    endpoints: list[Endpoint],
) -> None:
    """Give each endpoint on this access port a namespace of its own."""
    net = topo.net
    if not endpoints:
        return
    vlans = [(ep, _local_vlan(ep)) for ep in endpoints]
    untagged = [ep for ep, vlan in vlans if vlan is None]
    tagged = [(ep, vlan) for ep, vlan in vlans if vlan is not None]
    if untagged and len(endpoints) > 1:
        raise TopologyError(
            f"demo topology: port of {untagged[0].name} mixes an untagged endpoint with others"
        )
    if untagged:  # exactly one endpoint, untagged: the host end is its interface
        ep = endpoints[0]
        ns = net.namespace(ep.name)
        sh("ip", "link", "set", host_if, "netns", ns)
        _configure_host(topo, ep, ns, host_if, subnets)
        return
    # Several endpoints, one VLAN each: the host end stays in this namespace and a
    # user-space 802.1Q splitter (VlanTrunk) connects it to one veth per endpoint. (The
    # kernel's 8021q module would do the same; not every kernel has it.)
    trunk = VlanTrunk(host_if)
    for ep, vlan in tagged:
        ns = net.namespace(ep.name)
        pair = net.veth_pair(
            names=(f"{host_if[: MAX_IFNAME - 5]}v{vlan}", f"{host_if[: MAX_IFNAME - 5]}h{vlan}"),
            test_ns=ns,
        )
        trunk.add(int(vlan), pair.switch_if)
        _configure_host(topo, ep, ns, pair.test_if, subnets)
    topo.trunks.append(trunk)


def _local_vlan(ep: Endpoint) -> int | None:
    """The VLAN of an endpoint on a switch's access port (None: untagged)."""
    att = ep.attachment
    if not isinstance(att, LocalAttachment):
        raise TopologyError(f"demo topology: {ep.name} is not attached to a switch port")
    return att.vlan


def _configure_host(
    topo: Topology, ep: Endpoint, ns: str, ifname: str, subnets: dict[int, Subnet]
) -> None:
    subnet = subnets.get(ep.vsid)
    sh("ip", "link", "set", ifname, "address", str(ep.mac), ns=ns)
    host = Host(ep, ns, ifname)
    if ep.ipv6 is not None:
        sh("sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=0", ns=ns)
        # DAD on, as on any host (RFC 4862 §5.4): the address itself comes with add_ipv6.
        sh("sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_dad=1", ns=ns)
    sh("ip", "link", "set", ifname, "up", ns=ns)
    if ep.ipv4 is not None:
        plen, gw = _prefixlen(subnet, 4)
        sh("ip", "addr", "add", f"{ep.ipv4}/{plen}", "dev", ifname, ns=ns)
        if gw:
            sh("ip", "route", "add", "default", "via", gw, ns=ns)
        host.ipv4 = str(ep.ipv4)
    if ep.ipv6 is not None:
        host.ipv6_plen, host.ipv6_gw = _prefixlen(subnet, 6)
        host.ipv6 = str(ep.ipv6)
    topo.hosts[ep.name] = host


def _build_remote_nves(overlay: Overlay, topo: Topology, subnets: dict[int, Subnet]) -> None:
    """A hypervisor namespace per remote NVE that has endpoints, reached through the spine:
    Open vSwitch when installed, else a Linux gretap where the kernel has GRE."""
    remote_eps: dict[str, list[Endpoint]] = defaultdict(list)
    for ep in overlay.endpoints:
        if isinstance(ep.attachment, RemoteAttachment):
            remote_eps[ep.attachment.remote_nve].append(ep)
    no_ovs = ovs_missing()
    for ri, rnve in enumerate(overlay.remote_nves):
        eps = remote_eps.get(rnve.name)
        pa = ipaddress.ip_address(str(rnve.pa))
        if not eps or pa.version != 4:
            continue
        if no_ovs is None:
            _ovs_remote_nve(topo, overlay, subnets, ri, rnve, eps)
        elif kernel_has("gretap"):
            topo.notes.append(f"remote NVE {rnve.name}: Linux gretap ({no_ovs})")
            _gretap_remote_nve(topo, overlay, subnets, ri, rnve, eps)
        else:
            topo.notes.append(
                f"remote NVE {rnve.name}: its endpoints are left out: {no_ovs}, "
                "and this kernel has no gretap device"
            )


def _hypervisor(topo: Topology, ri: int, rnve: RemoteNve) -> tuple[str, VethPair, str]:
    """The remote NVE's namespace, its veth to the spine (switch_if in the namespace) and
    the spine's address on that link (the .254 of the PA's /24)."""
    net, spine, tok = topo.net, topo.spine_ns, topo.net.token
    ns = net.namespace(rnve.name)
    link_net = ipaddress.ip_network(f"{rnve.pa}/24", strict=False)
    spine_ip = str(link_net.broadcast_address - 1)
    pair = net.veth_pair(names=(f"d{tok}r{ri}", f"d{tok}r{ri}s"), switch_ns=ns, test_ns=spine)
    sh("ip", "addr", "add", f"{spine_ip}/24", "dev", pair.test_if, ns=spine)
    if topo.spine is not None:  # announced to the switches
        topo.spine.announce.append(str(link_net))
    return ns, pair, spine_ip


def _vsids(eps: list[Endpoint]) -> list[int]:
    return sorted({ep.vsid for ep in eps})


def _ovs_remote_nve(
    topo: Topology,
    overlay: Overlay,
    subnets: dict[int, Subnet],
    ri: int,
    rnve: RemoteNve,
    eps: list[Endpoint],
) -> None:
    """Open vSwitch, userspace datapath, in the hypervisor's namespace: the PA on the
    underlay bridge, default route via the spine (resolved by ARP by OVS itself), one
    bridge per VSID with a GRE port per switch PA, the VMs' veths on their VSID's bridge.
    The VSID's gateway address is answered by OVS (ARP responder flow) and its MAC sent to
    the first switch, which routes: a hypervisor's part of the distributed gateway."""
    ns, pair, spine_ip = _hypervisor(topo, ri, rnve)
    ovs = OvsInstance(ns, Path(tempfile.mkdtemp(prefix=f"nve-demo-{rnve.name}-")))
    topo.ovs.append(ovs)
    topo.remotes[rnve.name] = Hypervisor(ns, "ovs", pair.test_if, spine_ip, ovs)
    pa = str(rnve.pa)
    try:
        ovs.start()
        ovs.underlay(pair.switch_if, f"{pa}/24", spine_ip, f"02:00:0c:00:00:{ri + 1:02x}")
        bridges = {v: ovs.vsid_bridge(v, pa, _switch_pas_v4(overlay)) for v in _vsids(eps)}
        for vsid, br in bridges.items():
            gw = subnets[vsid].gateway if vsid in subnets else None
            if gw is not None and gw.ipv4 is not None:  # routed by the first switch
                ovs.gateway(br, str(gw.ipv4.ip), str(gw.mac), f"gre{vsid:x}-0")
        for gi, ep in enumerate(eps):
            vm = _vm_link(topo, ri, gi, ns, ep)
            ovs.attach(bridges[ep.vsid], vm.switch_if)
            _configure_host(topo, ep, vm.test_ns or "", vm.test_if, subnets)
    except OvsError as exc:
        raise TopologyError(f"remote NVE {rnve.name} (Open vSwitch): {exc}") from None


def _vm_link(topo: Topology, ri: int, gi: int, hv_ns: str, ep: Endpoint) -> VethPair:
    """The veth between a VM's namespace (test_ns) and its hypervisor's (switch_ns)."""
    net, tok = topo.net, topo.net.token
    epns = net.namespace(ep.name)
    return net.veth_pair(
        names=(f"d{tok}v{ri}{gi}", f"d{tok}v{ri}{gi}h"), switch_ns=hv_ns, test_ns=epns
    )


def _gretap_remote_nve(
    topo: Topology,
    overlay: Overlay,
    subnets: dict[int, Subnet],
    ri: int,
    rnve: RemoteNve,
    eps: list[Endpoint],
) -> None:
    """A Linux bridge of gretap tunnels in the hypervisor's namespace."""
    ns, pair, spine_ip = _hypervisor(topo, ri, rnve)
    topo.remotes[rnve.name] = Hypervisor(ns, "gretap", pair.test_if, spine_ip)
    pa = str(rnve.pa)
    sh("ip", "addr", "add", f"{pa}/24", "dev", pair.switch_if, ns=ns)
    sh("ip", "route", "add", "default", "via", spine_ip, ns=ns)
    sh("ip", "link", "add", "br0", "type", "bridge", ns=ns)
    sh("ip", "link", "set", "br0", "up", ns=ns)
    # One gretap per (endpoint VSID, switch PA): Linux gretap has a single remote, and
    # any switch may send to this NVE (bridged or routed traffic of the VSID).
    peers = _switch_pas_v4(overlay)
    for gi, ep in enumerate(eps):
        for pi, peer in enumerate(peers):
            gre = f"gt{gi}x{pi}"
            sh(
                "ip",
                "link",
                "add",
                gre,
                "type",
                "gretap",
                "local",
                pa,
                "remote",
                peer,
                "key",
                str(ep.vsid << 8),
                ns=ns,
            )
            sh("ip", "link", "set", gre, "master", "br0", ns=ns)
            sh("ip", "link", "set", gre, "up", ns=ns)
        vm = _vm_link(topo, ri, gi, ns, ep)
        sh("ip", "link", "set", vm.switch_if, "master", "br0", ns=ns)
        _configure_host(topo, ep, vm.test_ns or "", vm.test_if, subnets)


def kernel_has(link_type: str) -> bool:
    """Whether this kernel can create links of ``link_type`` (probed with a throwaway link)."""
    probe = "nvprobe0"
    args = {"gretap": ["type", "gretap", "local", "192.0.2.1", "remote", "192.0.2.2", "key", "1"]}[
        link_type
    ]
    ok = (
        subprocess.run(
            ["ip", "link", "add", probe, *args], capture_output=True, check=False
        ).returncode
        == 0
    )
    if ok:
        subprocess.run(["ip", "link", "del", probe], capture_output=True, check=False)
    return ok


class VlanTrunk:
    """Splits an 802.1Q trunk into one untagged interface per VLAN, in user space.

    Frames from the trunk with tag V lose the tag and leave by V's interface; frames from
    V's interface get tag V (PCP 0) and leave by the trunk.  Untagged or unknown-VLAN
    frames from the trunk are dropped, like an access switch port would.
    """

    def __init__(self, trunk_if: str) -> None:
        self.trunk_if = trunk_if
        self.vlans: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, vid: int, ifname: str) -> None:
        self.vlans[vid] = ifname

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"vlan-{self.trunk_if}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @staticmethod
    def _open(ifname: str) -> socket.socket:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # bound before it queues frames
        s.bind((ifname, ETH_P_ALL))
        enable_vlan_auxdata(s)  # the kernel takes tags off received frames; get them back
        return s

    def _run(self) -> None:
        trunk = self._open(self.trunk_if)
        access = {vid: self._open(ifname) for vid, ifname in self.vlans.items()}
        vid_of = {s.fileno(): vid for vid, s in access.items()}
        socks = [trunk, *access.values()]
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select(socks, [], [], 0.2)
                for s in ready:
                    frame, pkttype = receive_frame(s)
                    if pkttype == PACKET_OUTGOING:
                        continue
                    if s is trunk:
                        if len(frame) < 18 or frame[12:14] != b"\x81\x00":
                            continue
                        vid = int.from_bytes(frame[14:16], "big") & 0x0FFF
                        out = access.get(vid)
                        if out is not None:
                            out.send(frame[:12] + frame[16:])
                    else:
                        vid = vid_of[s.fileno()]
                        trunk.send(frame[:12] + b"\x81\x00" + vid.to_bytes(2, "big") + frame[12:])
        finally:
            for s in socks:
                s.close()


def _switch_pas_v4(overlay: Overlay) -> list[str]:
    return [
        str(pa)
        for sw in overlay.switches
        for pa in sw.local_pas
        if ipaddress.ip_address(str(pa)).version == 4
    ]
