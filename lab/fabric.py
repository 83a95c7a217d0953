"""A small leaf-spine fabric (RFC 7938) for BGP underlay tests and benchmarks.

    AS 65000                 spine1                 spine2            (namespaces, FRR bgpd)
                             /      \\               /      \\
                    10.1.1.0/31   10.1.3.0/31  10.1.2.0/31  10.1.4.0/31
                        port 3        port 3     port 4        port 4
    AS 65101 / 65102    tor1 (p4sim) ----------------------- tor2 (p4sim)
                        PA 10.0.0.1                          PA 10.0.0.2
                        port 1                               port 1
                        vm1 192.168.1.10                     vm2 192.168.1.20

Two p4sim ToRs, each with its own AS, their control-plane hosts running FRR (started by
`nve run` from the description this module writes); two spines sharing one AS, plain
Linux routers running FRR in their own namespaces; eBGP between every ToR and every
spine, the spines passive. One VM namespace behind each ToR, in one tenant subnet. No
static neighbour or route anywhere: the ToRs' underlay comes from BGP. With
`unnumbered=True` the links carry no IPv4 address at all: every session is BGP unnumbered
(IPv6 link-local, found by router advertisements; IPv4 routes through 169.254.0.1).

Everything lives in a `LabNetwork` (its ledger removes the namespaces, and whatever still
runs in them, even after a killed run); `close()` also stops the switches.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.netns import LabNetwork
from lab.targets import PipelineFiles, RunningSwitch, start_switch
from nve.loader import load_overlay
from nve.model import Bgp
from nve.underlay import frr_config
from nve.underlay.frr import FrrInstance, run_dir_of

SPINE_ASN = 65000
VSID = 0x1001
MTU = 9000


@dataclass(frozen=True)
class Uplink:
    port: int  # the ToR's port
    spine: int  # 0 or 1
    tor_addr: str  # address/31 on the ToR's port
    spine_addr: str  # address/31 on the spine's end


@dataclass(frozen=True)
class TorPlan:
    name: str
    asn: int
    pa: str
    mac: str
    vm_ip: str
    vm_mac: str
    uplinks: tuple[Uplink, ...]


TORS = (
    TorPlan("tor1", 65101, "10.0.0.1", "02:00:0a:00:00:01", "192.168.1.10", "52:54:00:00:00:01",
            (Uplink(3, 0, "10.1.1.1/31", "10.1.1.0/31"), Uplink(4, 1, "10.1.2.1/31", "10.1.2.0/31"))),
    TorPlan("tor2", 65102, "10.0.0.2", "02:00:0a:00:00:02", "192.168.1.20", "52:54:00:00:00:02",
            (Uplink(3, 0, "10.1.3.1/31", "10.1.3.0/31"), Uplink(4, 1, "10.1.4.1/31", "10.1.4.0/31"))),
)  # fmt: skip
ACCESS_PORT = 1


def addr(interface: str) -> str:
    return interface.split("/", maxsplit=1)[0]


@dataclass
class Spine:
    name: str
    namespace: str
    frr: FrrInstance
    interfaces: dict[tuple[str, int], str] = field(default_factory=dict)  # (tor, port) -> dev


@dataclass
class Tor:
    plan: TorPlan
    switch: RunningSwitch
    host_ns: str  # the control-plane host (underlay.namespace)
    vm_ns: str


@dataclass
class BgpFabric:
    """Build with `BgpFabric.build(...)`; `overlay` is the description for `nve run`."""

    net: LabNetwork
    pipeline: PipelineFiles
    overlay: Path
    spines: list[Spine]
    tors: list[Tor]
    unnumbered: bool = False

    @classmethod
    def build(
        cls,
        net: LabNetwork,
        pipeline: PipelineFiles,
        work: Path,
        *,
        timers: tuple[int, int] = (3, 9),
        bfd_ms: int | None = None,
        unnumbered: bool = False,
    ) -> BgpFabric:
        bfd = {"interval_ms": bfd_ms, "multiplier": 3} if bfd_ms else None
        spines = [_spine(net, i, timers, bfd, unnumbered) for i in range(2)]
        tors: list[Tor] = []
        try:
            for plan in TORS:
                tors.append(_tor(net, plan, spines, pipeline, work, unnumbered))  # noqa: PERF401  # one by one: stopped if a later one fails
            for sp in spines:
                sp.frr.start()
        except BaseException:
            for t in tors:
                t.switch.stop()
            raise
        fabric = cls(net, pipeline, work / "fabric.yaml", spines, tors, unnumbered)
        fabric.write_overlay(timers, bfd)
        return fabric

    def write_overlay(self, timers: tuple[int, int], bfd: dict[str, int] | None) -> None:
        pipeline = self.pipeline
        switches: list[dict[str, Any]] = []
        for t in self.tors:
            p = t.plan
            bgp: dict[str, Any] = {
                "asn": p.asn,
                "router_id": p.pa,
                "timers": {"keepalive": timers[0], "hold": timers[1]},
                "neighbors": [
                    {"port": u.port, "remote_asn": SPINE_ASN}
                    if self.unnumbered
                    else {"address": addr(u.spine_addr), "remote_asn": SPINE_ASN}
                    for u in p.uplinks
                ],
            }
            if bfd:
                bgp["bfd"] = bfd
            switches.append(
                {
                    "name": p.name,
                    "address": t.switch.grpc_addr,
                    "pipeline": {
                        "p4info": str(pipeline.p4info),
                        "device_config": str(pipeline.device_config),
                    },
                    "election_id": 10,
                    "nve_mac": p.mac,
                    "local_pas": [p.pa],
                    "underlay": {"namespace": t.host_ns, "bgp": bgp},
                    "ports": [
                        {"port": ACCESS_PORT, "role": "access"},
                        *(
                            {
                                "port": u.port,
                                "role": "network",
                                "mtu": MTU,
                                "addresses": [] if self.unnumbered else [u.tor_addr],
                            }
                            for u in p.uplinks
                        ),
                    ],
                }
            )
        overlay = {
            "switches": switches,
            "tenants": [{"name": "blue", "vrf": 1, "subnets": [{"name": "web", "vsid": VSID}]}],
            "endpoints": [
                {
                    "name": f"vm-{t.plan.name}",
                    "vsid": VSID,
                    "mac": t.plan.vm_mac,
                    "ipv4": t.plan.vm_ip,
                    "attachment": {"switch": t.plan.name, "port": ACCESS_PORT},
                }
                for t in self.tors
            ],
        }
        self.overlay.write_text(yaml.safe_dump(overlay, sort_keys=False))

    def tor_frr(self, tor: Tor) -> FrrInstance:
        """The FRR that `nve run` started for `tor` (for state and for stopping)."""
        sw = next(s for s in load_overlay(self.overlay).overlay.switches if s.name == tor.plan.name)
        return FrrInstance.of_switch(sw, tor.host_ns)

    def close(self) -> None:
        """Stop the daemons and switches (the LabNetwork removes the namespaces)."""
        for t in self.tors:
            frr = self.tor_frr(t)
            frr.stop()
            shutil.rmtree(frr.run_dir, ignore_errors=True)
            t.switch.stop()
        for sp in self.spines:
            sp.frr.stop()
            shutil.rmtree(sp.frr.run_dir, ignore_errors=True)


def sh(*argv: str, ns: str | None = None) -> str:
    cmd = ["ip", "netns", "exec", ns, *argv] if ns else list(argv)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True).stdout


def _spine(
    net: LabNetwork,
    i: int,
    timers: tuple[int, int],
    bfd: dict[str, int] | None,
    unnumbered: bool = False,
) -> Spine:
    name = f"spine{i + 1}"
    ns = net.namespace(f"s{i + 1}")
    links = [(t, u) for t in TORS for u in t.uplinks if u.spine == i]
    bgp = Bgp.model_validate(
        {
            "asn": SPINE_ASN,
            "router_id": f"10.0.255.{i + 1}",
            "timers": {"keepalive": timers[0], "hold": timers[1]},
            "bfd": bfd,
            "neighbors": [
                # unnumbered: "port" k is the spine's k-th link (its interface, below)
                {"port": k, "remote_asn": t.asn, "passive": True}
                if unnumbered
                else {"address": addr(u.tor_addr), "remote_asn": t.asn, "passive": True}
                for k, (t, u) in enumerate(links)
            ],
        }
    )
    devs: dict[tuple[str, int], str] = {}  # filled as the ToRs' links are made

    def interface(k: int) -> str:
        t, u = links[k]
        return devs[(t.name, u.port)]

    def render(run_dir: Path) -> dict[str, str]:
        return frr_config.render(
            name, run_dir, bgp, [], forwarding=True, bfd_at_start=True, interfaces=interface
        )

    return Spine(name, ns, FrrInstance(name, ns, bgp, render, run_dir_of(ns)), devs)


def _tor(
    net: LabNetwork,
    plan: TorPlan,
    spines: list[Spine],
    pipeline: PipelineFiles,
    work: Path,
    unnumbered: bool = False,
) -> Tor:
    n = plan.name[-1]
    host_ns = net.namespace(f"t{n}h")  # the lab owns it; nve run fills it
    vm_ns = net.namespace(f"vm{n}")
    vm = net.veth_pair(ACCESS_PORT, test_ns=vm_ns)
    sh("ip", "link", "set", vm.test_if, "address", plan.vm_mac, ns=vm_ns)
    sh("ip", "addr", "add", f"{plan.vm_ip}/24", "dev", vm.test_if, ns=vm_ns)
    pairs = [vm]
    for u in plan.uplinks:
        sp = spines[u.spine]
        pair = net.veth_pair(u.port, test_ns=sp.namespace, mtu=MTU)
        if unnumbered:  # link-local only (the lab turns IPv6 off on its links)
            sh("sysctl", "-qw", f"net.ipv6.conf.{pair.test_if}.disable_ipv6=0", ns=sp.namespace)
        else:
            sh("ip", "addr", "add", u.spine_addr, "dev", pair.test_if, ns=sp.namespace)
        sp.interfaces[(plan.name, u.port)] = pair.test_if
        pairs.append(pair)
    switch = start_switch("p4sim", pairs, pipeline, work / "logs")
    return Tor(plan, switch, host_ns, vm_ns)
