"""p4sim's P4Info is p4c's, entity by entity, for every profile; and p4c compiles every
profile with no warning that is not listed here with its reason.

A golden copy of p4c's P4Info for the default profile (tests/p4src/golden, p4c's own
testdata practice) keeps the comparison running where p4c is not installed; where it is,
the golden file is checked against p4c's output too, so it cannot go stale."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from finsy.proto import p4i
from google.protobuf import text_format
from google.protobuf.message import Message

from p4sim.compiler import compile_file

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
INCLUDE = ROOT / "p4src" / "include"
GOLDEN = Path(__file__).resolve().parent / "golden" / "nvgre_nve.p4info.txtpb"
PROFILES = {"default": None, "SMALL": "NVE_PROFILE_SMALL", "LARGE": "NVE_PROFILE_LARGE"}

# p4c-bm2-ss warnings we accept, each with its reason: (file, warning text pattern, why).
ACCEPTED_WARNINGS = [
    (
        "arp_proxy.p4",
        r"accessing a field of a potentially invalid header hdr\.ethernet",
        "every frame reaching ingress has a valid Ethernet header: the parser rejects others",
    ),
    (
        "routing.p4",
        r"accessing a field of a potentially invalid header hdr\.ethernet",
        "as above: routing runs on parsed Ethernet frames only",
    ),
]


def p4sim_p4info(define: str | None) -> p4i.P4Info:
    defines: dict[str, object] = {define: 1} if define else {}
    program = compile_file(str(MAIN), include_dirs=[str(INCLUDE)], defines=defines)
    return program.p4info()


def entity_differences(mine: p4i.P4Info, theirs: p4i.P4Info) -> list[str]:
    """Every P4Info entity that is not identical, named by kind and P4 name."""
    out: list[str] = []
    for field in p4i.P4Info.DESCRIPTOR.fields:
        a, b = getattr(mine, field.name), getattr(theirs, field.name)
        if not field.is_repeated:
            if a != b:
                out.append(f"{field.name}: p4sim {_short(a)} / p4c {_short(b)}")
            continue
        am = {x.preamble.name: x for x in a}
        bm = {x.preamble.name: x for x in b}
        out += [f"{field.name} {n}: only in p4sim" for n in sorted(am.keys() - bm.keys())]
        out += [f"{field.name} {n}: only in p4c" for n in sorted(bm.keys() - am.keys())]
        out += [
            f"{field.name} {n}: p4sim {_short(am[n])} / p4c {_short(bm[n])}"
            for n in sorted(am.keys() & bm.keys())
            if am[n] != bm[n]
        ]
    return out


def _short(m: Message) -> str:
    return text_format.MessageToString(m, as_one_line=True)[:400]


def test_p4sim_p4info_is_the_golden_p4c_p4info() -> None:
    golden = text_format.Parse(GOLDEN.read_text(), p4i.P4Info())
    assert len(golden.tables) > 10 and len(golden.actions) > 10
    differ = entity_differences(p4sim_p4info(None), golden)
    assert not differ, "p4sim's P4Info is not p4c's:\n" + "\n".join(differ)


def test_the_comparison_sees_a_difference() -> None:
    golden = text_format.Parse(GOLDEN.read_text(), p4i.P4Info())
    mine = p4sim_p4info(None)
    mine.tables[0].size += 1
    del mine.actions[-1]
    differ = entity_differences(mine, golden)
    assert any(d.startswith(f"tables {mine.tables[0].preamble.name}:") for d in differ)
    assert any(d.startswith("actions ") and d.endswith("only in p4c") for d in differ)


needs_p4c = pytest.mark.skipif(
    shutil.which("p4c-bm2-ss") is None, reason="p4c-bm2-ss (p4lang's p4c) not installed"
)


@cache
def p4c(profile: str, out: Path) -> tuple[p4i.P4Info, str]:
    define = PROFILES[profile]
    argv = ["p4c-bm2-ss", "--arch", "v1model", "--std", "p4-16", "-I", str(INCLUDE)]
    argv += [f"-D{define}"] if define else []
    info = out / f"{profile}.p4info.txtpb"
    argv += ["--p4runtime-files", str(info), "-o", str(out / f"{profile}.json"), str(MAIN)]
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"p4c-bm2-ss failed on the {profile} profile:\n{proc.stderr}"
    return text_format.Parse(info.read_text(), p4i.P4Info()), proc.stderr + proc.stdout


def unlisted_warnings(output: str) -> list[str]:
    found = []
    for line in output.splitlines():
        if "warning" not in line:
            continue
        if not any(f in line and re.search(pat, line) for f, pat, _ in ACCEPTED_WARNINGS):
            found.append(line)
    return found


@needs_p4c
@pytest.mark.slow
@pytest.mark.parametrize("profile", list(PROFILES))
def test_p4c_compiles_the_profile_and_p4sim_p4info_is_p4cs(
    profile: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    theirs, output = p4c(profile, tmp_path_factory.mktemp(f"p4c-{profile}"))
    assert not unlisted_warnings(output), "p4c warnings not listed with a reason:\n" + "\n".join(
        unlisted_warnings(output)
    )
    differ = entity_differences(p4sim_p4info(PROFILES[profile]), theirs)
    assert not differ, f"{profile}: p4sim's P4Info is not p4c's:\n" + "\n".join(differ)


@needs_p4c
@pytest.mark.slow
def test_golden_file_is_p4cs_current_output(tmp_path: Path) -> None:
    theirs, _ = p4c("default", tmp_path)
    golden = text_format.Parse(GOLDEN.read_text(), p4i.P4Info())
    differ = entity_differences(golden, theirs)
    assert not differ, (
        "tests/p4src/golden/nvgre_nve.p4info.txtpb is stale; regenerate it with "
        "bmv2/compile.sh and copy out/bmv2/nvgre_nve.p4info.txtpb:\n" + "\n".join(differ)
    )


def test_warning_filter_rejects_new_warnings() -> None:
    listed = (
        "p4src/include/routing.p4(60): [--Wwarn=invalid_header] warning: accessing a field"
        " of a potentially invalid header hdr.ethernet"
    )
    new = "p4src/include/l2.p4(3): [--Wwarn=unused] warning: 'FOO' is unused"
    assert unlisted_warnings(listed + "\n" + new) == [new]
