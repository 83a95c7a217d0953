"""The demo's routed underlay: the spine runs FRR, the switches peer with it over BGP
unnumbered from their control-plane hosts, and nothing in any namespace is static.

The description the demo runs is the user's with its underlay replaced: each switch gets
`underlay: {namespace, bgp}` (its own AS, one unnumbered neighbour per network port, the
spine's AS 65000) and loses its static `next_hops`, `ecmp_groups` and `underlay_routes`;
relative file names are made absolute so the new file can live in out/demo. The spine
announces the hypervisors' subnets it is connected to; the switches announce their PAs.
Underlay multicast has no routing protocol here (no PIM): a subnet whose BUM mode is
`multicast` gets no route to its group, and the demo says so.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nve.model import Bgp
from nve.underlay import frr_config
from nve.underlay.frr import FrrInstance, frr_missing, run_dir_of

SPINE_ASN = 65000
LEARNED = {"kernel", "bgp", "zebra", "ra"}
FIRST_TOR_ASN = 65101


@dataclass
class Spine:
    """The spine's FRR, its interfaces toward the switches (unnumbered neighbours, by
    index) and the subnets it announces."""

    namespace: str
    links: list[str] = field(default_factory=list)  # interface per neighbour index
    asns: list[int] = field(default_factory=list)  # the switch's AS per neighbour index
    announce: list[str] = field(default_factory=list)
    frr: FrrInstance | None = None

    def start(self) -> None:
        bgp = Bgp.model_validate(
            {
                "asn": SPINE_ASN,
                "router_id": "10.255.255.1",
                "timers": {"keepalive": 1, "hold": 3},
                "neighbors": [
                    {"port": k, "remote_asn": asn, "passive": True}
                    for k, asn in enumerate(self.asns)
                ],
            }
        )
        prefixes = [ipaddress.ip_network(p) for p in self.announce]
        links = list(self.links)

        def render(run_dir: Path) -> dict[str, str]:
            return frr_config.render(
                "spine", run_dir, bgp, prefixes, forwarding=True, interfaces=links.__getitem__
            )

        self.frr = FrrInstance("spine", self.namespace, bgp, render, run_dir_of(self.namespace))
        self.frr.start()

    def stop(self) -> None:
        if self.frr is not None:
            self.frr.stop()
            shutil.rmtree(self.frr.run_dir, ignore_errors=True)

    def routes(self) -> list[str]:
        """Destinations the spine's kernel has from BGP."""
        return bgp_routes(self.namespace)

    def vtysh_hint(self) -> str:
        """The one-line command that shows the spine's BGP sessions."""
        run_dir = self.frr.run_dir if self.frr else run_dir_of(self.namespace)
        return (
            f"ip netns exec {self.namespace} vtysh --vty_socket {run_dir}"
            " -c 'show bgp summary'   # the spine's sessions to the switches"
        )


def bgp_routes(namespace: str) -> list[str]:
    """Destinations a namespace's kernel has from BGP (IPv4 and IPv6)."""
    out: list[str] = []
    for fam in ("-4", "-6"):
        shown = subprocess.run(
            ["ip", "-n", namespace, "-j", fam, "route", "show", "proto", "bgp"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        out += [r["dst"] for r in json.loads(shown or "[]")]
    return out


def bgp_wanted() -> str | None:
    """Why the demo cannot run its underlay on FRR here (None: it can)."""
    return frr_missing()


def bgp_description(source: Path, hosts: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The description at `source` with a BGP underlay: `hosts` names each switch's
    control-plane namespace. Also the notes to print (what it leaves out)."""
    data = yaml.safe_load(source.read_text())
    base = source.parent.resolve()
    notes: list[str] = []
    for i, sw in enumerate(data.get("switches", [])):
        pipeline = sw.get("pipeline", {})
        for key in ("program", "p4info", "device_config"):
            if key in pipeline and not Path(pipeline[key]).is_absolute():
                pipeline[key] = str(base / pipeline[key])
        if "include_dirs" in pipeline:
            pipeline["include_dirs"] = [
                d if Path(d).is_absolute() else str(base / d) for d in pipeline["include_dirs"]
            ]
        dropped = [
            r["prefix"]
            for r in sw.get("underlay_routes", [])
            if ipaddress.ip_network(str(r["prefix"]), strict=False).is_multicast
        ]
        if dropped:
            notes.append(
                f"{sw['name']}: no route for underlay multicast {', '.join(map(str, dropped))}"
                " (BGP carries unicast only; no PIM in the demo)"
            )
        for key in ("next_hops", "ecmp_groups", "underlay_routes"):
            sw.pop(key, None)
        v4 = [pa for pa in sw.get("local_pas", []) if ipaddress.ip_address(pa).version == 4]
        network = [p["port"] for p in sw.get("ports", []) if p.get("role") == "network"]
        sw["underlay"] = {
            "namespace": hosts[sw["name"]],
            "bgp": {
                "asn": FIRST_TOR_ASN + i,
                "router_id": v4[0] if v4 else f"10.255.254.{i + 1}",
                "timers": {"keepalive": 1, "hold": 3},
                "neighbors": [{"port": p, "remote_asn": SPINE_ASN} for p in network],
            },
        }
    return data, notes


def static_state(namespaces: list[str]) -> list[str]:
    """Permanent neighbour entries and static routes in the namespaces, except FRR's own
    (zebra's 169.254.0.1 entries for RFC 8950 next hops, its routes) and each namespace's
    connected and kernel routes: what a routed underlay must not need."""
    found: list[str] = []
    for ns in namespaces:
        for fam in ("-4", "-6"):
            shown = subprocess.run(
                ["ip", "-n", ns, "-j", fam, "neigh", "show", "nud", "permanent"],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            found.extend(
                f"{ns}: neighbour {n.get('dst')} {n.get('lladdr')} permanent"
                for n in json.loads(shown or "[]")
                if n.get("protocol") != "zebra"
            )
            routes = subprocess.run(
                ["ip", "-n", ns, "-j", fam, "route", "show", "table", "main"],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            for r in json.loads(routes or "[]"):
                # kernel (connected), zebra/bgp (FRR): learned; boot/static/other: written by
                # hand. A host's default gateway is not an underlay route.
                if r.get("protocol") in LEARNED or r.get("dst") == "default":
                    continue
                found.append(f"{ns}: static route {r.get('dst')} ({r.get('protocol', 'boot')})")
    return found
