"""One controller for both targets: a Tofino (TNA) P4Info resolves by the v1model program's names.

p4c's Tofino backend names tables `<pipe>.<control>.<instance>.<table>` (docs/tna.md); with
`--p4runtime-force-std-externs` everything else already has the v1model form.
"""

from __future__ import annotations

import pytest
from finsy.proto import p4i

from nve.p4info import P4Index, P4InfoError


def _info(arch: str, table_name: str) -> p4i.P4Info:
    info = p4i.P4Info()
    info.pkg_info.arch = arch
    t = info.tables.add()
    t.preamble.id, t.preamble.name, t.preamble.alias = 0x02000001, table_name, "dmac"
    m = t.match_fields.add()
    m.id, m.name, m.bitwidth, m.match_type = 1, "vsi", 16, p4i.MatchField.EXACT
    t.size = 1024
    return info


def test_tna_table_resolves_by_program_name_and_reads_back_under_it() -> None:
    idx = P4Index(_info("tna", "pipe.NveIngress.l2.dmac"))
    table = idx.table("NveIngress.l2.dmac")
    assert table.id == 0x02000001
    assert idx.table("pipe.NveIngress.l2.dmac") is table  # the P4Info's own name still works
    # Entries read back by id carry the canonical name, so they diff equal to desired ones.
    assert idx.table_by_id(0x02000001).name == "NveIngress.l2.dmac"


def test_v1model_names_are_taken_as_they_are() -> None:
    idx = P4Index(_info("v1model", "pipe.NveIngress.l2.dmac"))
    assert idx.table_by_id(0x02000001).name == "pipe.NveIngress.l2.dmac"
    with pytest.raises(P4InfoError):
        idx.table("NveIngress.l2.dmac")
