"""What `make run` shows once the overlay is up: what to try, and the counters with rates.

The counters come from `nve stats --json` (read over P4Runtime, as an operator would);
each report shows the totals and, from the second one on, packets per second since the
previous report: per VSID, per remote NVE and per drop reason.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nve.model import LocalAttachment, RemoteAttachment
from nve.stats import BYTES_NOTE, CUSTOMER_FRAME, CountersJson

if TYPE_CHECKING:
    from demo.topology import Host, Topology


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.monotonic() of the read
    switches: dict[str, CountersJson]


def read_snapshot(nve: str, overlay_path: str) -> Snapshot | str:
    """The counters of every switch, or the error `nve stats` printed."""
    out = subprocess.run(
        [nve, "stats", overlay_path, "--json"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return out.stderr.strip() or f"nve stats exited {out.returncode}"
    return Snapshot(time.monotonic(), json.loads(out.stdout))


def _rate(now: list[int], before: list[int] | None, seconds: float | None) -> str:
    if before is None or not seconds:
        return "-"
    return f"{max(now[0] - before[0], 0) / seconds:.1f}"


def format_report(cur: Snapshot, prev: Snapshot | None) -> str:
    """Totals per switch, with packets/s since ``prev`` ("-" on the first report)."""
    seconds = cur.at - prev.at if prev is not None else None
    if seconds:
        lines = [f"(totals; pkts/s over the last {seconds:.1f} s)"]
    else:  # the first report: what the columns mean
        kinds = sorted({sw.get("bytes", CUSTOMER_FRAME) for sw in cur.switches.values()})
        note = "; ".join(BYTES_NOTE[k] for k in kinds or [CUSTOMER_FRAME])
        lines = [f"({note}; pkts/s from the next report on)"]
    for name, now in sorted(cur.switches.items()):
        was = prev.switches.get(name) if prev is not None else None
        lines.append(f"== {name}")
        lines.append(
            f"{'VSID':<16}{'encap pkts':>11}{'bytes':>10}{'pkts/s':>8}"
            f"{'decap pkts':>12}{'bytes':>10}{'pkts/s':>8}"
        )
        for vsid, cells in now["vsid"].items():
            old = was["vsid"].get(vsid, {}) if was else {}
            e, d = cells["encap"], cells["decap"]
            lines.append(
                f"{vsid:<16}{e[0]:>11}{e[1]:>10}{_rate(e, old.get('encap'), seconds):>8}"
                f"{d[0]:>12}{d[1]:>10}{_rate(d, old.get('decap'), seconds):>8}"
            )
        lines.append(
            f"{'remote NVE':<16}{'tx pkts':>11}{'bytes':>10}{'pkts/s':>8}"
            f"{'rx pkts':>12}{'bytes':>10}{'pkts/s':>8}"
        )
        for remote, cells in now["remote_nve"].items():
            old = was["remote_nve"].get(remote, {}) if was else {}
            t, r = cells["tx"], cells["rx"]
            lines.append(
                f"{remote:<16}{t[0]:>11}{t[1]:>10}{_rate(t, old.get('tx'), seconds):>8}"
                f"{r[0]:>12}{r[1]:>10}{_rate(r, old.get('rx'), seconds):>8}"
            )
        if now["drops"]:
            lines.append(f"{'drop reason':<24}{'packets':>10}{'bytes':>10}{'pkts/s':>8}")
        for reason, cell in now["drops"].items():
            old_cell = was["drops"].get(reason) if was else None
            if was is not None and old_cell is None:
                old_cell = [0, 0]  # a reason that appeared since the last report
            lines.append(
                f"{reason:<24}{cell[0]:>10}{cell[1]:>10}{_rate(cell, old_cell, seconds):>8}"
            )
    return "\n".join(lines)


def _ex(ns: str, *argv: str) -> str:
    return shlex.join(["ip", "netns", "exec", ns, *argv])


def try_this(nve: str, overlay_path: str, topo: Topology, metrics_url: str | None) -> list[str]:
    """The lines `make run` prints once the overlay is up: where each VM and router lives,
    and one-line commands to use them (run as root in another terminal)."""
    lines = ["What you can try (as root, in another terminal):", "  namespaces:"]
    for name, host in sorted(topo.hosts.items()):
        att = host.endpoint.attachment
        if isinstance(att, LocalAttachment):
            where = f"{att.switch} port {att.port}" + (f" vlan {att.vlan}" if att.vlan else "")
        elif isinstance(att, RemoteAttachment):
            hv = topo.remotes.get(att.remote_nve)
            where = f"behind remote NVE {att.remote_nve} ({hv.kind if hv else '?'})"
        else:
            where = "?"
        addrs = " ".join(a for a in (host.ipv4, host.ipv6) if a)
        lines.append(f"    {name:<10} {host.ns:<22} {addrs:<28} {where}")
    lines.append(f"    {'spine':<10} {topo.spine_ns:<22} the underlay router")
    for rname, hv in sorted(topo.remotes.items()):
        lines.append(f"    {rname:<10} {hv.ns:<22} remote NVE ({hv.kind})")
    lines.append("  commands:")
    pair = _cross_switch_pair(topo)
    if pair is not None:
        a, b = pair
        lines.append(f"    {_ex(a.ns, 'ping', '-c', '3', b.ipv4 or '')}")
    remote = next(
        (h for h in topo.hosts.values() if isinstance(h.endpoint.attachment, RemoteAttachment)),
        None,
    )
    if remote is not None and remote.ipv4:
        peer = next(
            (
                h
                for h in topo.hosts.values()
                if h.endpoint.vsid == remote.endpoint.vsid and h is not remote and h.ipv4
            ),
            None,
        )
        if peer is not None and peer.ipv4:
            lines.append(f"    {_ex(remote.ns, 'ping', '-c', '3', peer.ipv4)}")
    if topo.spine_links:
        (sw, port), link = sorted(topo.spine_links.items())[0]
        lines.append(
            f"    {_ex(topo.spine_ns, 'tcpdump', '-ni', link, '-vv', 'ip proto 47')}"
            f"   # NVGRE from/to {sw} port {port}"
        )
    lines.append(f"    {nve} show {overlay_path}     # desired vs installed, per switch")
    lines.append(f"    {nve} stats {overlay_path}    # the counters below, once")
    if metrics_url:
        lines.append(f"    curl -s {metrics_url} | grep '^nve_'   # Prometheus metrics")
    for ovs in topo.ovs:
        ctl = ovs.run_dir / "ovs-vswitchd.ctl"
        lines.append(f"    {_ex(ovs.ns, 'ovs-vsctl', f'--db=unix:{ovs.db_sock}', 'show')}")
        lines.append(f"    {_ex(ovs.ns, 'ovs-appctl', '-t', str(ctl), 'tnl/arp/show')}")
    lines.extend(f"    {hint}" for hint in topo.hints)
    return lines


def _cross_switch_pair(topo: Topology) -> tuple[Host, Host] | None:
    """Two hosts of one VSID on different switches (IPv4), if any."""
    hosts = sorted(topo.hosts.values(), key=lambda h: h.endpoint.name)
    for a in hosts:
        for b in hosts:
            aa, ba = a.endpoint.attachment, b.endpoint.attachment
            if (
                a.endpoint.vsid == b.endpoint.vsid
                and isinstance(aa, LocalAttachment)
                and isinstance(ba, LocalAttachment)
                and aa.switch != ba.switch
                and a.ipv4
                and b.ipv4
            ):
                return a, b
    return None
