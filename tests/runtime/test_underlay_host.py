"""The switch's control-plane host (nve.underlay): its kernel answers ARP and ND for the
switch's addresses and resolves its neighbours through the switch's network port.

Topology: a p4sim switch whose port 3 (network) is a veth to a "spine" namespace (a plain
Linux router end: 10.1.0.2/29 and fd00:1::2/64, and a second router on the same link, a
macvlan with its own MAC: 10.1.0.3/29); `nve run` with `underlay:` gives the switch a
host namespace where TAP port3 carries 10.1.0.1/29 and fd00:1::1/64 and the loopback the
PAs 10.0.0.1 and fd00:a::1 (the latter also answered by proxy NDP); the description's static
next hop "spine1" (the spine's MAC) and its routes become a permanent neighbour and static
routes there. Everything the spine's kernel and the
host's kernel exchange crosses the switch: punted by the pipeline, relayed to the TAP by
the controller, and the kernel's answers sent back by packet-out.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from lab.targets import RunningSwitch, compile_pipeline, start_switch
from lab.underlay_tables import Underlay
from lab.underlay_tables import read_underlay as read_switch_underlay
from tests.support.nve_run import NveRun
from tests.support.shell import sh

pytestmark = pytest.mark.root

NVE_MAC = "02:00:0a:00:00:01"
PA4, PA6 = "10.0.0.1", "fd00:a::1"
PORT4, SPINE4, SPINE4B = "10.1.0.1/29", "10.1.0.2/29", "10.1.0.3/29"
PORT6, SPINE6 = "fd00:1::1/64", "fd00:1::2/64"
NET_PORT = 3
STATIC4, STATIC6 = "10.0.7.0/24", "fd00:7::/64"  # the description's routes via spine1
BEYOND4, BEYOND6 = "10.0.7.1", "fd00:7::1"  # on the spine's loopback


@dataclass
class Fabric:
    switch: RunningSwitch
    spine_ns: str
    spine_if: str
    host_ns: str
    work: Path
    p4info: Path


@pytest.fixture(scope="module")
def fabric(tmp_path_factory) -> Iterator[Fabric]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    work = tmp_path_factory.mktemp("underlay-host")
    pipeline = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net:
        spine = net.namespace("spine")
        host = net.namespace("host")  # created here so the lab removes it; nve reuses it
        pair = net.veth_pair(NET_PORT, test_ns=spine)
        sh("sysctl", "-qw", f"net.ipv6.conf.{pair.test_if}.disable_ipv6=0", ns=spine)
        sh("ip", "addr", "add", SPINE4, "dev", pair.test_if, ns=spine)
        sh("ip", "addr", "add", SPINE6, "dev", pair.test_if, "nodad", ns=spine)
        # A second router on the link, with a MAC of its own; each address answered only
        # by its own interface.
        sh("ip", "link", "add", "link", pair.test_if, "name", "mv0", "type", "macvlan", ns=spine)
        sh("sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", ns=spine)
        sh("ip", "addr", "add", SPINE4B, "dev", "mv0", ns=spine)
        sh("ip", "link", "set", "mv0", "up", ns=spine)
        sh("ip", "addr", "add", f"{BEYOND4}/32", "dev", "lo", ns=spine)
        sh("ip", "addr", "add", f"{BEYOND6}/128", "dev", "lo", ns=spine)
        spine_mac = mac_of(spine, pair.test_if)
        switch = start_switch("p4sim", [pair], pipeline, work / "logs")
        try:
            overlay = {
                "switches": [
                    {
                        "name": "tor1",
                        "address": switch.grpc_addr,
                        "pipeline": {
                            "p4info": str(pipeline.p4info),
                            "device_config": str(pipeline.device_config),
                        },
                        "election_id": 10,
                        "nve_mac": NVE_MAC,
                        "local_pas": [PA4, PA6],
                        "underlay": {"namespace": host},
                        "ports": [
                            {"port": 1, "role": "access"},
                            {"port": NET_PORT, "role": "network", "addresses": [PORT4, PORT6]},
                        ],
                        "next_hops": [{"name": "spine1", "port": NET_PORT, "mac": spine_mac}],
                        "underlay_routes": [
                            {"prefix": STATIC4, "via": "spine1"},
                            {"prefix": STATIC6, "via": "spine1"},
                        ],
                    }
                ]
            }
            (work / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
            yield Fabric(switch, spine, pair.test_if, host, work, pipeline.p4info)
        finally:
            switch.stop()


@pytest.fixture
def nve(fabric: Fabric, tmp_path) -> Iterator[NveRun]:
    run = NveRun(fabric.work / "overlay.yaml", tmp_path / "nve-run.log").start()
    yield run
    run.stop()


def mac_of(ns: str, dev: str) -> str:
    return json.loads(sh("ip", "-j", "link", "show", dev, ns=ns))[0]["address"]


def neighbour(ns: str, address: str, timeout: float = 10.0) -> dict:
    """The neighbour entry for `address` in `ns` once resolved (lladdr known)."""
    end = time.monotonic() + timeout
    entry: dict = {}
    while time.monotonic() < end:
        shown = json.loads(sh("ip", "-j", "neigh", "show", address, ns=ns) or "[]")
        entry = shown[0] if shown else {}
        if entry.get("lladdr") and not set(entry.get("state", [])) & {"FAILED", "INCOMPLETE"}:
            return entry
        time.sleep(0.1)
    raise AssertionError(f"{address} not resolved in {ns}: {entry}")


def test_spine_resolves_the_port_address_and_the_pas(fabric: Fabric, nve: NveRun) -> None:
    spine, dev = fabric.spine_ns, fabric.spine_if
    sh("ip", "route", "replace", f"{PA4}/32", "dev", dev, ns=spine)  # on-link: ARP for the PA
    sh("ip", "-6", "route", "replace", f"{PA6}/128", "dev", dev, ns=spine)
    for address in (PORT4.split("/", maxsplit=1)[0], PA4, PORT6.split("/", maxsplit=1)[0], PA6):
        sh("ip", "neigh", "flush", "to", address, "dev", dev, ns=spine, check=False)
        # What matters here is the address resolution (the echo is test_the_spine_pings_...).
        sh("ping", "-c", "1", "-W", "1", address, ns=spine, check=False)
        assert neighbour(spine, address)["lladdr"] == NVE_MAC, address


def addr(interface: str) -> str:
    return interface.split("/", maxsplit=1)[0]


def test_the_spine_pings_the_switchs_addresses(fabric: Fabric, nve: NveRun) -> None:
    """Echo requests to the PAs and the port addresses cross the switch (punted,
    PUNT_UNDERLAY_LOCAL, relayed to port3) and the host's kernel answers them."""
    spine, dev = fabric.spine_ns, fabric.spine_if
    sh("ip", "route", "replace", f"{PA4}/32", "via", addr(PORT4), "dev", dev, ns=spine)
    sh("ip", "-6", "route", "replace", f"{PA6}/128", "via", addr(PORT6), "dev", dev, ns=spine)
    for target in (PA4, addr(PORT4), PA6, addr(PORT6)):
        out = subprocess.run(
            ["ip", "netns", "exec", spine, "ping", "-c", "3", "-W", "2", target],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.returncode == 0, f"no echo reply from {target}:\n{out.stdout}"
        assert " 0 received" not in out.stdout


LISTENER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 179))
    s.listen(1)
    print("listening", flush=True)
    s.settimeout(20)
    conn, peer = s.accept()
    with conn:
        conn.sendall(b"open " + peer[0].encode())
"""

CONNECT = """
import socket, sys
with socket.create_connection((sys.argv[1], 179), timeout=20) as s:
    print(s.recv(100).decode())
"""


@pytest.mark.parametrize("port_address", [PORT4, PORT6])
def test_tcp_to_the_port_address_reaches_a_listener_in_the_host(
    fabric: Fabric, nve: NveRun, port_address: str
) -> None:
    """What a BGP session needs: the spine's TCP connection to port 179 on the port's
    address completes with a listener in the host namespace, both ways through the switch."""
    target = addr(port_address)
    spine_ip = addr(SPINE6 if ":" in target else SPINE4)
    listener = subprocess.Popen(
        ["ip", "netns", "exec", fabric.host_ns, sys.executable, "-c", LISTENER, target],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert listener.stdout is not None
        assert listener.stdout.readline().strip() == "listening", listener.stderr
        out = subprocess.run(
            ["ip", "netns", "exec", fabric.spine_ns, sys.executable, "-c", CONNECT, target],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"open {spine_ip}"
        assert listener.wait(timeout=10) == 0
    finally:
        if listener.poll() is None:
            listener.kill()
        listener.wait()


def eui64_link_local(mac: str) -> str:
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 2, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def test_static_lines_are_a_permanent_neighbour_and_routes(fabric: Fabric, nve: NveRun) -> None:
    """The description's next hop spine1 is a PERMANENT neighbour on port3 (its MAC, under
    the link-local address derived from it), its routes static routes through it: the
    host reaches the spine's loopback addresses by them, through the switch."""
    host = fabric.host_ns
    spine_mac = mac_of(fabric.spine_ns, fabric.spine_if)
    gateway = eui64_link_local(spine_mac)
    shown = json.loads(sh("ip", "-j", "neigh", "show", gateway, "dev", "port3", ns=host))
    assert [(n["lladdr"], n["state"]) for n in shown] == [(spine_mac, ["PERMANENT"])]
    assert f"via inet6 {gateway} dev port3" in sh("ip", "route", "show", STATIC4, ns=host)
    assert f"via {gateway} dev port3" in sh("ip", "-6", "route", "show", STATIC6, ns=host)
    for target in (BEYOND4, BEYOND6):
        out = subprocess.run(
            ["ip", "netns", "exec", host, "ping", "-c", "3", "-W", "2", target],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.returncode == 0, f"no echo reply from {target}:\n{out.stdout}"


def test_the_hosts_kernel_resolves_the_spine(fabric: Fabric, nve: NveRun) -> None:
    spine_mac = mac_of(fabric.spine_ns, fabric.spine_if)
    for address in (SPINE4.split("/", maxsplit=1)[0], SPINE6.split("/", maxsplit=1)[0]):
        sh("ip", "neigh", "flush", "to", address, "dev", "port3", ns=fabric.host_ns, check=False)
        sh("ping", "-c", "1", "-W", "1", address, ns=fabric.host_ns, check=False)
        assert neighbour(fabric.host_ns, address)["lladdr"] == spine_mac, address


def test_the_host_keeps_its_interfaces_across_a_controller_restart(
    fabric: Fabric, nve: NveRun
) -> None:
    addrs = json.loads(sh("ip", "-j", "addr", "show", "dev", "port3", ns=fabric.host_ns))[0]
    assert addrs["address"] == NVE_MAC
    nve.stop()
    kept = json.loads(sh("ip", "-j", "addr", "show", "dev", "port3", ns=fabric.host_ns))[0]
    owned = {f"{a['local']}/{a['prefixlen']}" for a in kept["addr_info"] if a["scope"] == "global"}
    assert owned == {PORT4, PORT6}
    lo = json.loads(sh("ip", "-j", "addr", "show", "dev", "lo", ns=fabric.host_ns))[0]
    assert f"{PA4}/32" in {f"{a['local']}/{a['prefixlen']}" for a in lo["addr_info"]}


def read_underlay(fabric: Fabric) -> Underlay:
    return read_switch_underlay(fabric.switch.grpc_addr, fabric.p4info)


def until(what: str, check, timeout: float = 15.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = check()
            if last:
                return last
        except KeyError as exc:
            last = f"missing {exc}"
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


def test_switch_tables_follow_the_kernels_neighbours_and_routes(
    fabric: Fabric, nve: NveRun
) -> None:
    host, spine = fabric.host_ns, fabric.spine_ns
    mac_a, mac_b = mac_of(spine, fabric.spine_if), mac_of(spine, "mv0")
    gw_a, gw_b = SPINE4.split("/", maxsplit=1)[0], SPINE4B.split("/", maxsplit=1)[0]
    gw6 = SPINE6.split("/", maxsplit=1)[0]
    for gw in (gw_a, gw_b, gw6):
        sh("ping", "-c", "1", "-W", "1", gw, ns=host, check=False)
        neighbour(host, gw)
    sh("ip", "route", "replace", "10.0.9.0/24", "via", gw_a, "dev", "port3", ns=host)
    sh(
        "ip", "route", "replace", "10.0.8.0/24",
        "nexthop", "via", gw_a, "dev", "port3",
        "nexthop", "via", gw_b, "dev", "port3",
        ns=host,
    )  # fmt: skip
    # A route through one neighbour, an ECMP group of two, and each on-link neighbour.
    until("routes on the switch", lambda: read_underlay(fabric).paths("10.0.8.0/24") == {
        (NET_PORT, mac_a), (NET_PORT, mac_b)})  # fmt: skip
    tables = read_underlay(fabric)
    assert tables.paths("10.0.9.0/24") == {(NET_PORT, mac_a)}
    assert tables.paths(f"{gw_b}/32") == {(NET_PORT, mac_b)}
    assert tables.paths(f"{gw6}/128") == {(NET_PORT, mac_a)}  # IPv6 on-link neighbour
    # A neighbour that goes away leaves the group at once; the route stays on the other.
    sh("ip", "neigh", "del", gw_b, "dev", "port3", ns=host)
    sh("ip", "neigh", "add", gw_b, "dev", "port3", "nud", "failed", ns=host, check=False)
    until("the gone neighbour out of the group", lambda: read_underlay(fabric).paths(
        "10.0.8.0/24") == {(NET_PORT, mac_a)})  # fmt: skip
    # A route the kernel removes leaves the switch.
    sh("ip", "route", "del", "10.0.9.0/24", ns=host)
    until("the removed route off the switch", lambda: "10.0.9.0/24" not in read_underlay(
        fabric).routes)  # fmt: skip
