"""The path specialiser keeps a call only as the code generator recorded it when it bound the
callee (p4sim.engine.calls): these tests pin the calls today's paths keep, by kind, so that
a path specialised today that stops being specialised (or keeps fewer calls) fails here,
and show that the records, not the callees' names, decide."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from p4sim.engine.calls import OPAQUE
from p4sim.engine.specialize import Unspecializable
from tests.sim.engine.nvgre_support import (
    ACCESS,
    NETWORK,
    VM_A,
    VM_B,
    add_entry,
    compile_text,
    load,
)
from tests.sim.engine.test_paths import PROGRAM, customer, from_network, install


@pytest.fixture(scope="module")
def small() -> tuple[Any, list[tuple[int, Any]]]:
    """The small program of test_paths, and the record of a packet that hits its table."""
    pipeline, st = load(compile_text(PROGRAM), specialize=True)
    add_entry(st, "I.t", {"hdr.h.a": 1}, "I.fwd", {"port": 4})
    records, out, _ = pipeline.paths.record(1, bytes([1, 20]))
    assert out == [(4, bytes([1, 21]))]
    return pipeline, records


def test_the_encap_and_decap_paths_keep_every_kind_of_call(nvgre_program) -> None:
    pipeline, st = load(nvgre_program, specialize=True)
    install(st)
    encap, _, _ = pipeline.paths.record(ACCESS, customer())
    decap, _, _ = pipeline.paths.record(NETWORK, from_network(customer(VM_B, VM_A)))
    # struct unpacks and packs, checksums (pure); table lookups (read); counters and the
    # frame out (deferred); the FlowID crc16 memo; a constant packed at specialisation time
    # encap reads the access port's PCP defaults and an egress priority table too (3.4.0);
    # 3.7.0 counts the customer frame's bytes: 4 more counts in each of two counters
    assert pipeline.paths.calls_kept(encap) == {
        "pure": 11,
        "read": 13,
        "deferred": 11,
        "memo fill": 1,
        "folded": 1,
    }
    # decap reads NveIngress.outer.my_mac (pipeline 3.2.0) and NveIngress.decap.dscp_pcp
    # (3.4.0) too
    assert pipeline.paths.calls_kept(decap) == {"pure": 11, "read": 11, "deferred": 11}


def test_the_small_program_path(small) -> None:
    pipeline, records = small
    # _Su0 (unpack), len(_d), _Sp1 (pack); _exact.get; the counter and _out.append
    assert pipeline.paths.calls_kept(records) == {"pure": 3, "read": 1, "deferred": 2}
    source = pipeline.paths.source_of(records)
    assert ".get(h_h_a)" in source
    assert source.rstrip().endswith("_out.append((_ps4, _f))\n    return True")


def test_the_code_generator_records_what_it_binds(small) -> None:
    pipeline, _ = small
    calls = pipeline.paths.calls
    kinds = {name: calls[name] for name in pipeline._fast_ns if name in calls}
    assert any(k.reads == {"lookup"} and k.defers == {"count_default"} for k in kinds.values())
    assert any(k.defers == {"count"} for k in kinds.values())  # the counter
    assert calls["_out"].defers == {"append"} and calls["_sessions"].reads == {"get"}
    assert calls["_pack_bytes"].foldable and calls["_log_msg"].deferred


@pytest.mark.parametrize("kind", ["read", "deferred", "pure"])
def test_without_its_record_a_call_keeps_the_generic_function(small, kind: str) -> None:
    """The same names, their records taken away one kind at a time: the specialiser refuses."""
    pipeline, records = small
    calls = dict(pipeline.paths.calls)
    for name, k in calls.items():
        if (kind == "read" and k.reads) or (kind == "deferred" and k.defers):
            calls[name] = OPAQUE
        elif kind == "pure" and k.pure:
            calls[name] = replace(k, pure=False, foldable=False)
    with pytest.raises(Unspecializable, match="call"):
        pipeline.paths.calls_kept(records, calls)
