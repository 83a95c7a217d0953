"""What a switch's control-plane host is given, without a namespace: the switch's own
addresses compiled into NveIngress.punt_local (pipeline 3.5.0), and the description's
static next hops and routes planned as permanent neighbours and static routes."""

from __future__ import annotations

import ipaddress

from nve.compile import compile_switch
from nve.compile.ecmp import TargetInfo
from nve.entities import Exact, TableEntry
from nve.p4names import Action, Table
from nve.underlay import static
from nve.underlay.kernel import KernelView, Route
from tests.runtime.test_compile import example_data, overlay_of


def _with_host(data: dict) -> dict:
    tor1 = data["switches"][0]
    tor1["underlay"] = {}
    for port in tor1["ports"]:
        if port["port"] == 3:
            port["addresses"] = ["10.1.0.1/31", "fd00:1::1/127"]
    return data


def _own(state) -> set[tuple[str, int]]:
    out = set()
    for e in state.entities:
        if isinstance(e, TableEntry) and e.action == Action.PUNT_LOCAL_TO_HOST:
            dst = dict(e.match)["dst"]
            assert isinstance(dst, Exact)
            out.add((e.table, dst.value))
    return out


def test_the_switchs_pas_and_port_addresses_go_to_its_host() -> None:
    o = overlay_of(_with_host(example_data()))
    sw = next(s for s in o.switches if s.name == "tor1")
    want = {
        (Table.PUNT_LOCAL_ADDRESSES_V6 if a.version == 6 else Table.PUNT_LOCAL_ADDRESSES_V4, int(a))
        for a in [
            *sw.local_pas,
            ipaddress.ip_address("10.1.0.1"),
            ipaddress.ip_address("fd00:1::1"),
        ]
    }
    state = compile_switch(o, "tor1")
    assert state.problems == []
    assert _own(state) == want


def test_no_host_or_an_older_pipeline_gets_no_addresses() -> None:
    assert _own(compile_switch(overlay_of(example_data()), "tor1")) == set()
    old = TargetInfo(host_addresses=False)
    assert _own(compile_switch(overlay_of(_with_host(example_data())), "tor1", target=old)) == set()


def test_on_tna_the_port_addresses_join_the_pas_in_my_pa() -> None:
    """The TNA program has no punt_local tables: decap.checks gives IP that is not GRE
    to an address of my_pa (local_pa) to the host, so the ports' addresses are entries
    there beside the PAs (once each), and punt_local gets nothing."""
    o = overlay_of(_with_host(example_data()))
    sw = next(s for s in o.switches if s.name == "tor1")
    tna = TargetInfo(arch="tna", host_addresses=False, port_addresses_in_my_pa=True)
    state = compile_switch(o, "tor1", target=tna)
    assert state.problems == [] and _own(state) == set()
    local = [
        (e.table, dict(e.match)["dst"])
        for e in state.entities
        if isinstance(e, TableEntry) and e.action == Action.DECAP_LOCAL_PA
    ]
    want = [
        (Table.DECAP_MY_PA_V6 if a.version == 6 else Table.DECAP_MY_PA_V4, Exact(int(a)))
        for a in [
            *sw.local_pas,
            ipaddress.ip_address("10.1.0.1"),
            ipaddress.ip_address("fd00:1::1"),
        ]
    ]
    assert sorted(local, key=str) == sorted(want, key=str)
    v1 = compile_switch(o, "tor1")  # v1model: the PAs alone
    assert sum(
        isinstance(e, TableEntry) and e.action == Action.DECAP_LOCAL_PA for e in v1.entities
    ) == len(sw.local_pas)


def test_link_local_of_a_mac_is_modified_eui64() -> None:
    assert str(static.link_local("02:00:0b:00:00:01")) == "fe80::bff:fe00:1"
    assert str(static.link_local("36:A2:5C:96:3C:EC")) == "fe80::34a2:5cff:fe96:3cec"


def test_static_lines_plan() -> None:
    """tor1 of the example: spine1 on port 3, spine2 on port 4, group spines; a hop on a
    port without a TAP and the routes through only it are left out."""
    data = example_data()
    tor1 = data["switches"][0]
    tor1["next_hops"].append({"name": "elsewhere", "port": 9, "mac": "02:00:0b:00:00:09"})
    tor1["underlay_routes"].append({"prefix": "10.9.0.0/16", "via": "elsewhere"})
    sw = next(s for s in overlay_of(data).switches if s.name == "tor1")
    neighbours, routes = static.plan(sw, {3: "port3", 4: "port4"})
    ll1, ll2 = static.link_local("02:00:0b:00:00:01"), static.link_local("02:00:0b:00:00:02")
    assert neighbours == [
        static.StaticNeighbour(ll1, "02:00:0b:00:00:01", "port3"),
        static.StaticNeighbour(ll2, "02:00:0b:00:00:02", "port4"),
    ]
    by_prefix = {str(r.prefix): r for r in routes}
    assert sorted(by_prefix) == ["10.0.0.0/16", "2001:db8:ffff::/48", "239.0.0.0/8"]
    assert by_prefix["10.0.0.0/16"].args() == [
        "nexthop", "via", "inet6", str(ll1), "dev", "port3",
        "nexthop", "via", "inet6", str(ll2), "dev", "port4",
    ]  # fmt: skip
    assert by_prefix["2001:db8:ffff::/48"].args() == ["via", str(ll1), "dev", "port3"]


def test_a_kernel_view_is_resolved_when_every_gateway_has_a_neighbour() -> None:
    """Controller.underlay_held keeps a starting host's switch entries until this holds."""
    gw1, gw2 = ipaddress.ip_address("10.1.0.0"), ipaddress.ip_address("10.1.2.0")
    pa = ipaddress.ip_network("10.0.0.2/32")
    routes = (
        Route(pa, ((gw1, 3), (gw2, 4))),
        Route(ipaddress.ip_network("10.1.0.0/31"), on_link=3),
    )
    assert KernelView({}, ()).resolved
    assert not KernelView({}, routes).resolved
    assert not KernelView({(gw1, 3): "02:00:00:00:00:01"}, routes).resolved
    both = {(gw1, 3): "02:00:00:00:00:01", (gw2, 4): "02:00:00:00:00:02"}
    assert KernelView(both, routes).resolved
    assert not KernelView({(gw1, 4): "02:00:00:00:00:01", (gw2, 4): "x"}, routes).resolved
