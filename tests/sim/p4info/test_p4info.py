"""P4Info as p4c generates it: names, aliases, ids (recomputed here independently)."""

import json

import pytest
from finsy.proto import p4i
from google.protobuf import text_format

from p4sim.errors import CompileError
from p4sim.p4info import write_p4info
from tests.sim.frontend.snippets import compile_ingress


def oaat(name: str) -> int:
    """Bob Jenkins' one-at-a-time hash, written out independently of p4sim's."""
    h = 0
    for ch in name.encode("ascii"):
        h = (h + ch) % 2**32
        h = (h + h * 1024) % 2**32
        h = h ^ (h // 64)
    h = (h + h * 8) % 2**32
    h = h ^ (h // 2048)
    h = (h + h * 32768) % 2**32
    return h


PREFIX = {
    "action": 1,
    "table": 2,
    "controller_header": 4,
    "counter": 0x12,
    "direct_counter": 0x13,
    "meter": 0x14,
    "direct_meter": 0x15,
    "register": 0x16,
    "digest": 0x17,
}


def expected_id(kind: str, name: str) -> int:
    return PREFIX[kind] * 2**24 + oaat(name) % 2**24


def test_known_p4c_id_of_noaction():
    # p4c gives NoAction the id 21257015 in every v1model P4Info.
    assert expected_id("action", "NoAction") == 21257015


LOCALS = """
    direct_counter(CounterType.packets_and_bytes) fwd_hits;
    counter(64, CounterType.packets) per_port;
    meter(16, MeterType.bytes) rate;
    direct_meter<bit<2>>(MeterType.packets) dm;
    register<bit<16>>(8) last;
    action set_port(bit<9> port, bit<48> mac) { sm.egress_spec = port; hdr.eth.dst = mac; }
    action drop() { mark_to_drop(sm); }
    action only_called() { meta.c = 9; }
    table fwd {
        key = { hdr.eth.dst : exact; hdr.ipv4.dst : lpm @name("dst_ip"); }
        actions = { set_port; @defaultonly drop; }
        default_action = drop();
        counters = fwd_hits;
        support_timeout = true;
    }
    table acl {
        key = { hdr.ipv4.proto : ternary; }
        actions = { drop; @tableonly set_port; }
        meters = dm;
        size = 32;
        const entries = { 6 &&& 0xff : drop(); }
    }
    table unused { key = { meta.c : exact; } actions = { drop; } }
"""
TOP = """
struct learn_t { bit<48> mac; bit<9> port; }
@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> pad; }
"""
BODY = """
    if (fwd.apply().miss) { acl.apply(); }
    only_called();
    per_port.count(32w1);
    digest<learn_t>(1, { hdr.eth.src, sm.ingress_port });
"""


@pytest.fixture(scope="module")
def info():
    return compile_ingress(BODY, locals_=LOCALS, top=TOP).p4info()


def by_name(entities):
    return {e.preamble.name: e for e in entities}


def test_entities_and_ids(info):
    tables = by_name(info.tables)
    assert set(tables) == {"I.fwd", "I.acl"}  # the unapplied table is dropped, as p4c does
    for name, t in tables.items():
        assert t.preamble.id == expected_id("table", name)
    actions = by_name(info.actions)
    # an action the apply block calls directly is listed (p4c's bmv2 back end makes it a
    # hidden table's action), without parameters; NoAction comes in as acl's implicit
    # default action
    assert set(actions) == {"I.set_port", "I.drop", "I.only_called", "NoAction"}
    assert not actions["I.only_called"].params
    for name, a in actions.items():
        assert a.preamble.id == expected_id("action", name)
    assert by_name(info.counters)["I.per_port"].preamble.id == expected_id("counter", "I.per_port")
    assert by_name(info.direct_counters)["I.fwd_hits"].preamble.id == expected_id(
        "direct_counter", "I.fwd_hits"
    )
    assert by_name(info.meters)["I.rate"].preamble.id == expected_id("meter", "I.rate")
    assert by_name(info.direct_meters)["I.dm"].preamble.id == expected_id("direct_meter", "I.dm")
    assert by_name(info.registers)["I.last"].preamble.id == expected_id("register", "I.last")
    assert by_name(info.digests)["learn_t"].preamble.id == expected_id("digest", "learn_t")
    # controller headers: named after the annotation, id from the header type's name
    (cpm,) = info.controller_packet_metadata
    assert cpm.preamble.name == "packet_in"
    assert cpm.preamble.id == expected_id("controller_header", "packet_in_t")
    assert [(m.id, m.name, m.bitwidth) for m in cpm.metadata] == [
        (1, "ingress_port", 9),
        (2, "pad", 7),
    ]


def test_table_details(info):
    t = by_name(info.tables)["I.fwd"]
    assert [(m.id, m.name, m.bitwidth, m.match_type) for m in t.match_fields] == [
        (1, "hdr.eth.dst", 48, p4i.MatchField.EXACT),
        (2, "dst_ip", 32, p4i.MatchField.LPM),
    ]
    refs = {r.id: r for r in t.action_refs}
    drop = refs[expected_id("action", "I.drop")]
    assert drop.scope == p4i.ActionRef.DEFAULT_ONLY and list(drop.annotations) == ["@defaultonly"]
    assert t.initial_default_action.action_id == expected_id("action", "I.drop")
    assert t.size == 1024 and t.const_default_action_id == 0
    assert t.idle_timeout_behavior == p4i.Table.NOTIFY_CONTROL
    assert list(t.direct_resource_ids) == [expected_id("direct_counter", "I.fwd_hits")]
    acl = by_name(info.tables)["I.acl"]
    assert acl.is_const_table and acl.has_initial_entries and acl.size == 32
    # no default_action: NoAction is added as a @defaultonly reference
    noaction = [r for r in acl.action_refs if r.id == 21257015]
    assert noaction and noaction[0].scope == p4i.ActionRef.DEFAULT_ONLY
    assert acl.initial_default_action.action_id == 21257015
    tableonly = [r for r in acl.action_refs if r.id == expected_id("action", "I.set_port")]
    assert tableonly[0].scope == p4i.ActionRef.TABLE_ONLY


def test_action_params_numbered_from_one(info):
    a = by_name(info.actions)["I.set_port"]
    assert [(p.id, p.name, p.bitwidth) for p in a.params] == [(1, "port", 9), (2, "mac", 48)]


def test_counter_meter_register_digest_specs(info):
    assert by_name(info.counters)["I.per_port"].spec.unit == p4i.CounterSpec.PACKETS
    assert by_name(info.counters)["I.per_port"].size == 64
    assert by_name(info.direct_counters)["I.fwd_hits"].spec.unit == p4i.CounterSpec.BOTH
    assert by_name(info.direct_counters)["I.fwd_hits"].direct_table_id == expected_id(
        "table", "I.fwd"
    )
    assert by_name(info.meters)["I.rate"].spec.unit == p4i.MeterSpec.BYTES
    assert by_name(info.registers)["I.last"].type_spec.bitstring.bit.bitwidth == 16
    d = by_name(info.digests)["learn_t"]
    assert d.type_spec.struct.name == "learn_t"
    members = info.type_info.structs["learn_t"].members
    assert [(m.name, m.type_spec.bitstring.bit.bitwidth) for m in members] == [
        ("mac", 48),
        ("port", 9),
    ]
    assert info.pkg_info.arch == "v1model"


def test_aliases_are_shortest_unique_suffixes():
    top = """
    control Sub(inout meta_t meta) {
        action s() { meta.c = 1; }
        table t { key = { meta.c : exact; } actions = { s; } }
        apply { t.apply(); }
    }
    """
    locals_ = (
        "Sub() x; Sub() y; action solo() {}\n"
        "table t { key = { meta.b : exact; } actions = { solo; } }"
    )
    info = compile_ingress(
        "x.apply(meta); y.apply(meta); t.apply();", locals_=locals_, top=top
    ).p4info()
    aliases = {t.preamble.name: t.preamble.alias for t in info.tables}
    assert aliases == {"I.x.t": "x.t", "I.y.t": "y.t", "I.t": "I.t"}
    actions = {a.preamble.name: a.preamble.alias for a in info.actions}
    assert actions["I.solo"] == "solo" and actions["I.x.s"] == "x.s"


def test_id_annotation_wins_and_collisions_probe_linearly():
    # Give action "a" by @id the id that "b"'s name hashes to: "b" must move to the next id.
    taken = expected_id("action", "I.b")
    locals_ = (
        f"@id({taken}) action a() {{}} action b() {{}}\n"
        "table t { key = { meta.c : exact; } actions = { a; b; } }"
    )
    info = compile_ingress("t.apply();", locals_=locals_).p4info()
    ids = {a.preamble.name: a.preamble.id for a in info.actions}
    assert ids["I.a"] == taken
    assert ids["I.b"] == (1 << 24) | ((oaat("I.b") + 1) % 2**24)


def test_id_annotation_without_prefix_gets_one():
    locals_ = "@id(5) action a() {}\ntable t { key = { meta.c : exact; } actions = { a; } }"
    info = compile_ingress("t.apply();", locals_=locals_).p4info()
    assert by_name(info.actions)["I.a"].preamble.id == 0x01000005


def test_id_annotation_with_wrong_prefix_is_an_error():
    locals_ = (
        "@id(0x02000005) action a() {}\ntable t { key = { meta.c : exact; } actions = { a; } }"
    )
    with pytest.raises(CompileError, match="wrong 8-bit prefix"):
        compile_ingress("t.apply();", locals_=locals_)


def test_initial_default_action_arguments_are_padded_bytes():
    locals_ = (
        "action a(bit<12> v) { meta.b = (bit<16>)v; }\n"
        "table t { key = { meta.c : exact; } actions = { a; } "
        "const default_action = a(0x123); }"
    )
    t = compile_ingress("t.apply();", locals_=locals_).p4info().tables[0]
    (arg,) = t.initial_default_action.arguments
    assert (arg.param_id, arg.value) == (1, b"\x01\x23")
    assert t.const_default_action_id == t.initial_default_action.action_id


def test_write_formats_round_trip(tmp_path, info):
    write_p4info(info, tmp_path / "p.txt", "text")
    write_p4info(info, tmp_path / "p.bin", "binary")
    write_p4info(info, tmp_path / "p.json", "json")
    assert text_format.Parse((tmp_path / "p.txt").read_text(), p4i.P4Info()) == info
    assert p4i.P4Info.FromString((tmp_path / "p.bin").read_bytes()) == info
    assert json.loads((tmp_path / "p.json").read_text())["pkgInfo"]["arch"] == "v1model"
    with pytest.raises(ValueError):
        write_p4info(info, tmp_path / "p.x", "yaml")
