"""What the compiler asks each switch to hold, checked against docs/pipeline.md's meaning."""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path

import yaml

from nve.compile import Allocations, LearnedEndpoint, capacity_problems, compile_switch
from nve.compile.ecmp import TargetInfo
from nve.diff import diff
from nve.entities import Exact, MulticastGroup, TableEntry
from nve.loader import parse_overlay
from nve.mac import Mac
from nve.p4names import Action, Counter, Param, Table

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-tor-two-tenants.yaml"


def example_data() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def overlay_of(data: dict):
    return parse_overlay(yaml.safe_dump(data, sort_keys=False)).overlay


def entries(state, table):
    return [e for e in state.entities if isinstance(e, TableEntry) and e.table == table]


def find(state, table, **match):
    want = {k: Exact(v) for k, v in match.items()}
    found = [
        e for e in entries(state, table) if all(dict(e.match).get(k) == m for k, m in want.items())
    ]
    assert len(found) == 1, (table, match, found)
    return found[0]


def mac(text: str) -> int:
    return int(text.replace(":", ""), 16)


def test_example_compiles_without_problems():
    o = overlay_of(example_data())
    for sw in ("tor1", "tor2"):
        assert compile_switch(o, sw).problems == []


def test_local_and_remote_endpoints():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    vsi = tor1.vsi[0x001001]
    local = find(tor1, Table.L2_DMAC, vsi=vsi, mac=mac("52:54:00:b1:00:01"))
    assert (local.action, dict(local.params)) == (Action.L2_TO_PORT, {"port": 1})
    remote = find(tor1, Table.L2_DMAC, vsi=vsi, mac=mac("52:54:00:b1:00:02"))
    assert remote.action == Action.L2_TO_TUNNEL
    tunnel = find(tor1, Table.TUNNEL_REMOTE, tunnel=dict(remote.params)["tunnel"])
    assert tunnel.action == Action.TUNNEL_SET_REMOTE_V4
    assert dict(tunnel.params) == {
        "src_pa": int(ipaddress.ip_address("10.0.0.1")),
        "dst_pa": int(ipaddress.ip_address("10.0.0.2")),
        Param.USE_FLOW_ID: 1,
    }
    # The access side: VLAN 100 on port 1 classifies into blue-web, egress pushes the tag back.
    assert dict(find(tor1, Table.ACCESS_PORT_VLAN, port=1, tagged=1, vid=100).params) == {
        "vsi": vsi
    }
    tag = find(tor1, Table.ACCESS_PORT_VSI, port=1, vsi=vsi)
    assert (tag.action, dict(tag.params)) == (Action.ACCESS_TAGGED, {"vid": 100})


def test_remote_nve_without_flow_id():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    vpn = find(tor1, Table.L2_DMAC, vsi=tor1.vsi[0x001002], mac=mac("52:54:00:b2:00:fe"))
    tunnel = find(tor1, Table.TUNNEL_REMOTE, tunnel=dict(vpn.params)["tunnel"])
    assert dict(tunnel.params)["dst_pa"] == int(ipaddress.ip_address("10.0.9.9"))
    assert dict(tunnel.params)[Param.USE_FLOW_ID] == 0
    # and its PA may send to us in that VSID (anti-spoofing), counted on the same tunnel index
    peer = find(tor1, Table.DECAP_PEER_V4, vsid=0x001002, src=int(ipaddress.ip_address("10.0.9.9")))
    assert dict(peer.params)["tunnel"] == dict(vpn.params)["tunnel"]


def test_overlapping_customer_addresses_stay_in_their_vrf():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    ca = int(ipaddress.ip_address("192.168.10.11"))
    blue = [
        e
        for e in entries(tor1, Table.ROUTING_ROUTES_V4)
        if dict(e.match)["vrf"] == Exact(1)
        and dict(e.match).get("dst")
        and dict(e.match)["dst"].value == ca
    ]
    red = [
        e
        for e in entries(tor1, Table.ROUTING_ROUTES_V4)
        if dict(e.match)["vrf"] == Exact(2)
        and dict(e.match).get("dst")
        and dict(e.match)["dst"].value == ca
    ]
    assert dict(blue[0].params)["dmac"] == mac("52:54:00:b1:00:01")
    assert dict(red[0].params)["dmac"] == mac("52:54:00:c1:00:01")
    assert tor1.vsi[0x001001] != tor1.vsi[0x002001]


def test_vpn_gateway_default_route():
    o = overlay_of(example_data())
    tor2 = compile_switch(o, "tor2")
    defaults = [e for e in entries(tor2, Table.ROUTING_ROUTES_V4) if "dst" not in dict(e.match)]
    assert len(defaults) == 1
    assert dict(defaults[0].match)["vrf"] == Exact(1)
    assert dict(defaults[0].params)["dmac"] == mac("52:54:00:b2:00:fe")
    assert dict(defaults[0].params)["vsid"] == 0x001002


def test_ipv6_ca_routes_and_no_arp_for_v6():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    v6 = [e for e in entries(tor1, Table.ROUTING_ROUTES_V6) if e.action == Action.ROUTING_ROUTE]
    assert {dict(e.match)["dst"].value for e in v6} == {
        int(ipaddress.ip_address("fd00:b1::11")),
        int(ipaddress.ip_address("fd00:b1::12")),
    }
    assert all(dict(e.match)["dst"].prefix_len == 128 for e in v6)


def test_gateway_addresses_are_host_routes_to_the_gateway():
    """Every gateway address of a routed subnet on the switch is a /32 or /128 to_gateway
    route in its tenant's VRF (packets for the gateway are not routed), and nothing else is."""
    data = example_data()
    o = overlay_of(data)
    tor1 = compile_switch(o, "tor1")
    got = {
        (dict(e.match)["vrf"].value, dict(e.match)["dst"].value, dict(e.match)["dst"].prefix_len)
        for t in (Table.ROUTING_ROUTES_V4, Table.ROUTING_ROUTES_V6)
        for e in entries(tor1, t)
        if e.action == Action.ROUTING_TO_GATEWAY and not e.params
    }
    want = set()
    for tenant in o.tenants:
        for sub in tenant.subnets:
            if sub.gateway is None or sub.vsid not in tor1.vsi:
                continue
            for iface in (sub.gateway.ipv4, sub.gateway.ipv6):
                if iface is not None:
                    want.add((tenant.vrf, int(iface.ip), iface.ip.max_prefixlen))
    assert want and got == want


def test_nway_flood_group_is_the_only_group_and_within_pi_range():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    vsi = tor1.vsi[0x001001]
    groups = {g.group_id: g for g in tor1.entities if isinstance(g, MulticastGroup)}
    to_tor2 = next(t for k, t in tor1.tunnels.items() if k.dst == ipaddress.ip_address("10.0.0.2"))
    assert set(groups[vsi].replicas) == {(1, 0), (3, to_tor2)}  # spine1 is on port 3
    # one group per VSI, id = vsi: PI (simple_switch_grpc) accepts only 1..0x7fff
    assert set(groups) == set(tor1.vsi.values())
    assert all(0 < gid < 0x8000 for gid in groups)
    replica = find(tor1, Table.REPLICA_TUNNEL, rid=to_tor2)
    assert dict(replica.params)["dmac"] == mac("02:00:0b:00:00:01")
    assert dict(replica.params)["smac"] == mac("02:00:0a:00:00:01")


def test_underlay_group_bum_mode():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    vsi = tor1.vsi[0x001002]
    group_tunnel = next(
        t for k, t in tor1.tunnels.items() if k.dst == ipaddress.ip_address("239.1.0.2")
    )
    groups = {g.group_id: g for g in tor1.entities if isinstance(g, MulticastGroup)}
    assert (3, group_tunnel) in groups[vsi].replicas
    replica = find(tor1, Table.REPLICA_TUNNEL, rid=group_tunnel)
    assert dict(replica.params)["dmac"] == 0x01005E010002
    # hv9 (a gretap peer) is in that VSID, so the group copy carries FlowID 0
    assert dict(replica.params)[Param.USE_FLOW_ID] == 0
    find(tor1, Table.DECAP_MY_PA_V4, dst=int(ipaddress.ip_address("239.1.0.2")))


def test_tna_accepts_outer_frames_sent_to_a_joined_groups_mac():
    """The TNA program drops an outer frame whose destination MAC is not in my_mac (it
    does not derive a group's MAC from the outer address as v1model does): on TNA the
    joined groups' MACs are entries, once per MAC (239.1.0.2 and 239.129.0.2 share
    01:00:5e:01:00:02), with group_mac (accepted only for a joined group's address),
    the NVE's own with local_mac; v1model gets the NVE's MAC alone."""
    data = example_data()
    subnets = {s["vsid"]: s for t in data["tenants"] for s in t["subnets"]}
    assert subnets[0x001002]["bum"]["group"] == "239.1.0.2"
    subnets[0x001001]["bum"] = {"mode": "multicast", "group": "239.129.0.2"}  # same MAC
    o = overlay_of(data)
    tna = compile_switch(o, "tor1", target=TargetInfo(arch="tna", group_macs=True))
    macs = {dict(e.match)["dst"].value: e.action for e in entries(tna, Table.OUTER_MY_MAC)}
    nve_mac = mac(next(s for s in data["switches"] if s["name"] == "tor1")["nve_mac"])
    assert macs == {nve_mac: Action.OUTER_LOCAL_MAC, 0x01005E010002: Action.OUTER_GROUP_MAC}
    groups = entries(tna, Table.DECAP_MY_PA_V4)
    assert {dict(e.match)["dst"].value for e in groups} >= {
        int(ipaddress.ip_address("239.1.0.2")),
        int(ipaddress.ip_address("239.129.0.2")),
    }
    v1 = compile_switch(o, "tor1")
    assert [dict(e.match)["dst"].value for e in entries(v1, Table.OUTER_MY_MAC)] == [nve_mac]
    # a TNA pipeline before 3.8.0 has no group_mac: local_mac, as before
    old = TargetInfo(arch="tna", group_macs=True, group_mac_action=False)
    macs = {
        dict(e.match)["dst"].value: e.action
        for e in entries(compile_switch(o, "tor1", target=old), Table.OUTER_MY_MAC)
    }
    assert macs == {nve_mac: Action.OUTER_LOCAL_MAC, 0x01005E010002: Action.OUTER_LOCAL_MAC}


def test_ecmp_route_and_buckets():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    (route,) = [
        e for e in entries(tor1, Table.UNDERLAY_ROUTES_V4) if dict(e.match)["dst"].prefix_len == 16
    ]
    assert route.action == Action.UNDERLAY_SET_ECMP and dict(route.params)["size"] == 2
    group = dict(route.params)["group"]
    hops = {
        dict(find(tor1, Table.UNDERLAY_ECMP, group=group, bucket=b).params)["nexthop"]
        for b in (0, 1)
    }
    ports = {dict(find(tor1, Table.UNDERLAY_NEXTHOP, nexthop=h).params)["port"] for h in hops}
    assert ports == {3, 4}


def test_allocations_are_stable_across_edits():
    data = example_data()
    o1 = overlay_of(data)
    first = compile_switch(o1, "tor1")
    data2 = copy.deepcopy(data)
    # a new subnet with a lower VSID, listed first: existing indices must not move
    data2["tenants"][0]["subnets"].insert(
        0,
        {
            "name": "blue-new",
            "vsid": 0x001000,
            "gateway": {"mac": "02:00:00:00:10:00", "ipv4": "192.168.30.1/24"},
        },
    )
    data2["endpoints"].append(
        {
            "name": "n1",
            "vsid": 0x001000,
            "mac": "52:54:00:b0:00:01",
            "ipv4": "192.168.30.5",
            "attachment": {"switch": "tor1", "port": 2, "vlan": 30},
        }
    )
    second = compile_switch(
        overlay_of(data2), "tor1", previous=Allocations.from_installed(first.entities)
    )
    for vsid, index in first.vsi.items():
        assert second.vsi[vsid] == index
    plan = diff(second.entities, first.entities)
    assert plan.counts()["delete"] == 0
    assert (
        plan.counts()["modify"] <= 2
    )  # only flood groups of the tenant's subnets may change; here none
    assert all(c.op == "insert" for c in plan.changes())


def test_migration_is_a_break_on_the_old_switch_and_a_make_elsewhere():
    data = example_data()
    before = {sw: compile_switch(overlay_of(data), sw) for sw in ("tor1", "tor2")}
    moved = copy.deepcopy(data)
    web1 = next(e for e in moved["endpoints"] if e["name"] == "blue-web1")
    web1["attachment"] = {"switch": "tor2", "port": 2, "vlan": 100}
    from nve.compile import is_local_attachment

    plans = {}
    for sw in ("tor1", "tor2"):
        after = compile_switch(
            overlay_of(moved), sw, previous=Allocations.from_installed(before[sw].entities)
        )
        plans[sw] = diff(after.entities, before[sw].entities, is_local_attachment)
    key_mac = Exact(mac("52:54:00:b1:00:01"))
    old_side = [
        c
        for b in plans["tor1"].break_
        for c in b
        if isinstance(c.entity, TableEntry)
        and c.entity.table == Table.L2_DMAC
        and dict(c.entity.match)["mac"] == key_mac
    ]
    assert [(c.op, c.entity.action) for c in old_side] == [("modify", Action.L2_TO_TUNNEL)]
    new_side = [
        c
        for b in plans["tor2"].make
        for c in b
        if isinstance(c.entity, TableEntry)
        and c.entity.table == Table.L2_DMAC
        and dict(c.entity.match)["mac"] == key_mac
    ]
    assert [(c.op, c.entity.action) for c in new_side] == [("modify", Action.L2_TO_PORT)]


def test_learned_endpoint_is_installed_with_ageing_and_announced():
    o = overlay_of(example_data())
    learned = [LearnedEndpoint("tor2", 0x001001, Mac("52:54:00:99:99:99"), 1)]
    tor2 = compile_switch(o, "tor2", learned)
    vsi2 = tor2.vsi[0x001001]
    smac = find(tor2, Table.LEARN_SMAC, vsi=vsi2, mac=0x525400999999, port=1)
    assert smac.idle_timeout_ns == 300 * 10**9
    assert find(tor2, Table.L2_DMAC, vsi=vsi2, mac=0x525400999999).action == Action.L2_TO_PORT
    tor1 = compile_switch(o, "tor1", learned)
    remote = find(tor1, Table.L2_DMAC, vsi=tor1.vsi[0x001001], mac=0x525400999999)
    tunnel = find(tor1, Table.TUNNEL_REMOTE, tunnel=dict(remote.params)["tunnel"])
    assert dict(tunnel.params)["dst_pa"] == int(ipaddress.ip_address("10.0.0.2"))


def test_learned_mac_never_overrides_a_configured_one():
    o = overlay_of(example_data())
    learned = [LearnedEndpoint("tor2", 0x001001, Mac("52:54:00:b1:00:01"), 2)]
    tor2 = compile_switch(o, "tor2", learned)
    entry = find(tor2, Table.L2_DMAC, vsi=tor2.vsi[0x001001], mac=mac("52:54:00:b1:00:01"))
    assert entry.action == Action.L2_TO_TUNNEL


def test_capacity_exceeded_is_a_problem():
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    n = len(entries(tor1, Table.ARP_PROXY))
    probs = capacity_problems(tor1, {Table.ARP_PROXY: n - 1}, 0)
    assert [str(p) for p in probs] == [
        f"switches[0]: table {Table.ARP_PROXY} would need {n} entries; it holds {n - 1}"
    ]
    assert capacity_problems(tor1, {Table.ARP_PROXY: n}, 0) == []


def test_ids_must_fit_the_counters_they_index():
    """vsi and tunnel ids start at 1, so a pipeline with counters of size S holds S - 1 of
    them: an id equal to the size would count one past the counter array."""
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    largest_vsi, largest_tunnel = max(tor1.vsi.values()), max(tor1.tunnels.values())
    fits = {
        Counter.COUNTERS_VSI_DECAP: largest_vsi + 1,
        Counter.COUNTERS_VSI_ENCAP: largest_vsi + 1,
        Counter.COUNTERS_TUNNEL_RX: largest_tunnel + 1,
        Counter.COUNTERS_TUNNEL_TX: largest_tunnel + 1,
    }
    assert capacity_problems(tor1, {}, 0, fits) == []
    full = dict(fits, **{Counter.COUNTERS_VSI_ENCAP: largest_vsi})
    expected = (
        f"switches[0]: vsi id {largest_vsi} does not fit counter {Counter.COUNTERS_VSI_ENCAP}"
        f" (indices 0..{largest_vsi - 1}): at most {largest_vsi - 1} vsis on this pipeline"
    )
    assert [str(p) for p in capacity_problems(tor1, {}, 0, full)] == [expected]
    full = dict(fits, **{Counter.COUNTERS_TUNNEL_RX: largest_tunnel})
    assert "tunnel id" in str(capacity_problems(tor1, {}, 0, full)[0])


def test_missing_underlay_route_is_a_problem():
    data = example_data()
    data["switches"][1]["underlay_routes"] = []
    state = compile_switch(overlay_of(data), "tor2")
    assert any("no underlay route to 10.0.0.1" in p.message for p in state.problems)


def test_routed_subnet_accepts_every_switch_of_the_tenant_as_peer():
    """tor2 hosts no blue-db endpoint but routes blue-web2's traffic into blue-db and
    encapsulates it toward tor1 (RFC 7637 §4.6 routing, §5 peer check): tor1 must accept
    tor2's PA in blue-db, while red's switch set stays out of blue's subnets."""
    o = overlay_of(example_data())
    tor1 = compile_switch(o, "tor1")
    tor2_pa = int(ipaddress.ip_address("10.0.0.2"))
    peer = find(tor1, Table.DECAP_PEER_V4, vsid=0x001002, src=tor2_pa)
    assert dict(peer.params)["tunnel"] != 0
    # red-app has no gateway-less exposure to blue: only red's own peers in red's VSID.
    red_peers = {
        dict(e.match)["src"]
        for e in entries(tor1, Table.DECAP_PEER_V4)
        if dict(e.match)["vsid"] == Exact(0x002001)
    }
    assert red_peers == {Exact(tor2_pa)}
    # The flood list of blue-db does not grow: tor2 gets no copy of blue-db's BUM frames.
    hv9_and_group_only = [
        m
        for g in tor1.entities
        if isinstance(g, MulticastGroup) and g.group_id == tor1.vsi[0x001002]
        for m in g.replicas
        if m[1] != 0
    ]
    assert len(hv9_and_group_only) == 1
