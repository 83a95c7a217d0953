"""Resolution and type checking into the IR: one test per construct and per error."""

import pytest

from p4sim.compiler import compile_source
from p4sim.errors import CompileError
from p4sim.frontend import consteval, ir

from .snippets import PARSER, compile_ingress, ingress_program, line_of


def stmts_of(program):
    return program.ir.package.ingress.body


def error_of(body, locals_="", top="", parser=PARSER):
    text = ingress_program(body, locals_, top, parser)
    with pytest.raises(CompileError) as e:
        compile_source(text, filename="snippet.p4")
    return e.value, text


# ------------------------------------------------------------------ types and literals


def test_header_fields_have_widths_and_offsets():
    p = compile_ingress("")
    ipv4 = p.ir.types["ipv4_t"]
    assert isinstance(ipv4, ir.HeaderType) and ipv4.bit_width == 160
    assert [(f.name, f.width, f.offset) for f in ipv4.fields[:4]] == [
        ("version", 4, 0),
        ("ihl", 4, 4),
        ("tos", 8, 8),
        ("len", 16, 16),
    ]
    assert ipv4.field("dst").offset == 128


def test_untyped_literal_takes_the_width_of_its_target():
    (s,) = stmts_of(compile_ingress("meta.c = 300 - 100;"))
    assert isinstance(s.value, ir.Const) and s.value.type == ir.BitsType(8)
    assert s.value.value == 200


def test_literal_that_does_not_fit_is_an_error():
    err, text = error_of("meta.c = 256;")
    assert "constant 256 does not fit in bit<8>" in err.message
    assert err.line == line_of(text, "meta.c = 256")


def test_width_mismatch_is_an_error_with_position():
    err, text = error_of("meta.a = meta.b;")
    assert err.message.startswith("width mismatch")
    assert err.line == line_of(text, "meta.a = meta.b") and err.file == "snippet.p4"


def test_binary_operands_must_have_equal_widths():
    err, _ = error_of("meta.a = meta.a + (bit<32>)(meta.b + meta.c);")
    assert "width mismatch in '+'" in err.message


def test_typed_literal_and_cast_and_concat_and_slice():
    (s,) = stmts_of(
        compile_ingress(
            "meta.a = (bit<32>)meta.b ++ 8w1 ++ 8w0 |-| 0;".replace(
                "(bit<32>)meta.b ++ 8w1 ++ 8w0 |-| 0", "meta.b ++ meta.c ++ 8w0xff"
            )
        )
    )
    assert isinstance(s.value, ir.Concat) and s.value.type == ir.BitsType(32)
    (s,) = stmts_of(compile_ingress("meta.c = hdr.ipv4.src[15:8];"))
    assert isinstance(s.value, ir.Slice) and (s.value.hi, s.value.lo) == (15, 8)
    (s,) = stmts_of(compile_ingress("meta.a[7:0] = meta.c;"))
    assert isinstance(s.target, ir.Slice) and s.target.width == 8


def test_slice_out_of_range_is_an_error():
    err, _ = error_of("meta.c = hdr.ipv4.src[32:25];")
    assert "slice [32:25] out of range for bit<32>" in err.message


def test_concat_needs_widths():
    err, _ = error_of("meta.b = meta.c ++ 1;")
    assert "'++' operands need a width" in err.message


def test_saturating_and_wrapping_constant_semantics():
    u8 = ir.BitsType(8)
    assert consteval.binary("|+|", 250, 10, u8, u8, u8) == 255
    assert consteval.binary("|-|", 5, 10, u8, u8, u8) == 0
    assert consteval.binary("+", 250, 10, u8, u8, u8) == 4
    s8 = ir.BitsType(8, True)
    assert consteval.binary("|+|", 120, 10, s8, s8, s8) == 127
    assert consteval.binary(">>", 0x80, 1, s8, ir.InfIntType(), s8) == 0xC0


def test_bool_and_bit_conversions_need_casts():
    err, _ = error_of("meta.f = meta.c;")
    assert "type mismatch: expected bool, got bit<8>" in err.message
    (s,) = stmts_of(compile_ingress("meta.f = (bool)meta.c[0:0];"))
    assert isinstance(s.value, ir.Cast) and s.value.type == ir.BoolType()


def test_typedef_const_and_serializable_enum():
    top = (
        "typedef bit<16> port_t;\nconst port_t PORT = 7;\n"
        "enum bit<8> Color { RED = 1, GREEN = 2 }\n"
    )
    body = "meta.b = PORT; meta.c = (bit<8>)Color.GREEN;"
    s1, s2 = stmts_of(compile_ingress(body, top=top))
    assert isinstance(s1.value, ir.Const) and s1.value.value == 7
    assert s2.value.expr.value == 2 and s2.value.expr.type.underlying == ir.BitsType(8)


def test_unknown_field_and_name_errors():
    err, _ = error_of("meta.zz = 1;")
    assert err.message == "struct meta_t has no field 'zz'"
    err, _ = error_of("nope = 1;")
    assert err.message == "unknown name 'nope'"


def test_cannot_write_in_parameter_or_constant():
    err, _ = error_of("", locals_="action a(in bit<8> x) { x = 1; }")
    assert "cannot write to 'x'" in err.message


def test_header_union_is_outside_the_subset():
    err, text = error_of("", top="header_union u_t { eth_t e; }\n")
    assert err.message == "header_union is not supported by p4sim"
    assert err.line == line_of(text, "header_union")


def test_unsupported_extern_is_named():
    err, _ = error_of("", locals_="action_profile(4) ap;")
    assert err.message == "extern 'action_profile' is not supported by p4sim"
    err, _ = error_of("", top="extern Foo { Foo(); }\n", locals_="Foo() f;")
    assert err.message == "extern 'Foo' is not supported by p4sim"


# ------------------------------------------------------------------------- parsers

PARSER_SELECT = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.etype) {
            0x0800: v4;
            0x8100 &&& 0xEFFF: accept;
            0x0600 .. 0x06FF: reject;
            default: accept;
        }
    }
    state v4 {
        pkt.extract(hdr.ipv4);
        verify(hdr.ipv4.ihl >= 5, error.HeaderTooShort);
        meta.c = pkt.lookahead<bit<8>>();
        transition select(hdr.ipv4.frag, hdr.ipv4.proto) {
            (0, 47): accept;
            (_, _): reject;
        }
    }
    state orphan { transition accept; }
}
"""


def test_parser_select_keysets_and_verify_lookahead():
    p = compile_ingress("", parser=PARSER_SELECT)
    parser = p.ir.package.parser
    start = parser.states["start"]
    assert isinstance(start.statements[0], ir.Extract)
    kinds = [
        (c.keysets[0].kind, c.keysets[0].value, c.keysets[0].mask, c.keysets[0].hi, c.next_state)
        for c in start.transition.cases
    ]
    assert kinds == [
        ("value", 0x800, 0, 0, "v4"),
        ("mask", 0x8100, 0xEFFF, 0, "accept"),
        ("range", 0x600, 0, 0x6FF, "reject"),
        ("default", 0, 0, 0, "accept"),
    ]
    v4 = parser.states["v4"]
    assert isinstance(v4.statements[1], ir.Verify)
    assert v4.statements[1].error.value == 4  # HeaderTooShort: 5th error of core.p4
    assert isinstance(v4.statements[2].value, ir.Lookahead)
    assert [k.kind for k in v4.transition.cases[1].keysets] == ["default", "default"]
    assert any(w.code == "unreachable-state" and "orphan" in w.message for w in p.warnings)


def test_unknown_state_is_an_error():
    bad = PARSER.replace("transition accept;", "transition nowhere;")
    err, _ = error_of("", parser=bad)
    assert err.message == "unknown parser state 'nowhere'"


def test_select_case_arity_must_match():
    bad = PARSER.replace(
        "transition accept;", "transition select(hdr.eth.etype, hdr.eth.dst) { 1: accept; }"
    )
    err, _ = error_of("", parser=bad)
    assert "select case has 1 values for 2 keys" in err.message


# ------------------------------------------------------------------------ controls

TABLE_LOCALS = """
    direct_counter(CounterType.packets_and_bytes) dc;
    counter(64, CounterType.packets) c;
    meter(16, MeterType.bytes) m;
    register<bit<16>>(8) r;
    action set_port(bit<9> port) { sm.egress_spec = port; c.count((bit<32>)port); }
    action drop() { mark_to_drop(sm); }
    table fwd {
        key = { hdr.eth.dst : exact; hdr.ipv4.dst : lpm; hdr.ipv4.isValid() : exact;
                hdr.ipv4.tos : ternary @name("tos"); meta.c : optional; }
        actions = { set_port; drop; }
        const default_action = drop();
        counters = dc;
        support_timeout = true;
        size = 100;
    }
"""


def test_table_with_all_match_kinds_and_properties():
    p = compile_ingress("if (fwd.apply().hit) { meta.c = 1; }", locals_=TABLE_LOCALS)
    t = p.ir.table("I.fwd")
    assert [(k.name, k.match_kind, k.width, k.id) for k in t.keys] == [
        ("hdr.eth.dst", "exact", 48, 1),
        ("hdr.ipv4.dst", "lpm", 32, 2),
        ("hdr.ipv4.$valid$", "exact", 1, 3),
        ("tos", "ternary", 8, 4),
        ("meta.c", "optional", 8, 5),
    ]
    assert t.default_action.action.name == "drop" and t.default_action_const
    assert t.size == 100 and t.support_timeout and t.direct_counter.p4info_name == "I.dc"
    assert t.direct_counter.table is t and t.needs_priority
    (s,) = stmts_of(p)
    assert isinstance(s.cond, ir.TableApplyExpr) and s.cond.member == "hit"
    assert p.ir.extern("I.r").element_type == ir.BitsType(16)
    assert p.ir.extern("I.m").unit == "bytes" and p.ir.extern("I.c").size == 64


def test_default_action_defaults_to_noaction_defaultonly():
    locals_ = "action a() {} table t { key = { meta.c : exact; } actions = { a; } }"
    p = compile_ingress("t.apply();", locals_=locals_)
    t = p.ir.table("I.t")
    assert t.size == 1024 and not t.default_action_explicit
    assert t.default_action.action.p4info_name == "NoAction"
    assert t.actions[-1].default_only


def test_switch_on_action_run_with_fallthrough():
    locals_ = (
        "action a() {} action b() {} action c() {}\n"
        "table t { key = { meta.c : exact; } actions = { a; b; c; } }"
    )
    body = "switch (t.apply().action_run) { a: b: { meta.c = 1; } default: { meta.c = 2; } }"
    (s,) = stmts_of(compile_ingress(body, locals_=locals_))
    assert isinstance(s, ir.SwitchStmt) and isinstance(s.subject, ir.TableApplyExpr)
    assert [c.labels for c in s.cases] == [["a", "b"], ["default"]]


def test_switch_label_must_be_an_action_of_the_table():
    locals_ = "action a() {} action z() {}\ntable t { key = { meta.c : exact; } actions = { a; } }"
    err, _ = error_of("switch (t.apply().action_run) { z: { } }", locals_=locals_)
    assert err.message == "'z' is not an action of table t"


def test_table_applied_twice_is_an_error():
    locals_ = "action a() {} table t { key = { meta.c : exact; } actions = { a; } }"
    err, text = error_of("t.apply();\n if (meta.f) { t.apply(); }", locals_=locals_)
    assert "table t is applied more than once" in err.message
    assert err.line == line_of(text, "if (meta.f) { t.apply(); }")


def test_const_entries_resolve_to_keysets_with_priorities():
    locals_ = """
        action a(bit<8> v) { meta.c = v; }
        table t {
            key = { meta.c : ternary; meta.b : exact; }
            actions = { a; }
            const entries = {
                (0x10 &&& 0xF0, 5) : a(1);
                (_, 6) : a(2);
            }
        }"""
    t = compile_ingress("t.apply();", locals_=locals_).ir.table("I.t")
    e1, e2 = t.const_entries
    assert (e1.keysets[0].kind, e1.keysets[0].value, e1.keysets[0].mask) == ("mask", 0x10, 0xF0)
    assert (e2.keysets[0].kind, e2.keysets[1].value) == ("default", 6)
    assert e1.priority > e2.priority and e1.action.args == [1]
    assert t.entries_const


def test_action_data_params_and_direct_call():
    locals_ = "action a(inout bit<8> x, bit<8> v) { x = v; }"
    (s,) = stmts_of(compile_ingress("a(meta.c, 3);", locals_=locals_))
    assert isinstance(s, ir.CallAction) and s.args[0].direction == "inout"
    assert [p.kind for p in s.action.params] == ["action_arg", "action_param"]
    assert s.args[1].expr.value == 3


def test_nested_control_instances_get_their_own_names():
    top = """
    control Sub(inout meta_t meta) {
        action s(bit<8> v) { meta.c = v; }
        table st { key = { meta.c : exact; } actions = { s; } }
        apply { st.apply(); }
    }
    """
    locals_ = "Sub() one; Sub() two;"
    p = compile_ingress("one.apply(meta); two.apply(meta);", locals_=locals_, top=top)
    names = sorted(t.p4info_name for t in p.ir.tables)
    assert names == ["I.one.st", "I.two.st"]
    s1, s2 = stmts_of(p)
    assert isinstance(s1, ir.ApplyControl) and s1.control is not s2.control


def test_name_annotations_local_and_global():
    locals_ = (
        '@name("renamed") action a() {} @name(".glob") action b() {}\n'
        '@name("tt") table t { key = { meta.c : exact; } actions = { a; b; } }'
    )
    p = compile_ingress("t.apply();", locals_=locals_)
    assert p.ir.tables[0].p4info_name == "I.tt"
    assert {a.p4info_name for a in p.ir.actions} >= {"I.renamed", "glob"}


def test_hash_digest_clone_and_checksum_calls():
    top = "struct learn_t { bit<48> mac; bit<9> port; }\n"
    body = (
        "hash(meta.b, HashAlgorithm.crc16, 16w0, { hdr.ipv4.src, hdr.ipv4.dst }, 32w1024);\n"
        "digest<learn_t>(1, { hdr.eth.src, sm.ingress_port });\n"
        "clone(CloneType.I2E, 32w5);\n"
        "random(meta.c, 8w0, 8w7);\n"
        'log_msg("x={}", { meta.c });\n'
    )
    p = compile_ingress(body, top=top)
    h, d, c, r, lg = stmts_of(p)
    assert isinstance(h, ir.ExternFunctionCall) and h.name == "hash"
    assert h.type_args == (
        ir.BitsType(16),
        ir.BitsType(16),
        ir.TupleType((ir.BitsType(32), ir.BitsType(32))),
        ir.BitsType(32),
    )
    assert isinstance(d.args[1].expr, ir.StructExpr)
    assert [x.p4info_name for x in p.ir.digests] == ["learn_t"]
    assert c.name == "clone" and r.name == "random" and lg.args[0].expr.value == "x={}"


def test_generic_extern_argument_needs_a_width():
    err, _ = error_of("hash(meta.b, HashAlgorithm.crc16, 16w0, { meta.a }, 1024);")
    assert "argument 'max' needs a width" in err.message


def test_unsupported_hash_algorithm_is_named():
    err, _ = error_of("hash(meta.b, HashAlgorithm.crc32_custom, 16w0, { meta.a }, 32w4);")
    assert "crc32_custom is not supported" in err.message


def test_set_valid_invalid_and_exit():
    s1, s2, s3 = stmts_of(compile_ingress("hdr.ipv4.setValid(); hdr.eth.setInvalid(); exit;"))
    assert isinstance(s1, ir.SetValid) and isinstance(s2, ir.SetInvalid)
    assert isinstance(s3, ir.Exit)


def test_invalid_header_read_warning():
    p = compile_ingress("hdr.ipv4.setInvalid(); meta.c = hdr.ipv4.ttl;")
    assert any(w.code == "invalid-header-read" for w in p.warnings)


def test_emit_of_struct_expands_to_headers_in_order():
    d = compile_ingress("").ir.package.deparser
    assert [s.header.field for s in d.body] == ["eth", "ipv4"]


def test_program_source_is_self_contained():
    p = compile_ingress("meta.c = 1;")
    again = compile_source(p.source, filename="again.p4")
    assert list(again.ir.types) == list(p.ir.types)
    assert again.ir.package.ingress.name == "I"


# ------------------------------------------------------- additions of the P4_16 language


def test_const_entries_take_their_priorities_from_at_priority():
    locals_ = """
    action a(bit<8> v) { meta.c = v; }
    table t {
        key = { meta.c: ternary; }
        actions = { a; }
        const entries = {
            1 &&& 1: a(1) @priority(30);
            2 &&& 2: a(2);
            _: a(3) @priority(10);
        }
    }"""
    t = compile_ingress("t.apply();", locals_=locals_).ir.table("I.t")
    # bmv2 values 30, 2 (position), 10: the smallest wins; P4Runtime priorities grow the
    # other way, 1 + 30 - value
    assert [e.priority for e in t.const_entries] == [1, 29, 21]


def test_select_keyset_dots_leave_the_other_keys_free():
    parser = PARSER.replace(
        "transition accept;",
        "transition select(hdr.eth.etype, hdr.eth.dst, meta.c) "
        "{ (0x0800, ...): accept; ...: reject; }",
    )
    p = compile_ingress("", parser=parser)
    first, second = p.ir.package.parser.states["start"].transition.cases
    assert [k.kind for k in first.keysets] == ["value", "default", "default"]
    assert [k.kind for k in second.keysets] == ["default"] * 3


def test_a_typedef_may_declare_the_header_it_names():
    top = "typedef header tag_h { bit<8> v; } tag_t;\n"
    p = compile_ingress("", top=top)
    assert p.ir.types["tag_t"] is p.ir.types["tag_h"]


def test_structured_annotations_keep_their_items():
    p = compile_ingress("a();", locals_='@k[x = 1, y = "s", z = true] @l[4, -2] action a() { }')
    (call,) = stmts_of(p)
    k, l_ = call.action.annotations
    assert k.structured == (("x", 1), ("y", "s"), ("z", True))
    assert l_.structured == ((None, 4), (None, -2))
    assert str(l_) == "@l[4, -2]"


def test_a_function_calling_itself_is_an_error():
    err, _ = error_of("meta.c = f(meta.c);", top="bit<8> f(in bit<8> x) { return f(x); }\n")
    assert "calls itself" in err.message


def test_a_function_must_return_a_value_on_every_path():
    top = "bit<8> f(in bit<8> x) { if (x == 1) { return 2; } }\n"
    err, _ = error_of("meta.c = f(meta.c);", top=top)
    assert "can end without returning a value" in err.message


def test_break_outside_a_loop_is_an_error():
    err, _ = error_of("break;")
    assert err.message == "'break' outside a for loop"
