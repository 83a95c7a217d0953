"""The test programs of this directory, each run with the frames its comments give.

* `fidelity_*`: the issue's fidelity cases (a validity key's P4Info name, copy-in/copy-out
  against a control's own names, `@priority` on const entries);
* `known_*`: programs p4c accepts that p4sim once failed on with an internal or misleading
  error (error comparisons, an empty headers struct, lookahead of a header, slices as
  lvalues and arguments, varbit locals, the core.p4 include guard);
* `lang_*`: together, every P4_16 construct p4sim supports (docs/p4sim-compiler.md,
  "Supported and refused").

On p4sim every program must produce exactly the frames it expects, through the generic
packet function and through specialised paths alike. Where p4lang's toolchain is installed,
p4c-bm2-ss must compile each program, p4sim's P4Info must be p4c's, and bmv2 must produce
the same frames: so the expectations in the programs are bmv2's."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from finsy.proto import p4i
from google.protobuf import text_format

from tests.p4src.test_p4c import entity_differences
from tests.sim.programs.harness import (
    BMV2_MISSING,
    P4C_MISSING,
    Case,
    by_port,
    compile_bmv2,
    compile_p4sim,
    docs_section,
    load_case,
    programs,
    run_bmv2,
    run_p4sim,
)

PROGRAMS = programs("")
needs_p4c = pytest.mark.skipif(P4C_MISSING is not None, reason=P4C_MISSING or "")
needs_bmv2 = pytest.mark.skipif(BMV2_MISSING is not None, reason=BMV2_MISSING or "")


def _case(path: Path) -> Case:
    case = load_case(path)
    assert case.frames, f"{path.name} gives no frames"
    missing = [f.line for f in case.frames if f.expect is None]
    assert not missing, f"{path.name}: frames without 'expect' at lines {missing}"
    return case


def test_the_directory_has_every_kind_of_program() -> None:
    names = {p.name.split("_")[0] for p in PROGRAMS}
    assert names == {"fidelity", "known", "lang"}


def test_the_docs_supported_list_names_exactly_these_programs() -> None:
    named = set(re.findall(r"\b(?:fidelity|known|lang)_\w+", docs_section("Supported")))
    assert named == {p.stem for p in PROGRAMS}


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_p4sim_produces_the_expected_frames(path: Path) -> None:
    case = _case(path)
    got = run_p4sim(compile_p4sim(path), case.frames)
    for frame, outputs in zip(case.frames, got):
        want = [(p, d.hex()) for p, d in frame.expect or []]
        assert [(p, d.hex()) for p, d in outputs] == want, f"{path.name}:{frame.line}"


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_specialised_paths_produce_the_same_frames(path: Path) -> None:
    case = _case(path)
    program = compile_p4sim(path)
    generic = run_p4sim(program, case.frames, rounds=2)
    assert run_p4sim(program, case.frames, specialize=True, rounds=2) == generic


@needs_p4c
@pytest.mark.slow
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_p4c_compiles_the_program_and_p4sim_p4info_is_p4cs(path: Path, tmp_path: Path) -> None:
    info = tmp_path / "p4info.txtpb"
    proc = subprocess.run(
        ["p4c-bm2-ss", "--arch", "v1model", "--p4runtime-files", str(info)]
        + ["-o", str(tmp_path / "out.json"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, f"p4c-bm2-ss rejects {path.name}:\n{proc.stderr}"
    theirs = text_format.Parse(info.read_text(), p4i.P4Info())
    differ = entity_differences(compile_p4sim(path).p4info(), theirs)
    assert not differ, f"{path.name}: p4sim's P4Info is not p4c's:\n" + "\n".join(differ)


@needs_bmv2
@pytest.mark.slow
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_bmv2_produces_the_expected_frames(path: Path, tmp_path: Path) -> None:
    case = _case(path)
    config, _ = compile_bmv2(path, tmp_path)
    got = run_bmv2(config, case.frames, tmp_path / "bmv2")
    want = [out for f in case.frames for out in f.expect or []]
    assert by_port(got) == by_port(want), f"{path.name}: bmv2 and the expectations differ"
