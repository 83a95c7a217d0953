"""One test per validation rule: each bad description yields an error naming its path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nve.loader import OverlayError, load_overlay, parse_overlay
from nve.validate import validate_overlay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-tor-two-tenants.yaml"

BASE = {
    "switches": [
        {
            "name": "tor1",
            "address": "127.0.0.1:50001",
            "election_id": 5,
            "pipeline": {"p4info": "p.txtpb", "device_config": "d.json"},
            "nve_mac": "02:00:00:00:00:01",
            "local_pas": ["10.0.0.1"],
            "ports": [
                {"port": 1, "role": "access"},
                {"port": 2, "role": "access"},
                {"port": 3, "role": "network", "mtu": 9000},
            ],
            "next_hops": [{"name": "spine", "port": 3, "mac": "02:00:00:00:ff:01"}],
            "underlay_routes": [{"prefix": "10.0.0.0/16", "via": "spine"}],
        },
        {
            "name": "tor2",
            "address": "127.0.0.1:50002",
            "pipeline": {"program": "x.p4"},
            "nve_mac": "02:00:00:00:00:02",
            "local_pas": ["10.0.0.2"],
            "ports": [{"port": 1, "role": "access"}, {"port": 3, "role": "network"}],
        },
    ],
    "tenants": [
        {
            "name": "blue",
            "vrf": 1,
            "vpn_gateway": "192.168.1.254",
            "subnets": [
                {
                    "name": "web",
                    "vsid": 0x1001,
                    "gateway": {
                        "mac": "02:00:00:00:10:01",
                        "ipv4": "192.168.1.1/24",
                        "ipv6": "fd00::1/64",
                    },
                },
            ],
        },
        {
            "name": "red",
            "vrf": 2,
            "subnets": [
                {"name": "app", "vsid": 0x2001, "bum": {"mode": "multicast", "group": "239.0.0.1"}},
            ],
        },
    ],
    "endpoints": [
        {
            "name": "a",
            "vsid": 0x1001,
            "mac": "52:54:00:00:00:01",
            "ipv4": "192.168.1.10",
            "ipv6": "fd00::10",
            "attachment": {"switch": "tor1", "port": 1, "vlan": 10},
        },
        {
            "name": "gw",
            "vsid": 0x1001,
            "mac": "52:54:00:00:00:fe",
            "ipv4": "192.168.1.254",
            "attachment": {"remote_nve": "hv"},
        },
        {
            "name": "b",
            "vsid": 0x2001,
            "mac": "52:54:00:00:00:01",
            "ipv4": "192.168.1.10",
            "attachment": {"switch": "tor2", "port": 1},
        },
    ],
    "remote_nves": [{"name": "hv", "pa": "10.0.9.9", "flow_id": False, "vsids": [0x1001]}],
    "routes": [{"tenant": "blue", "prefix": "172.16.0.0/12", "endpoint": "gw"}],
}


def problems_of(data: dict) -> list[str]:
    """Every problem as 'path: message' (shape errors and rule violations alike)."""
    try:
        loaded = parse_overlay(yaml.safe_dump(data, sort_keys=False), "t.yaml")
    except OverlayError as exc:
        return [str(p).split(": ", 1)[1] for p in exc.problems]
    return [str(p) for p in validate_overlay(loaded.overlay)]


def mutate(fn) -> list[str]:
    data = copy.deepcopy(BASE)
    fn(data)
    return problems_of(data)


def assert_one(problems: list[str], path: str, fragment: str) -> None:
    assert any(p.startswith(path + ": ") and fragment in p for p in problems), problems


def test_base_and_example_are_valid():
    assert problems_of(BASE) == []
    loaded = load_overlay(EXAMPLE)
    assert validate_overlay(loaded.overlay) == []
    assert {s.name for s in loaded.overlay.switches} == {"tor1", "tor2"}


def test_overlapping_cas_across_tenants_are_allowed():
    # BASE already has 192.168.1.10 in blue and red, and the same MAC in both VSIDs.
    assert problems_of(BASE) == []


@pytest.mark.parametrize("vsid", [0x000000, 0x000800, 0x000FFF, 0xFFFFFF])
def test_reserved_vsid(vsid):
    probs = mutate(lambda d: d["tenants"][1]["subnets"][0].update(vsid=vsid))
    assert_one(probs, "tenants[1].subnets[0].vsid", f"0x{vsid:06X} is reserved (RFC 7637 §3.4)")


def test_lowest_and_highest_usable_vsid_accepted():
    def fn(d):
        d["tenants"][1]["subnets"][0]["vsid"] = 0x001000
        d["endpoints"][2]["vsid"] = 0x001000
        d["tenants"][1]["subnets"].append({"name": "top", "vsid": 0xFFFFFE})

    assert mutate(fn) == []


def test_vsid_out_of_range():
    probs = mutate(lambda d: d["tenants"][1]["subnets"][0].update(vsid=0x1000000))
    assert_one(probs, "tenants[1].subnets[0].vsid", "less than or equal to 16777215")


def test_vsid_as_hex_string():
    data = copy.deepcopy(BASE)
    data["tenants"][1]["subnets"][0]["vsid"] = "0x002001"
    assert problems_of(data) == []


def test_duplicate_vsid():
    probs = mutate(lambda d: d["tenants"][1]["subnets"][0].update(vsid=0x1001))
    assert_one(
        probs, "tenants[1].subnets[0].vsid", "0x001001 is already used by tenants[0].subnets[0]"
    )


def test_ca_twice_in_one_vsid():
    def fn(d):
        d["endpoints"].append(
            {
                "name": "c",
                "vsid": 0x1001,
                "mac": "52:54:00:00:00:03",
                "ipv4": "192.168.1.10",
                "attachment": {"switch": "tor2", "port": 1},
            }
        )

    assert_one(
        mutate(fn),
        "endpoints[3].ipv4",
        "CA 192.168.1.10 is already in VSID 0x001001 at endpoints[0].ipv4",
    )


def test_mac_twice_in_one_vsid():
    def fn(d):
        d["endpoints"].append(
            {
                "name": "c",
                "vsid": 0x1001,
                "mac": "52:54:00:00:00:01",
                "attachment": {"switch": "tor2", "port": 1},
            }
        )

    assert_one(mutate(fn), "endpoints[3].mac", "MAC 52:54:00:00:00:01 is already in VSID 0x001001")


def test_dangling_switch():
    probs = mutate(lambda d: d["endpoints"][0]["attachment"].update(switch="tor9"))
    assert_one(probs, "endpoints[0].attachment.switch", "unknown switch 'tor9'")


def test_dangling_port():
    probs = mutate(lambda d: d["endpoints"][0]["attachment"].update(port=7))
    assert_one(probs, "endpoints[0].attachment.port", "port 7 is not a port of switch tor1")


def test_endpoint_on_network_port():
    probs = mutate(lambda d: d["endpoints"][0]["attachment"].update(port=3))
    assert_one(probs, "endpoints[0].attachment.port", "is a network port")


def test_dangling_vsid_in_endpoint_and_remote_nve():
    probs = mutate(
        lambda d: (
            d["endpoints"][0].update(vsid=0x3003),
            d["remote_nves"][0]["vsids"].append(0x4004),
        )
    )
    assert_one(probs, "endpoints[0].vsid", "VSID 0x003003 is not a subnet of any tenant")
    assert_one(probs, "remote_nves[0].vsids[1]", "VSID 0x004004 is not a subnet of any tenant")


def test_dangling_tenant_in_route():
    probs = mutate(lambda d: d["routes"][0].update(tenant="green"))
    assert_one(probs, "routes[0].tenant", "unknown tenant 'green'")


def test_dangling_endpoint_and_remote_nve():
    probs = mutate(
        lambda d: (
            d["routes"][0].update(endpoint="zz"),
            d["endpoints"][1]["attachment"].update(remote_nve="hv0"),
        )
    )
    assert_one(probs, "routes[0].endpoint", "unknown endpoint 'zz'")
    assert_one(probs, "endpoints[1].attachment.remote_nve", "unknown remote NVE 'hv0'")


def test_remote_endpoint_vsid_not_carried_by_remote_nve():
    probs = mutate(lambda d: d["remote_nves"][0].update(vsids=[0x2001]))
    assert_one(probs, "endpoints[1].attachment.remote_nve", "does not carry VSID 0x001001")


def test_dangling_next_hop_references():
    def fn(d):
        d["switches"][0]["underlay_routes"].append({"prefix": "10.1.0.0/16", "via": "nowhere"})
        d["switches"][0]["ecmp_groups"] = [{"name": "g", "members": ["spine", "ghost"]}]
        d["switches"][0]["next_hops"].append({"name": "n2", "port": 9, "mac": "02:00:00:00:ff:02"})

    probs = mutate(fn)
    assert_one(
        probs, "switches[0].underlay_routes[1].via", "unknown next hop or ECMP group 'nowhere'"
    )
    assert_one(probs, "switches[0].ecmp_groups[0].members[1]", "unknown next hop 'ghost'")
    assert_one(probs, "switches[0].next_hops[1].port", "port 9 is not a port of switch tor1")


def test_vlan_used_twice_on_a_port():
    def fn(d):
        d["endpoints"][2]["attachment"] = {"switch": "tor1", "port": 1, "vlan": 10}

    assert_one(
        mutate(fn),
        "endpoints[2].attachment.vlan",
        "VLAN 10 on tor1 port 1 is already used by VSID 0x001001",
    )


def test_untagged_used_twice_on_a_port():
    def fn(d):
        d["endpoints"][0]["attachment"].pop("vlan")
        d["endpoints"][2]["attachment"] = {"switch": "tor1", "port": 1}

    assert_one(
        mutate(fn), "endpoints[2].attachment.vlan", "untagged on tor1 port 1 is already used"
    )


def test_same_vlan_same_vsid_is_fine():
    def fn(d):
        d["endpoints"].append(
            {
                "name": "c",
                "vsid": 0x1001,
                "mac": "52:54:00:00:00:03",
                "attachment": {"switch": "tor1", "port": 1, "vlan": 10},
            }
        )

    assert mutate(fn) == []


def test_mixed_address_families():
    def fn(d):
        d["endpoints"][0]["ipv4"] = "fd00::99"
        d["endpoints"][0]["ipv6"] = "192.168.1.99"
        d["tenants"][0]["subnets"][0]["gateway"]["ipv6"] = "192.168.1.1/24"
        d["routes"].append({"tenant": "blue", "prefix": "fd99::/64", "endpoint": "gw"})

    probs = mutate(fn)
    assert_one(probs, "endpoints[0].ipv4", "IPv6 address in an IPv4 field")
    assert_one(probs, "endpoints[0].ipv6", "IPv4 address in an IPv6 field")
    assert_one(probs, "tenants[0].subnets[0].gateway.ipv6", "IPv4 address in an IPv6 field")
    assert_one(probs, "routes[1].prefix", "which has no IPv6 CA")


def test_remote_pa_family_without_local_pa():
    probs = mutate(lambda d: d["remote_nves"][0].update(pa="2001:db8::9"))
    assert_one(probs, "remote_nves[0].pa", "switch tor1 has no IPv6 local PA")


def test_ca_outside_subnet():
    probs = mutate(lambda d: d["endpoints"][0].update(ipv4="10.9.9.9"))
    assert_one(probs, "endpoints[0].ipv4", "outside subnet 192.168.1.0/24")


def test_conflicting_routes():
    def fn(d):
        d["routes"].append({"tenant": "blue", "prefix": "172.16.0.0/12", "endpoint": "a"})
        d["routes"].append({"tenant": "blue", "prefix": "0.0.0.0/0", "endpoint": "a"})
        d["routes"].append({"tenant": "blue", "prefix": "192.168.1.254/32", "endpoint": "a"})

    probs = mutate(fn)
    assert_one(probs, "routes[1].prefix", "conflicts with routes[0]")
    assert_one(probs, "routes[2].prefix", "conflicts with tenants[0].vpn_gateway")
    assert_one(probs, "routes[3].prefix", "conflicts with endpoint gw")


def test_route_to_other_tenants_endpoint():
    probs = mutate(lambda d: d["routes"][0].update(endpoint="b"))
    assert_one(probs, "routes[0].endpoint", "belongs to tenant red, not blue")


def test_vpn_gateway_must_be_a_tenant_ca():
    probs = mutate(lambda d: d["tenants"][0].update(vpn_gateway="192.168.1.77"))
    assert_one(probs, "tenants[0].vpn_gateway", "no endpoint of tenant blue has CA 192.168.1.77")


def test_ca_in_two_vsids_of_one_tenant():
    def fn(d):
        d["tenants"][0]["subnets"].append({"name": "web2", "vsid": 0x1002})
        d["endpoints"].append(
            {
                "name": "c",
                "vsid": 0x1002,
                "mac": "52:54:00:00:00:03",
                "ipv4": "192.168.1.10",
                "attachment": {"switch": "tor2", "port": 1, "vlan": 5},
            }
        )

    assert_one(mutate(fn), "endpoints[3].ipv4", "its routes would conflict")


def test_duplicate_names_and_pas():
    def fn(d):
        d["switches"][1]["name"] = "tor1"
        d["switches"][1]["local_pas"] = ["10.0.0.1"]
        d["remote_nves"][0]["pa"] = "10.0.0.2"

    probs = mutate(fn)
    assert_one(probs, "switches[1].name", "duplicate switch name tor1")
    assert_one(
        probs, "switches[1].local_pas[0]", "PA 10.0.0.1 is already used at switches[0].local_pas[0]"
    )


def test_bum_multicast_rules():
    def fn(d):
        d["tenants"][1]["subnets"][0]["bum"] = {"mode": "multicast", "group": "10.1.1.1"}
        d["tenants"][0]["subnets"][0]["bum"] = {"mode": "multicast"}

    probs = mutate(fn)
    assert_one(probs, "tenants[1].subnets[0].bum.group", "is not a multicast address")
    assert_one(probs, "tenants[0].subnets[0].bum", "multicast mode needs an underlay group address")


def test_shape_errors_carry_file_line_and_column():
    text = "switches:\n  - name: tor1\n    address: nowhere\n"
    with pytest.raises(OverlayError) as info:
        parse_overlay(text, "bad.yaml")
    lines = str(info.value).splitlines()
    assert (
        "bad.yaml:3:14: switches[0].address: 'nowhere' is not a gRPC address (host:port, [v6]:port or unix:PATH)"
        in lines
    )
    assert any(
        line == "bad.yaml:2:5: switches[0].pipeline: required field is missing" for line in lines
    )


def test_rule_errors_map_to_lines(tmp_path):
    data = copy.deepcopy(BASE)
    data["tenants"][1]["subnets"][0]["vsid"] = 0x800
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_overlay(path)
    (problem,) = [
        p for p in loaded.locate(validate_overlay(loaded.overlay)) if p.path[0] == "tenants"
    ]
    line_text = path.read_text().splitlines()[problem.line - 1]
    assert line_text[problem.column - 1 :].startswith("2048")
    assert str(problem).endswith("tenants[1].subnets[0].vsid: 0x000800 is reserved (RFC 7637 §3.4)")


def test_yaml_syntax_error_has_position():
    with pytest.raises(OverlayError) as info:
        parse_overlay("switches: [\n  {name: a\n", "s.yaml")
    assert str(info.value).startswith("s.yaml:")
    assert "YAML syntax" in str(info.value)


def test_unknown_key_rejected():
    probs = mutate(lambda d: d["switches"][0].update(colour="green"))
    assert_one(probs, "switches[0].colour", "unknown field: not part of the overlay description")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(OverlayError, match="cannot read"):
        load_overlay(tmp_path / "missing.yaml")


def test_port_bindings_rules():
    def fn(d):
        d["switches"][0]["ports"][1]["bindings"] = [{"vsid": 0x2001, "vlan": 7}, {"vsid": 0x5005}]
        d["switches"][0]["ports"][2]["bindings"] = [{"vsid": 0x2001}]
        d["switches"][0]["ports"][0]["bindings"] = [{"vsid": 0x2001, "vlan": 10}]

    probs = mutate(fn)
    assert_one(probs, "switches[0].ports[1].bindings[1].vsid", "VSID 0x005005 is not a subnet")
    assert_one(probs, "switches[0].ports[2].bindings[0]", "is a network port")
    # the binding claims VLAN 10 on port 1 for red; endpoint a (blue) then collides with it
    assert_one(
        probs,
        "endpoints[0].attachment.vlan",
        "VLAN 10 on tor1 port 1 is already used by VSID 0x002001",
    )


def test_one_vsid_two_tags_on_a_port():
    def fn(d):
        d["endpoints"].append(
            {
                "name": "c",
                "vsid": 0x1001,
                "mac": "52:54:00:00:00:03",
                "attachment": {"switch": "tor1", "port": 1, "vlan": 11},
            }
        )

    assert_one(
        mutate(fn),
        "endpoints[3].attachment.vlan",
        "VSID 0x001001 is already VLAN 10 on tor1 port 1",
    )


@pytest.mark.parametrize(
    ("pas", "mtu", "needed", "family"),
    [
        (["10.0.0.1"], 1321, 1322, 4),
        (["10.0.0.1", "2001:db8::1"], 1341, 1342, 6),
    ],
)
def test_underlay_mtu_too_small_for_ipv6_customers(pas, mtu, needed, family):
    """tor1 carries subnet web (IPv6 gateway): its network port must take 1280 + 14 + 8 + outer header."""

    def fn(d):
        d["switches"][0]["local_pas"] = pas
        d["switches"][0]["ports"][2]["mtu"] = mtu

    probs = mutate(fn)
    assert probs == [
        (
            f"switches[0].ports[2].mtu: {mtu} cannot carry a 1280-byte IPv6 customer packet in NVGRE over "
            f"IPv{family} (needs >= {needed}; RFC 7637 §4.4, RFC 8200 §5)"
        )
    ]

    def exact(d):
        fn(d)
        d["switches"][0]["ports"][2]["mtu"] = needed

    assert mutate(exact) == []


def test_underlay_mtu_not_checked_for_an_ipv4_only_overlay():
    """Without an IPv6 gateway or CA in tor1's subnets, a small underlay MTU is the operator's choice."""

    def fn(d):
        d["switches"][0]["local_pas"] = ["10.0.0.1", "2001:db8::1"]
        d["switches"][0]["ports"][2]["mtu"] = 1300
        del d["tenants"][0]["subnets"][0]["gateway"]["ipv6"]
        del d["endpoints"][0]["ipv6"]

    assert mutate(fn) == []
    # an access port's MTU is not the underlay's, whatever the overlay carries
    assert mutate(lambda d: d["switches"][0]["ports"][0].update(mtu=1300)) == []
