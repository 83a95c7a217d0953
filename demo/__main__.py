"""`make run`: the overlay, live.

Builds the demo topology from an overlay description (default:
examples/two-tor-two-tenants.yaml), starts one p4sim switch per switch of the
description on its veths, applies the description with the controller, then keeps
the controller running (`nve run`: learning, ARP/ND and MTU punts) and proves what the
overlay does with real traffic between the tenants' host namespaces:

- every pair of endpoints in one virtual subnet reaches each other (IPv4 and IPv6),
  across switches through NVGRE, and the neighbour entry is the right host's MAC;
- endpoints of one tenant in different subnets reach each other (routed);
- endpoints of different tenants never do, even with overlapping addresses;
- every host's IPv6 address passes Duplicate Address Detection (added once the
  controller runs, so the probes cross the NVE's ND proxy, which must not answer a
  host's probe for its own address);
- each host on a switch pings its gateway, and traceroute toward another subnet of its
  tenant shows the gateway as the first hop;
- a 1,500-byte ping without DF crosses the tunnel (fragmented by the controller).

Then it prints what a user can try (each VM's namespace, one-line commands: ping,
tcpdump on an underlay link, `nve show`/`nve stats`, the Prometheus URL, OVS's own
tools) and the switches' counters every few seconds, totals and packets per second per
VSID, remote NVE and drop reason, until Ctrl-C.
``--once`` runs the checks once and exits 0 only if every check holds.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from demo.live import Snapshot, format_report, read_snapshot, try_this
from nve.loader import OverlayError, load_overlay
from nve.model import LocalAttachment, Overlay
from nve.underlay.frr import run_dir_of

if TYPE_CHECKING:
    from demo.topology import Host, Topology

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OVERLAY = REPO / "examples" / "two-tor-two-tenants.yaml"


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


def _bin(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _ping(ns: str, target: str, count: int = 3) -> bool:
    six = ipaddress.ip_address(target).version == 6
    cmd = [
        "ip",
        "netns",
        "exec",
        ns,
        "ping",
        *(["-6"] if six else []),
        "-c",
        str(count),
        "-i",
        "0.2",
        "-W",
        "1",
        target,
    ]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def _neigh_mac(ns: str, target: str) -> str | None:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ip", "neigh", "show", target],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    parts = out.split()
    return parts[parts.index("lladdr") + 1].lower() if "lladdr" in parts else None


def _first_hop(ns: str, target: str) -> str | None:
    """The address that answers a TTL / hop limit 1 probe toward target (traceroute's first
    hop), from ping's "Time to live exceeded" line; None if nothing answered."""
    six = ipaddress.ip_address(target).version == 6
    cmd = ["ip", "netns", "exec", ns, "ping", *(["-6"] if six else []), "-c", "1", "-t", "1"]
    out = subprocess.run(
        [*cmd, "-W", "2", target], capture_output=True, text=True, check=False
    ).stdout
    m = re.search(r"From ([0-9A-Fa-f.:]+).*(Time to live exceeded|Time exceeded)", out)
    return m.group(1) if m else None


def mtu_checks(overlay: Overlay, hosts: dict[str, Host]) -> list[Check]:
    """A full-size (1,500-byte) IPv4 ping without DF between two hosts of one subnet on
    different switches: it does not fit the tunnel over a 1,500-byte underlay, so the
    switch punts it and the controller fragments it before encapsulation (RFC 4459)."""
    names = sorted(hosts)
    for a in names:
        for b in names:
            ha, hb = hosts[a], hosts[b]
            ea, eb = ha.endpoint, hb.endpoint
            if a == b or ea.vsid != eb.vsid or ha.ipv4 is None or hb.ipv4 is None:
                continue
            if not (
                isinstance(ea.attachment, LocalAttachment)
                and isinstance(eb.attachment, LocalAttachment)
            ):
                continue
            if ea.attachment.switch == eb.attachment.switch:
                continue
            cmd = ["ip", "netns", "exec", ha.ns, "ping", "-M", "dont", "-s", "1472"]
            ok = (
                subprocess.run(
                    [*cmd, "-c", "2", "-i", "0.3", "-W", "2", hb.ipv4],
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            )
            return [Check(f"{a} -> {b} 1500-byte ping without DF (fragmented for the tunnel)", ok)]
    return []


def gateway_checks(overlay: Overlay, hosts: dict[str, Host]) -> list[Check]:
    """Each locally attached host pings its subnet's gateway addresses, and a probe with TTL
    1 toward a host of another subnet of its tenant is answered by the gateway (Time
    Exceeded), as traceroute's first hop. Hosts behind a remote NVE are not checked: the
    controller answers only frames from access ports (docs/controller.md)."""
    tenant = _tenant_of(overlay)
    subnets = {s.vsid: s for t in overlay.tenants for s in t.subnets}
    checks: list[Check] = []
    for name in sorted(hosts):
        h = hosts[name]
        sub = subnets.get(h.endpoint.vsid)
        gw = sub.gateway if sub is not None else None
        if gw is None or not isinstance(h.endpoint.attachment, LocalAttachment):
            continue
        for fam, iface in (("ipv4", gw.ipv4), ("ipv6", gw.ipv6)):
            if iface is not None and getattr(h, fam) is not None:
                ok = _ping(h.ns, str(iface.ip), count=2)
                checks.append(Check(f"{name} pings its gateway {iface.ip}", ok))
        other = next(
            (
                o
                for o in hosts.values()
                if tenant.get(o.endpoint.vsid) == tenant.get(h.endpoint.vsid)
                and o.endpoint.vsid != h.endpoint.vsid
                and o.ipv4 is not None
            ),
            None,
        )
        if other is not None and other.ipv4 is not None and gw.ipv4 is not None:
            hop = _first_hop(h.ns, other.ipv4)
            want = str(gw.ipv4.ip)
            checks.append(
                Check(
                    f"{name} traceroute toward {other.ipv4}: first hop is its gateway {want}",
                    hop == want,
                    "" if hop == want else f"first hop {hop}",
                )
            )
    return checks


def underlay_checks(overlay: Overlay, topo: Topology, timeout: float = 60.0) -> list[Check]:
    """With the BGP underlay: the spine learns every switch's IPv4 PAs, each switch's host
    learns the other switches' PAs and the hypervisors' subnets (waited for, then held a
    moment so the switches' tables follow their kernels), and no namespace holds a
    permanent neighbour or a route written by hand (demo.underlay.static_state)."""
    from demo.underlay import bgp_routes, static_state

    assert topo.spine is not None
    pas = {
        sw.name: [str(pa) for pa in sw.local_pas if ipaddress.ip_address(str(pa)).version == 4]
        for sw in overlay.switches
    }
    announced = list(topo.spine.announce)
    want = {
        name: [pa for other, ps in pas.items() if other != name for pa in ps] + announced
        for name in topo.switch_hosts
    }

    def missing() -> list[str]:
        spine = set(topo.spine.routes()) if topo.spine else set()
        out = [
            f"spine: no BGP route to {pa}" for ps in pas.values() for pa in ps if pa not in spine
        ]
        for name, ns in topo.switch_hosts.items():
            have = set(bgp_routes(ns))
            out += [f"{name}: no BGP route to {d}" for d in want[name] if d not in have]
        return out

    deadline = time.monotonic() + timeout
    while (gaps := missing()) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2.0)  # the controller writes the kernel's routes into the switches' tables
    checks = [
        Check(
            "underlay: BGP (unnumbered, through the switches) gave the spine every switch's"
            " PA and each switch the others' and the hypervisors'",
            not gaps,
            "; ".join(gaps),
        )
    ]
    namespaces = [topo.spine_ns, *topo.switch_hosts.values()]
    namespaces += [h.ns for h in topo.hosts.values()] + [hv.ns for hv in topo.remotes.values()]
    found = static_state(sorted(set(namespaces)))
    checks.append(
        Check(
            "underlay: no permanent neighbour and no hand-written route in any namespace",
            not found,
            "; ".join(found[:5]),
        )
    )
    return checks


def remote_nve_checks(topo: Topology) -> list[Check]:
    """Each Open vSwitch hypervisor resolved its next hop (the spine) by ARP itself: its
    tunnel neighbour cache holds the spine's address with the spine's MAC."""
    checks: list[Check] = []
    for name, hv in sorted(topo.remotes.items()):
        if hv.ovs is None:
            continue
        mac = subprocess.run(
            ["ip", "netns", "exec", topo.spine_ns, "cat", f"/sys/class/net/{hv.spine_if}/address"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        try:
            arp = hv.ovs.appctl("tnl/arp/show")
        except RuntimeError as exc:
            arp = str(exc)
        ok = any(hv.spine_ip in line and mac in line for line in arp.splitlines())
        checks.append(
            Check(
                f"{name} (Open vSwitch) resolved the spine {hv.spine_ip} by ARP",
                ok,
                "" if ok else f"tnl/arp/show: {arp.strip()}",
            )
        )
    return checks


def _tenant_of(overlay: Overlay) -> dict[int, str]:
    return {s.vsid: t.name for t in overlay.tenants for s in t.subnets}


def run_checks(overlay: Overlay, hosts: dict[str, Host]) -> list[Check]:
    tenant = _tenant_of(overlay)
    checks: list[Check] = []
    names = sorted(hosts)
    # Reachability within a tenant once per pair (a ping tests both directions); isolation
    # between tenants from each side, since routes and VRFs are per direction.
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ha, hb = hosts[a], hosts[b]
            ea, eb = ha.endpoint, hb.endpoint
            same_tenant = tenant.get(ea.vsid) == tenant.get(eb.vsid)
            if a == b or (same_tenant and j < i):
                continue
            if same_tenant:
                kind = "bridged" if ea.vsid == eb.vsid else "routed"
                for fam in ("ipv4", "ipv6"):
                    dst = getattr(hb, fam)
                    if dst is None or getattr(ha, fam) is None:
                        continue
                    if kind == "routed" and fam == "ipv6":
                        continue
                    ok = _ping(ha.ns, dst)
                    detail = ""
                    if ok and kind == "bridged":
                        mac = _neigh_mac(ha.ns, dst)
                        if mac != str(eb.mac).lower():
                            ok, detail = False, f"neighbour {dst} is {mac}, expected {eb.mac}"
                    checks.append(Check(f"{a} -> {b} {fam} ({kind}, {dst})", ok, detail))
            else:
                dst = hb.ipv4
                if dst is None or ha.ipv4 is None:
                    continue
                # Overlapping addresses: the same IP exists in a's own tenant, and the ping
                # there is a's own business; what must hold is that it never reaches b.
                owner = next(
                    (
                        h
                        for h in hosts.values()
                        if h.ipv4 == dst and tenant.get(h.endpoint.vsid) == tenant.get(ea.vsid)
                    ),
                    None,
                )
                if owner is not None:
                    _ping(ha.ns, dst, count=1)
                    mac = _neigh_mac(ha.ns, dst)
                    ok = mac != str(eb.mac).lower()
                    checks.append(
                        Check(
                            f"{a} -/-> {b} (overlapping {dst} stays in tenant {tenant.get(ea.vsid)})",
                            ok,
                            "" if ok else f"{a} resolved {dst} to {b}'s MAC {mac}",
                        )
                    )
                else:
                    ok = not _ping(ha.ns, dst, count=2)
                    checks.append(
                        Check(
                            f"{a} -/-> {b} (other tenant, {dst})", ok, "" if ok else "ping answered"
                        )
                    )
    return checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make run", description=__doc__.split("\n\n")[0])
    ap.add_argument("overlay", nargs="?", default=str(DEFAULT_OVERLAY))
    ap.add_argument(
        "--once", action="store_true", help="run the checks once and exit (0: all hold)"
    )
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between counter reports")
    ap.add_argument(
        "--static-underlay",
        action="store_true",
        help="keep the description's static next hops and routes (default: a BGP underlay"
        " through FRR when FRR is installed)",
    )
    args = ap.parse_args(argv)

    if os.geteuid() != 0:
        print(
            "make run: needs root (it creates veth pairs and network namespaces)", file=sys.stderr
        )
        return 2
    for tool in ("ip", "ping", "ethtool"):
        if shutil.which(tool) is None:
            print(f"make run: `{tool}` is missing (run `make bootstrap` as root)", file=sys.stderr)
            return 2
    try:
        loaded = load_overlay(args.overlay)
    except OverlayError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    overlay = loaded.overlay

    from demo.topology import build  # after the checks: it imports the harness
    from demo.underlay import bgp_description, bgp_wanted
    from lab.targets import free_tcp_port, wait_for_port

    log_dir = REPO / "out" / "demo"
    log_dir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    topo = None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        print(
            f"[1/4] building the topology for {len(overlay.switches)} switches and {len(overlay.endpoints)} endpoints"
        )
        why_static = "asked for" if args.static_underlay else bgp_wanted()
        topo = build(overlay, bgp=why_static is None)
        topo.start()
        overlay_path = args.overlay
        if topo.spine is not None:
            data, notes = bgp_description(Path(args.overlay), topo.switch_hosts)
            derived = log_dir / "overlay-bgp.yaml"
            derived.write_text(yaml.safe_dump(data, sort_keys=False))
            overlay_path = str(derived)
            topo.spine.start()
            topo.notes += notes
            topo.notes.append(
                f"underlay: BGP unnumbered between the switches' hosts and the FRR spine;"
                f" the description run is {derived}"
            )
            topo.hints.append(topo.spine.vtysh_hint())
        else:
            topo.notes.append(f"underlay: static next hops and routes ({why_static})")
        for note in topo.notes:
            print(f"      note: {note}")
        print("[2/4] starting p4sim switches")
        for sw in overlay.switches:
            log = log_dir / f"{sw.name}.log"
            cmd = [_bin("p4sim"), "--no-p4", "--device-id", str(sw.device_id)]
            for port, ifname in topo.switch_ports[sw.name]:
                cmd += ["-i", f"{port}@{ifname}"]
            cmd += ["--", "--grpc-server-addr", sw.address, "--cpu-port", str(sw.cpu_port)]
            with open(log, "wb") as fh:
                procs.append(subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT))
            host, grpc_port = sw.address.rsplit(":", 1)
            try:
                wait_for_port(host, int(grpc_port), procs[-1])
            except RuntimeError as exc:
                raise RuntimeError(
                    f"{sw.name}: {exc}; log:\n{log.read_text(errors='replace')[-2000:]}"
                ) from None
            print(
                f"      {sw.name}: P4Runtime on {sw.address}, ports {[p for p, _ in topo.switch_ports[sw.name]]}"
            )
        print("[3/4] applying the overlay with the controller")
        apply = subprocess.run(
            [_bin("nve"), "apply", overlay_path], capture_output=True, text=True, check=False
        )
        print("      " + (apply.stdout.strip() or apply.stderr.strip()).replace("\n", "\n      "))
        if apply.returncode != 0:
            print("make run: `nve apply` failed", file=sys.stderr)
            return 1
        ctl_log = log_dir / "nve-run.log"
        metrics_port = free_tcp_port()
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        with open(ctl_log, "wb") as fh:
            procs.append(
                subprocess.Popen(
                    [_bin("nve"), "run", overlay_path, "--metrics-port", str(metrics_port)],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for_controller(ctl_log, [sw.name for sw in overlay.switches], procs[-1])
        checks: list[Check] = []
        if topo.spine is not None:
            checks += underlay_checks(overlay, topo)
        print("[4/4] traffic checks")
        # IPv6 addresses only now, with DAD, so that every probe crosses the ND proxy.
        dad = topo.add_ipv6()
        checks += [
            Check(
                f"{name} IPv6 address {topo.hosts[name].ipv6} passes DAD (not a duplicate)",
                state == "ok",
                "" if state == "ok" else f"address is {state}",
            )
            for name, state in sorted(dad.items())
        ]
        checks += run_checks(overlay, topo.hosts)
        checks += gateway_checks(overlay, topo.hosts)
        checks += mtu_checks(overlay, topo.hosts)
        checks += remote_nve_checks(topo)
        for c in checks:
            print(
                f"      {'PASS' if c.ok else 'FAIL'}  {c.what}{'  -- ' + c.detail if c.detail else ''}"
            )
        passed = sum(c.ok for c in checks)
        print(f"{passed} passed, {len(checks) - passed} failed")
        prev = _print_stats(overlay_path, None)
        if args.once:
            return 0 if checks and passed == len(checks) else 1
        print("\n".join(try_this(_bin("nve"), overlay_path, topo, metrics_url)))
        print("overlay is up; counters every %.0f s; Ctrl-C to stop" % args.interval, flush=True)
        while True:
            time.sleep(args.interval)
            prev = _print_stats(overlay_path, prev)
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if topo is not None:
            topo.close()
            for ns in topo.switch_hosts.values():  # nve run started their FRR; the lab ended it
                shutil.rmtree(run_dir_of(ns), ignore_errors=True)


def _wait_for_controller(
    log: Path, switches: list[str], proc: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    """Until `nve run` has reconciled every switch (it then handles their packet-ins: the
    hosts' DAD probes must reach it), or it exited, or timeout seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        done = {
            name
            for m in re.finditer(r"reconciled (\S+):", log.read_text(errors="replace"))
            for name in m.group(1).split(",")
        }
        if done >= set(switches):
            return
        time.sleep(0.2)
    print(f"      note: `nve run` did not report every switch reconciled; see {log}")


def _print_stats(overlay_path: str, prev: Snapshot | None) -> Snapshot | None:
    """Print the counters (totals, and rates since ``prev``); the snapshot for the next."""
    cur = read_snapshot(_bin("nve"), overlay_path)
    if isinstance(cur, str):
        print(f"(nve stats failed: {cur})", flush=True)
        return prev
    print(format_report(cur, prev), flush=True)
    return cur


if __name__ == "__main__":
    sys.exit(main())
