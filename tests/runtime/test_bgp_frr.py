"""BGP through FRR (nve.underlay.frr): the description's `underlay.bgp`, its validation,
the configuration rendered for FRR, and two real FRR instances in two namespaces joined
by a veth (no switch): the session comes up, each side installs the other's PA in its
kernel, BFD follows the session, a second start keeps the running daemons.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from nve.compile import compile_switch
from nve.controller import blocking_problems
from nve.loader import parse_overlay
from nve.model import Switch
from nve.runner import MetricsCollector
from nve.underlay.bgp_service import BgpService, show_lines
from nve.underlay.frr import FrrInstance, Peer, frr_missing, parse_summary
from nve.underlay.frr_config import render_switch
from tests.runtime.test_validate import BASE, assert_one, mutate

if TYPE_CHECKING:
    from nve.controller import Controller

BGP = {
    "asn": 65101,
    "router_id": "10.0.0.1",
    "timers": {"keepalive": 1, "hold": 3},
    "neighbors": [{"address": "10.1.0.0", "remote_asn": 65000}],
}


def with_bgp(bgp: dict, addresses: list[str] | None = None) -> Callable[[dict], None]:
    def fn(d: dict) -> None:
        sw = d["switches"][0]
        sw["underlay"] = {"bgp": copy.deepcopy(bgp)}
        sw["ports"][2]["addresses"] = addresses if addresses is not None else ["10.1.0.1/31"]

    return fn


def test_valid_bgp_section_has_no_problems():
    assert mutate(with_bgp(BGP)) == []


def test_neighbour_off_every_port_subnet():
    bgp = {**BGP, "neighbors": [{"address": "10.9.0.2", "remote_asn": 65000}]}
    assert_one(
        mutate(with_bgp(bgp)),
        "switches[0].underlay.bgp.neighbors[0].address",
        "10.9.0.2 is on no network port's subnet",
    )


def test_neighbour_twice_and_own_address():
    bgp = {
        **BGP,
        "neighbors": [
            {"address": "10.1.0.0", "remote_asn": 65000},
            {"address": "10.1.0.0", "remote_asn": 65001},
            {"address": "10.1.0.1", "remote_asn": 65001},
        ],
    }
    problems = mutate(with_bgp(bgp))
    assert_one(problems, "switches[0].underlay.bgp.neighbors[1].address", "also neighbors[0]")
    assert_one(problems, "switches[0].underlay.bgp.neighbors[2].address", "own port address")


def test_advertise_without_a_neighbour_of_its_family():
    bgp = {**BGP, "advertise": ["10.0.0.1", "fd00:a::1"]}
    assert_one(
        mutate(with_bgp(bgp)),
        "switches[0].underlay.bgp.advertise[1]",
        "no IPv6 neighbour to advertise it to",
    )


def test_unnumbered_neighbours_name_a_network_port_once():
    bgp = {
        **BGP,
        "neighbors": [
            {"port": 3, "remote_asn": 65000},
            {"port": 3, "remote_asn": 65001},
            {"port": 1, "remote_asn": 65001},
        ],
    }
    problems = mutate(with_bgp(bgp, addresses=[]))
    assert_one(problems, "switches[0].underlay.bgp.neighbors[1].port", "also neighbors[0]")
    assert_one(
        problems, "switches[0].underlay.bgp.neighbors[2].port", "port 1 is not a network port"
    )


def test_a_neighbour_is_numbered_or_unnumbered_not_both():
    both = {**BGP, "neighbors": [{"address": "10.1.0.0", "port": 3, "remote_asn": 65000}]}
    neither = {**BGP, "neighbors": [{"remote_asn": 65000}]}
    for bgp in (both, neither):
        assert_one(
            mutate(with_bgp(bgp)),
            "switches[0].underlay.bgp.neighbors[0]",
            "either address (numbered) or port (unnumbered)",
        )


def test_an_unnumbered_session_carries_both_families(tmp_path: Path):
    data = copy.deepcopy(cast("list", BASE["switches"])[0])
    bgp = {**BGP, "neighbors": [{"port": 3, "remote_asn": 65000}]}
    data.update(
        local_pas=["10.0.0.1", "fd00:a::1"], underlay={"bgp": bgp}, next_hops=[], underlay_routes=[]
    )
    data["ports"][2]["addresses"] = []
    bgpd = render_switch(Switch.model_validate(data), tmp_path)["bgpd.conf"]
    assert " neighbor port3 interface remote-as 65000" in bgpd.splitlines()
    v4 = bgpd[bgpd.index(" address-family ipv4 unicast") : bgpd.index(" address-family ipv6")]
    v6 = bgpd[bgpd.index(" address-family ipv6 unicast") :]
    assert "network 10.0.0.1/32" in v4 and "neighbor port3 activate" in v4
    assert "network fd00:a::1/128" in v6 and "neighbor port3 activate" in v6
    # An IPv6 PA is advertised with an unnumbered neighbour only: no "no IPv6 neighbour" problem.
    assert mutate(with_bgp({**bgp, "advertise": ["10.0.0.1", "fd00:a::1"]}, addresses=[])) == []


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"timers": {"keepalive": 3, "hold": 3}}, "timers", "keepalive 3 must be shorter"),
        ({"router_id": "fd00::1"}, "router_id", "is not an IPv4 address"),
        ({"asn": 0}, "asn", "greater than or equal to 1"),
        ({"neighbors": []}, "neighbors", "at least 1"),
        ({"bfd": {"interval_ms": 5}}, "bfd.interval_ms", "greater than or equal to 10"),
    ],
)
def test_shape_errors_name_the_path(change: dict, path: str, fragment: str):
    assert_one(mutate(with_bgp({**BGP, **change})), f"switches[0].underlay.bgp.{path}", fragment)


def switch_of(bgp: dict, name: str, pa: str, port_address: str) -> Switch:
    data: dict[str, Any] = copy.deepcopy(cast("list", BASE["switches"])[0])
    data.update(
        name=name,
        local_pas=[pa],
        underlay={"bgp": bgp},
        next_hops=[],
        underlay_routes=[],
    )
    data["ports"][2]["addresses"] = [port_address]
    return Switch.model_validate(data)


def test_rendered_configuration(tmp_path: Path):
    sw = switch_of({**BGP, "bfd": {"interval_ms": 100}}, "tor1", "10.0.0.1", "10.1.0.1/31")
    files = render_switch(sw, tmp_path)
    assert sorted(files) == ["bfdd.conf", "bgpd.conf", "zebra.conf"]
    bgpd = files["bgpd.conf"].splitlines()
    for line in (
        "router bgp 65101",
        " bgp router-id 10.0.0.1",
        " no bgp ebgp-requires-policy",
        " bgp bestpath as-path multipath-relax",
        " timers bgp 1 3",
        " neighbor 10.1.0.0 remote-as 65000",
        " neighbor 10.1.0.0 timers connect 1",
        "  network 10.0.0.1/32",
        "  neighbor 10.1.0.0 activate",
        "  maximum-paths 8",
    ):
        assert line in bgpd
    assert not any("bfd" in line for line in bgpd)  # added once the session is up
    assert "no zebra nexthop kernel enable" in files["zebra.conf"]
    assert "interface port3\n no link-detect" in files["zebra.conf"]
    assert " no bgp fast-external-failover" in bgpd
    assert "  receive-interval 100" in files["bfdd.conf"].splitlines()


def test_ipv6_neighbours_get_the_ipv6_pas():
    bgp = {
        **BGP,
        "neighbors": [
            {"address": "10.1.0.0", "remote_asn": 65000},
            {"address": "fd00:1::2", "remote_asn": 65000},
        ],
    }
    data = copy.deepcopy(cast("list", BASE["switches"])[0])
    data.update(
        local_pas=["10.0.0.1", "fd00:a::1"], underlay={"bgp": bgp}, next_hops=[], underlay_routes=[]
    )
    data["ports"][2]["addresses"] = ["10.1.0.1/31", "fd00:1::1/64"]
    bgpd = render_switch(Switch.model_validate(data), Path("/run/x"))["bgpd.conf"]
    v4 = bgpd[bgpd.index(" address-family ipv4 unicast") : bgpd.index(" address-family ipv6")]
    v6 = bgpd[bgpd.index(" address-family ipv6 unicast") :]
    assert "network 10.0.0.1/32" in v4 and "neighbor 10.1.0.0 activate" in v4
    assert "fd00" not in v4
    assert "network fd00:a::1/128" in v6 and "neighbor fd00:1::2 activate" in v6
    assert "10.1.0.0" not in v6


def test_parse_summary_reads_both_families():
    doc = {
        "ipv4Unicast": {
            "peers": {
                "10.1.0.2": {"remoteAs": 65000, "state": "Established", "pfxRcd": 2},
            }
        },
        "ipv6Unicast": {"peers": {"fd00:1::2": {"remoteAs": 65000, "state": "Active"}}},
    }
    assert parse_summary(doc) == [
        Peer("10.1.0.2", "ipv4", 65000, "Established", 2, 0),
        Peer("fd00:1::2", "ipv6", 65000, "Active", 0, 0),
    ]


# -- two real FRR instances ------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    end = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s (last: {last!r})")


def kernel_routes(ns: str) -> list[dict]:
    out = subprocess.run(
        ["ip", "-n", ns, "-j", "route", "show", "proto", "bgp"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout or "[]")


BFD = {"interval_ms": 100, "multiplier": 3}


def switch_a(**bgp: object) -> Switch:
    """The pair's active side (AS 65101), with BFD; `bgp` overrides its section's keys."""
    section = {**BGP, "bfd": BFD, "neighbors": [{"address": "10.1.0.0", "remote_asn": 65000}]}
    return switch_of({**section, **bgp}, "tora", "10.0.0.1", "10.1.0.1/31")


def switch_b() -> Switch:
    """The pair's passive side (AS 65000)."""
    section = {
        **BGP,
        "asn": 65000,
        "router_id": "10.0.0.9",
        "bfd": BFD,
        "neighbors": [{"address": "10.1.0.1", "remote_asn": 65101, "passive": True}],
    }
    return switch_of(section, "spine", "10.0.0.9", "10.1.0.0/31")


@pytest.fixture
def pair() -> Iterator[tuple[FrrInstance, FrrInstance, str, str]]:
    why = can_create_interfaces() or frr_missing()
    if why is not None:
        pytest.skip(f"FRR pair test skipped: {why}")
    with LabNetwork() as net:
        a, b = net.namespace("bgpa"), net.namespace("bgpb")
        veth = net.veth_pair(names=(f"nv{net.token}ba", f"nv{net.token}bb"), switch_ns=a, test_ns=b)
        for ns, dev, addr, pa in ((a, veth.switch_if, "10.1.0.1/31", "10.0.0.1/32"),
                                  (b, veth.test_if, "10.1.0.0/31", "10.0.0.9/32")):  # fmt: skip
            subprocess.run(["ip", "-n", ns, "addr", "add", addr, "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "addr", "add", pa, "dev", "lo"], check=True)
        sa, sb = switch_a(), switch_b()
        fa, fb = (
            FrrInstance.of_switch(sa, a),
            FrrInstance.of_switch(sb, b),
        )  # run dirs /run/nve/frr/NS
        try:
            yield fa, fb, a, b
        finally:
            for inst in (fa, fb):
                inst.stop()
                shutil.rmtree(inst.run_dir, ignore_errors=True)


def established(inst: FrrInstance) -> list[Peer]:
    peers = inst.peers()
    return peers if peers and all(p.established for p in peers) else []


def test_two_instances_peer_and_install_each_others_pa(pair):
    fa, fb, a, b = pair
    assert fa.start() and fb.start()
    wait_for("session established", lambda: established(fa) and established(fb))
    # Each kernel routes the other's PA through the peer, as BGP installed it.
    wait_for(
        "10.0.0.9 learned by a",
        lambda: any(
            r["dst"] == "10.0.0.9" and r.get("gateway") == "10.1.0.0" for r in kernel_routes(a)
        ),
    )
    wait_for(
        "10.0.0.1 learned by b",
        lambda: any(r["dst"] == "10.0.0.1" for r in kernel_routes(b)),
    )
    (peer,) = fa.peers()
    assert (peer.address, peer.remote_asn, peer.prefixes_received) == ("10.1.0.0", 65000, 1)

    # BFD is added once the session is up, and comes up itself.
    assert fa.follow_bfd(fa.peers()) == ["10.1.0.0"]
    assert fb.follow_bfd(fb.peers()) == ["10.1.0.1"]
    assert fa.follow_bfd(fa.peers()) == []  # once

    def bfd_up() -> bool:
        peers = json.loads(fa.vtysh("show bfd peers json") or "[]")
        return any(p.get("peer") == "10.1.0.0" and p.get("status") == "up" for p in peers)

    wait_for("BFD session up", bfd_up)

    # A second start with the same description keeps the daemons and the session.
    before = fa.peers()[0].uptime_ms
    again = FrrInstance(fa.name, fa.namespace, fa.bgp, fa.render, fa.run_dir)
    assert again.start() is False
    assert again.peers()[0].established
    assert again.peers()[0].uptime_ms >= before
    assert again.follow_bfd(again.peers()) == []  # already configured in the running bgpd

    # Stopping the peer ends the session; a's kernel forgets the route.
    fb.stop()
    wait_for("session down", lambda: not fa.peers()[0].established)
    wait_for(
        "route withdrawn",
        lambda: not any(r["dst"] == "10.0.0.9" for r in kernel_routes(a)),
    )


def test_a_pa_without_a_route_waits_for_the_kernel_on_a_switch_with_a_host():
    """tor1 tunnels to tor2's PA; with no underlay route to it, a switch without a
    control-plane host cannot be written, one with a host waits for its kernel's route."""
    data = copy.deepcopy(BASE)
    data["switches"][0]["underlay_routes"] = []
    data["endpoints"][2]["vsid"] = 0x1001  # b, on tor2, in a's subnet: a tunnel tor1 -> tor2
    data["endpoints"][2]["mac"] = "52:54:00:00:00:02"
    data["endpoints"][2]["ipv4"] = "192.168.1.11"
    loaded = parse_overlay(yaml.safe_dump(data, sort_keys=False), "t.yaml")
    state = compile_switch(loaded.overlay, "tor1", [])
    no_route = [p for p in state.problems if "no underlay route to 10.0.0.2" in p.message]
    assert no_route
    assert blocking_problems(loaded.overlay, "tor1", state.problems) == state.problems
    mutate_bgp = with_bgp(BGP)
    mutate_bgp(data)
    loaded = parse_overlay(yaml.safe_dump(data, sort_keys=False), "t.yaml")
    state = compile_switch(loaded.overlay, "tor1", [])
    assert {p.message for p in no_route} <= {p.message for p in state.problems}
    assert all(p.message.startswith("no underlay route to") for p in state.problems)
    assert blocking_problems(loaded.overlay, "tor1", state.problems) == []


def test_the_service_restarts_frr_for_a_changed_section_and_reports_metrics(pair):
    _, fb, a, _ = pair
    fb.start()
    service = BgpService()
    service.want(switch_a(), a)
    service.ready("tora")  # the switch relays: FRR starts
    wait_for(
        "the peer's PA received", lambda: service.instances["tora"].peers()[0].prefixes_received
    )
    service._refresh("tora", switch_a())  # same section: nothing restarted
    pid = service.instances["tora"].pid("bgpd")
    assert service.states["tora"].running and service.states["tora"].peers[0].established
    assert service.states["tora"].peers[0].address in service.instances["tora"].bfd_on

    metrics = {
        (m.name, tuple(s.labels.values())): s.value
        for m in MetricsCollector(cast("Controller", None), service)._bgp()
        for s in m.samples
    }
    assert metrics[("nve_bgp_running", ("tora",))] == 1.0
    assert metrics[("nve_bgp_session_up", ("tora", "10.1.0.0", "ipv4"))] == 1.0
    assert metrics[("nve_bgp_prefixes_received", ("tora", "10.1.0.0", "ipv4"))] == 1.0

    changed = switch_a(timers={"keepalive": 2, "hold": 6})
    service._refresh("tora", changed)  # a changed section: FRR restarted with it
    assert service.instances["tora"].pid("bgpd") not in (None, pid)
    assert " timers bgp 2 6" in service.instances["tora"].vtysh("show running-config bgpd")
    wait_for("session back", lambda: service.instances["tora"].peers()[0].prefixes_received)
    show = show_lines(changed, a)
    assert show[1].startswith("  bgp: 10.1.0.0 AS 65000 (ipv4): Established, 1 prefixes received")


def test_a_graceful_restart_keeps_the_routes_on_both_sides(pair):
    """A switch's FRR stopped as a restart (its host moves to another controller): the
    peer keeps its routes, marked stale (RFC 4724), and its own kernel keeps the peer's
    (zebra -r, -K); started again, the session comes back and nothing was withdrawn."""
    fa, fb, a, b = pair
    assert fa.start() and fb.start()
    wait_for("session established", lambda: established(fa) and established(fb))
    wait_for("10.0.0.9 learned by a", lambda: any(r["dst"] == "10.0.0.9" for r in kernel_routes(a)))
    wait_for("10.0.0.1 learned by b", lambda: any(r["dst"] == "10.0.0.1" for r in kernel_routes(b)))
    first = fa.pid("bgpd")
    fa.stop(graceful=True)
    assert fa.pid("bgpd") is None
    wait_for("the peer seeing the session down", lambda: not established(fb))
    for _ in range(20):  # 2 s past the session's end, both kernels still route
        assert any(r["dst"] == "10.0.0.1" for r in kernel_routes(b)), "the peer withdrew"
        assert any(r["dst"] == "10.0.0.9" for r in kernel_routes(a)), "zebra flushed"
        time.sleep(0.1)
    stale = fb.vtysh("show bgp ipv4 unicast 10.0.0.1/32 json")
    assert json.loads(stale)["paths"][0].get("stale"), stale
    assert fa.start()
    assert fa.pid("bgpd") not in (None, first)
    wait_for("session established again", lambda: established(fa) and established(fb))
    wait_for(
        "the stale mark gone",
        lambda: (
            not json.loads(fb.vtysh("show bgp ipv4 unicast 10.0.0.1/32 json"))["paths"][0].get(
                "stale"
            )
        ),
    )


def test_the_service_stops_frr_when_the_section_goes_and_starts_it_when_it_comes_back(pair):
    _, fb, a, _ = pair
    fb.start()
    service = BgpService()
    current: dict[str, Switch | None] = {"tora": switch_a()}
    hosts = {"tora": a}
    service.sync(current.get, lambda: hosts)  # the section is in the first description
    assert "tora" in service.wanted and "tora" not in service.instances  # not ready yet
    service.ready("tora")
    wait_for(
        "the peer's PA installed", lambda: any(r["dst"] == "10.0.0.9" for r in kernel_routes(a))
    )
    pids = [service.instances["tora"].pid(d) for d in ("zebra", "bgpd")]
    assert all(pids)

    # A reload without underlay.bgp: FRR stops, zebra takes BGP's routes out of the kernel.
    plain = switch_a()
    assert plain.underlay is not None
    current["tora"] = plain.model_copy(
        update={"underlay": plain.underlay.model_copy(update={"bgp": None})}
    )
    service.sync(current.get, lambda: hosts)
    assert "tora" not in service.instances and "tora" not in service.states
    assert not any(Path(f"/proc/{p}").exists() for p in pids)
    wait_for("BGP routes withdrawn", lambda: not kernel_routes(a))
    # Stopped for good: the sessions were shut down first, so the peer drops tora's PA
    # at once instead of keeping it for the graceful-restart time (120 s).
    wait_for(
        "the peer dropping tora's PA",
        lambda: not any(r["dst"] == "10.0.0.1" for r in kernel_routes(pair[3])),
        15,
    )

    # Back in a later reload: started at once, the switch having been ready before.
    current["tora"] = switch_a()
    service.sync(current.get, lambda: hosts)
    wait_for(
        "the peer's PA installed again",
        lambda: any(r["dst"] == "10.0.0.9" for r in kernel_routes(a)),
    )

    # The switch leaves the description: stopped again.
    current["tora"] = None
    service.sync(current.get, lambda: hosts)
    assert not service.instances and not service.wanted


def dual_stack(
    name: str, asn: int, pas: list[str], addresses: list[str], peers: list[dict]
) -> Switch:
    data: dict[str, Any] = copy.deepcopy(cast("list", BASE["switches"])[0])
    bgp = {**BGP, "asn": asn, "router_id": pas[0], "neighbors": peers}
    data.update(name=name, local_pas=pas, underlay={"bgp": bgp}, next_hops=[], underlay_routes=[])
    data["ports"][2]["addresses"] = addresses
    return Switch.model_validate(data)


def test_ipv6_sessions_come_up_and_carry_the_ipv6_pas():
    """Dual stack: an IPv4 and an IPv6 session between two instances; each carries only its
    family's PAs, and each kernel routes the other's IPv6 PA through the peer's address."""
    why = can_create_interfaces() or frr_missing()
    if why is not None:
        pytest.skip(f"FRR IPv6 test skipped: {why}")
    with LabNetwork() as net:
        a, b = net.namespace("bgp6a"), net.namespace("bgp6b")
        veth = net.veth_pair(names=(f"nv{net.token}6a", f"nv{net.token}6b"), switch_ns=a, test_ns=b)
        sides = (
            (a, veth.switch_if, ["10.1.0.1/31", "fd00:1::1/64"], ["10.0.0.1/32", "fd00:a::1/128"]),
            (b, veth.test_if, ["10.1.0.0/31", "fd00:1::2/64"], ["10.0.0.9/32", "fd00:a::9/128"]),
        )
        for ns, dev, addrs, pas in sides:
            # The lab turns IPv6 off on its links (packet tests want quiet wires): on here.
            sysctl = f"net.ipv6.conf.{dev}.disable_ipv6=0"
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", sysctl], check=True)
            for addr in addrs:
                nodad = ["nodad"] if ":" in addr else []
                subprocess.run(
                    ["ip", "-n", ns, "addr", "add", addr, "dev", dev, *nodad], check=True
                )
            for pa in pas:
                subprocess.run(["ip", "-n", ns, "addr", "add", pa, "dev", "lo"], check=True)
        sa = dual_stack(
            "tora", 65101, ["10.0.0.1", "fd00:a::1"], ["10.1.0.1/31", "fd00:1::1/64"],
            [{"address": "10.1.0.0", "remote_asn": 65000}, {"address": "fd00:1::2", "remote_asn": 65000}],
        )  # fmt: skip
        sb = dual_stack(
            "spine", 65000, ["10.0.0.9", "fd00:a::9"], ["10.1.0.0/31", "fd00:1::2/64"],
            [{"address": "10.1.0.1", "remote_asn": 65101, "passive": True},
             {"address": "fd00:1::1", "remote_asn": 65101, "passive": True}],
        )  # fmt: skip
        fa, fb = FrrInstance.of_switch(sa, a), FrrInstance.of_switch(sb, b)
        try:
            assert fa.start() and fb.start()
            peers = wait_for(
                "both sessions established",
                lambda: (
                    [p for p in fa.peers() if p.established and p.prefixes_received][1:]
                    and fa.peers()
                ),
            )
            assert sorted((p.address, p.family, p.prefixes_received) for p in peers) == [
                ("10.1.0.0", "ipv4", 1),
                ("fd00:1::2", "ipv6", 1),
            ]

            def v6_route() -> list[dict]:
                out = subprocess.run(
                    ["ip", "-n", a, "-6", "-j", "route", "show", "proto", "bgp"],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                return [r for r in json.loads(out.stdout or "[]") if r["dst"] == "fd00:a::9"]

            (route,) = wait_for("fd00:a::9 learned by a", v6_route)
            # Next hop: the peer's global or link-local address on the link, never another.
            gw = route.get("gateway", "")
            assert gw == "fd00:1::2" or gw.startswith("fe80:"), route
            assert route["dev"] == veth.switch_if
            # The IPv4 session carries no IPv6 PA and the reverse.
            assert not any(r["dst"].startswith("fd00") for r in kernel_routes(a))
        finally:
            for inst in (fa, fb):
                inst.stop()
                shutil.rmtree(inst.run_dir, ignore_errors=True)
