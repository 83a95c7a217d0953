"""The project's NVGRE program is the front end's acceptance corpus."""

from pathlib import Path

import pytest

from p4sim.compiler import compile_file

ROOT = Path(__file__).resolve().parents[3]
MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"


@pytest.mark.skipif(not MAIN.exists(), reason="NVGRE program not present")
def test_nvgre_program_compiles_and_p4info_ids_are_consistent():
    program = compile_file(MAIN, include_dirs=[ROOT / "p4src" / "include"])
    info = program.p4info()
    assert info.tables and info.actions
    ids = [
        e.preamble.id
        for group in (
            info.tables,
            info.actions,
            info.counters,
            info.direct_counters,
            info.meters,
            info.registers,
            info.digests,
            info.controller_packet_metadata,
        )
        for e in group
    ]
    assert len(ids) == len(set(ids))
    action_ids = {a.preamble.id for a in info.actions}
    for t in info.tables:
        assert {r.id for r in t.action_refs} <= action_ids
        assert t.initial_default_action.action_id in action_ids
    # the program can be rebuilt from its preprocessed source alone
    again = compile_file_from_source(program.source)
    assert again.p4info() == info


def compile_file_from_source(text):
    from p4sim.compiler import compile_source

    return compile_source(text, filename="bundle.p4")
