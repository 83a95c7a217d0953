"""Entities survive encode -> protobuf -> decode unchanged, names resolve by alias or full name."""

import pytest

from nve.codec import canonical_names, decode, encode, encode_key
from nve.entities import (
    CloneSession,
    DigestConfig,
    Exact,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
    ternary,
)
from nve.p4info import P4Index, P4InfoError, encode_int, load_p4info
from tests.support.small_p4info import TEXT, small_p4info


@pytest.fixture(scope="module")
def index():
    return P4Index(small_p4info())


def test_names_and_aliases_resolve_to_one_table(index):
    assert index.table("vsid_mac") is index.table("Ingress.l2.vsid_mac")
    assert index.table("vsid_mac").size == 1024
    assert index.table("vsid_mac").supports_idle_timeout


def test_unknown_name_suggests_close_ones(index):
    with pytest.raises(P4InfoError, match=r"no table named 'vsid_macs'.*did you mean"):
        index.table("vsid_macs")


@pytest.mark.parametrize(
    "entity",
    [
        TableEntry(
            "Ingress.l2.vsid_mac",
            make_match(
                **{"meta.vsid": Exact(0x1001), "hdr.ethernet.dst_addr": Exact(0x525400000001)}
            ),
            "Ingress.l2.to_port",
            make_params(port=3, vlan=0),
            idle_timeout_ns=5_000_000_000,
        ),
        TableEntry(
            "Ingress.underlay.routes",
            make_match(dst=lpm(0x0A000000, 8, 32), acl=ternary(0x10, 0xF0)),
            "NoAction",
            priority=10,
        ),
        TableEntry(
            "Ingress.l2.vsid_mac",
            (),
            "Ingress.l2.to_tunnel",
            make_params(tunnel=0),
            is_default=True,
        ),
        MulticastGroup(7, ((1, 0), (2, 5))),
        CloneSession(100, ((510, 0),), 0, 128),
        MeterConfig("Ingress.punt_meter", 2, 100, 10, 200, 20),
        DigestConfig("learn_t", 1000, 16, 5000),
    ],
)
def test_roundtrip(index, entity):
    msg = encode(entity, index)
    back = decode(msg, index)
    assert back == entity
    # The key-only form names the same entity.
    assert decode(encode_key(entity, index), index).key == entity.key


def test_values_are_canonical_bytes(index):
    e = TableEntry(
        "vsid_mac",
        make_match(**{"meta.vsid": Exact(0x1001)}),
        "to_port",
        make_params(port=0, vlan=1),
    )
    msg = encode(e, index).table_entry
    assert msg.match[0].exact.value == b"\x10\x01"
    assert [p.value for p in msg.action.action.params] == [b"\x00", b"\x01"]
    assert encode_int(0, 9) == b"\x00"


def test_value_too_wide_is_rejected(index):
    e = TableEntry(
        "vsid_mac",
        make_match(**{"meta.vsid": Exact(1 << 24)}),
        "to_port",
        make_params(port=1, vlan=0),
    )
    with pytest.raises(P4InfoError, match="does not fit in 24 bits"):
        encode(e, index)


def test_action_not_of_table_rejected(index):
    e = TableEntry("routes", make_match(dst=lpm(0, 1, 32)), "to_port", make_params(port=1, vlan=0))
    with pytest.raises(P4InfoError, match="not an action of table"):
        encode(e, index)


def test_alias_entities_normalise_to_decoded_names(index):
    e = TableEntry(
        "vsid_mac", make_match(**{"meta.vsid": Exact(5)}), "to_tunnel", make_params(tunnel=2)
    )
    assert canonical_names(e, index) == decode(encode(e, index), index)


def test_load_text_p4info(tmp_path):
    path = tmp_path / "p.txtpb"
    path.write_text(TEXT)
    assert P4Index(load_p4info(path)).table("routes").id == 40002
    binary = tmp_path / "p.pb"
    binary.write_bytes(small_p4info().SerializeToString())
    assert P4Index(load_p4info(binary)).action("to_tunnel").params["tunnel"].bitwidth == 16
    bad = tmp_path / "bad.txt"
    bad.write_text("tables { nonsense")
    with pytest.raises(P4InfoError, match="not a P4Info file"):
        load_p4info(bad)
