"""The preprocessor: includes, macros, conditionals, #error and the line map."""

import pytest

from p4sim.errors import CompileError
from p4sim.frontend.preprocess import preprocess


def lines(src):
    return list(src.text.split("\n"))


def test_object_and_function_macros_expand():
    src = preprocess(
        "#define W 8\n#define ADD(a, b) ((a) + (b))\nbit<W> x = ADD(1, W);\n", filename="m.p4"
    )
    assert "bit<8> x = ((1) + (8));" in src.text


def test_macro_not_expanded_inside_strings_or_longer_identifiers():
    src = preprocess('#define X 1\nlog_msg("X"); XY = X;\n', filename="m.p4")
    assert 'log_msg("X"); XY = 1;' in src.text


def test_conditionals_select_one_branch():
    text = (
        "#define A 2\n#if A > 1 && defined(A)\nyes1\n#else\nno1\n#endif\n"
        "#ifdef B\nno2\n#elif A == 2\nyes2\n#else\nno3\n#endif\n#ifndef B\nyes3\n#endif\n"
    )
    out = preprocess(text, filename="c.p4").text
    assert "yes1" in out and "yes2" in out and "yes3" in out
    assert "no1" not in out and "no2" not in out and "no3" not in out


def test_defines_from_command_line():
    out = preprocess(
        "#ifdef SMALL\nsmall SIZE\n#endif\n", filename="d.p4", defines={"SMALL": None, "SIZE": "64"}
    ).text
    assert "small 64" in out


def test_error_directive_reports_file_and_line():
    with pytest.raises(CompileError) as e:
        preprocess("\n\n#error unsupported profile\n", filename="e.p4")
    assert str(e.value) == "e.p4:3:1: error: #error unsupported profile"


def test_unterminated_if_is_an_error():
    with pytest.raises(CompileError, match="unterminated #if"):
        preprocess("#if 1\nx\n", filename="u.p4")


def test_include_search_path_and_line_map(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "defs.p4").write_text("// comment\nconst bit<8> K = 1;\n")
    main = tmp_path / "main.p4"
    main.write_text('#include "defs.p4"\nconst bit<8> L = 2;\n')
    src = preprocess(main, include_dirs=[inc])
    out = lines(src)
    k = next(i for i, text in enumerate(out, 1) if "K = 1" in text)
    l_ = next(i for i, text in enumerate(out, 1) if "L = 2" in text)
    assert src.location(k, 5).file.endswith("defs.p4") and src.location(k, 5).line == 2
    assert src.location(l_, 1).file == str(main) and src.location(l_, 1).line == 2


def test_missing_include_is_reported_where_included():
    with pytest.raises(CompileError) as e:
        preprocess('\n#include "nope.p4"\n', filename="i.p4")
    assert e.value.file == "i.p4" and e.value.line == 2
    assert "nope.p4" in e.value.message


def test_builtin_includes_resolve_to_p4sims_own_files():
    src = preprocess("#include <core.p4>\n#include <v1model.p4>\n", filename="b.p4")
    assert "extern packet_in" in src.text
    assert "package V1Switch" in src.text
    # core.p4 is included by v1model.p4 too, but only once
    assert src.text.count("extern packet_in") == 1


def test_comments_are_blanked_keeping_columns():
    src = preprocess("/* a\n b */ x = 1; // c\n", filename="k.p4")
    out = lines(src)
    assert out[0].strip() == "" and out[1].index("x") == 6 and "c" not in out[1]
