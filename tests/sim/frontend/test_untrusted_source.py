"""The front end on a program from someone else: includes only from its bundle, cpp's ``#if``
arithmetic on 64-bit integers, and p4c's limits on widths and header stacks."""

from __future__ import annotations

import pytest

from p4sim.compiler import compile_source
from p4sim.errors import CompileError
from p4sim.frontend.cpp_expr import CppExprError, evaluate
from p4sim.frontend.preprocess import preprocess
from tests.sim.switch.untrusted_support import MINI


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("0x10 == 16", 1),
        ("010", 8),
        ("0b101", 5),
        ("'A'", 65),
        ("'\\n' + '\\x41' + '\\101'", 10 + 65 + 65),
        ("-1 < 0", 1),
        ("-1 < 0u", 0),  # the usual arithmetic conversions: -1 becomes 2**64 - 1
        ("0xFFFFFFFFFFFFFFFF == -1", 1),
        ("18446744073709551615 > 0", 1),
        ("9223372036854775807 + 1 < 0", 1),  # wraps, as gcc's
        ("7 / -2", -3),
        ("-7 % 3", -1),
        ("1 << 63 >> 63", -1),
        ("1 ? 2 : 3", 2),
        ("0 && 1 / 0", 0),
        ("1 || 1 / 0", 1),
        ("UNDEFINED_NAME + 1", 1),
        ("!0 + ~0", 0),
        ("(((1)))", 1),
    ],
)
def test_if_arithmetic_is_cpps(expr, value):
    assert evaluate(expr).value == value


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("9**20000000 > 1", "unexpected '*'"),
        ("1 / 0", "division by zero"),
        ("99999999999999999999999", "too large for 64 bits"),
        ("0x1" + "0" * 17, "too large for 64 bits"),
        ("08", "invalid integer constant"),
        ("'ab'", "multi-character"),
        ("(" * 300 + "1" + ")" * 300, "nested more than 256"),
        ("__import__('os')", "unexpected"),
        ("1 +", "ends too early"),
        ("", "no expression"),
    ],
)
def test_bad_if_expressions_are_named(expr, says):
    with pytest.raises(CppExprError, match=says.replace("(", r"\(").replace("*", r"\*")):
        evaluate(expr)


def test_the_preprocessor_uses_cpp_arithmetic_with_macros():
    text = "#define BASE 0x10\n#if BASE == 020 && 'a' == 97\nyes\n#else\nno\n#endif\n"
    assert preprocess(text, filename="m.p4").text.split() == ["yes"]


def test_a_texts_includes_come_only_from_its_files(tmp_path):
    (tmp_path / "local.p4").write_text("const bit<8> FROM_DISK = 1;\n")
    files = {"lib/a.p4": '#include "b.p4"\nA\n', "lib/b.p4": "B\n"}
    text = preprocess('#include "lib/a.p4"\n', filename=str(tmp_path / "main.p4"), files=files)
    assert text.text.split() == ["B", "A"]
    with pytest.raises(CompileError, match="not in the device config's files"):
        preprocess('#include "local.p4"\n', filename=str(tmp_path / "main.p4"))
    with pytest.raises(CompileError, match="only the files it carries"):
        preprocess(f'#include "{tmp_path / "local.p4"}"\n', filename="main.p4")


def test_macro_bombs_stop_at_the_expansion_limit():
    bomb = "".join(f"#define L{i} L{i - 1} L{i - 1} L{i - 1} L{i - 1}\n" for i in range(1, 20))
    with pytest.raises(CompileError, match="more than 1048576 characters"):
        preprocess("#define L0 x\n" + bomb + "L19\n", filename="bomb.p4")


@pytest.mark.parametrize(
    ("decl", "says"),
    [
        ("header h_t { bit<2049> f; }", "above p4c's limit of 2048 bits"),
        ("header h_t { int<5000> f; }", "above p4c's limit of 2048 bits"),
        ("const bit<8> C = 99999w1;", "above p4c's limit of 2048 bits"),
        ("const int C = 1 << 5000;", "wider than 4096 bits"),
        ("const bit<8> C = (bit<8>)(1 << 8000000000);", "wider than 4096 bits"),
        ("struct s_t { ethernet_t[257] st; }", "outside 1..256"),
        ("const bit<2048> C = 1 << 2047;", None),
        ("struct s_t { ethernet_t[256] st; }", None),
    ],
)
def test_widths_stacks_and_constants_have_p4cs_limits(decl, says):
    source = MINI.replace("struct headers_t", decl + "\nstruct headers_t")
    if says is None:
        compile_source(source, filename="mini.p4")
        return
    with pytest.raises(CompileError, match=says):
        compile_source(source, filename="mini.p4")


def test_the_preprocessed_output_is_bounded(monkeypatch):
    monkeypatch.setattr("p4sim.frontend.preprocess.MAX_PREPROCESSED_CHARS", 10_000)
    files = {"big.p4": "// " + "x" * 1000 + "\n"}
    text = '#include "big.p4"\n' * 20
    with pytest.raises(CompileError, match="exceeds 10000 characters"):
        preprocess(text, filename="main.p4", files=files)


def test_pragma_once_holds_in_a_bundle():
    files = {"a.p4": "#pragma once\nA\n"}
    text = preprocess('#include "a.p4"\n#include "a.p4"\n', filename="m.p4", files=files)
    assert text.text.split() == ["A"]
