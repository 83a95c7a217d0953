"""The parser stage alone: TYPE_IDENTIFIER handling, `>>` splitting, syntax errors."""

import pytest

from p4sim.errors import CompileError
from p4sim.frontend.parser import parse_text


def find(tree, data):
    return list(tree.find_data(data))


def test_type_names_are_type_identifiers():
    tree = parse_text("header h_t { bit<8> f; }\nstruct s_t { h_t h; }\n")
    field_types = list(tree.scan_values(lambda v: getattr(v, "type", "") == "TYPE_IDENTIFIER"))
    assert {str(t) for t in field_types} == {"h_t", "s_t"}


def test_nested_type_arguments_close_with_shift_token():
    tree = parse_text(
        "extern register<T> { register(bit<32> size); }\n"
        "control C() { register<bit<32>>(4) r; apply { } }\n"
    )
    assert len(find(tree, "specialized_type")) == 1


def test_shift_right_is_an_expression():
    tree = parse_text("control C() { apply { x = y >> 2; z = y << 1; } }\n")
    assert len(find(tree, "shr")) == 1 and len(find(tree, "shl")) == 1


def test_less_than_is_not_type_arguments():
    tree = parse_text("control C() { apply { if (a < b) { x = 1; } } }\n")
    assert len(find(tree, "lt")) == 1


def test_generic_call_uses_type_arguments():
    tree = parse_text("struct s_t { bit<8> a; }\ncontrol C() { apply { digest<s_t>(1, {x}); } }\n")
    calls = find(tree, "call_stmt")
    assert len(calls) == 1 and len(find(calls[0], "type_args")) == 1


def test_precedence_of_equality_below_bitwise_and():
    # In P4 (unlike C) & binds tighter than ==.
    tree = parse_text("control C() { apply { f = a & b == c; } }\n")
    eq = find(tree, "eq")[0]
    assert eq.children[0].data == "band"


def test_syntax_error_reports_position():
    with pytest.raises(CompileError) as e:
        parse_text("control C() {\n  apply { x = ; }\n}\n", "s.p4")
    assert (e.value.file, e.value.line, e.value.col) == ("s.p4", 2, 15)
    assert "syntax error" in e.value.message
