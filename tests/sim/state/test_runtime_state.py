"""Runtime state: lookups as the per-packet path sees them, meters, registers, PRE."""

from __future__ import annotations

import random
import threading

import pytest

from p4sim.state import (
    GREEN,
    RED,
    YELLOW,
    FieldSpec,
    MatchKind,
    MeterCell,
    MeterConfig,
    MeterSpec,
    TableEntry,
    TableError,
    build_state,
    make_table,
)
from tests.sim.p4sim_switch_support import A_DROP, A_FWD, A_NOACTION, A_SET_NHOP, sample_p4info


@pytest.fixture
def state():
    return build_state(sample_p4info())


def test_state_from_p4info(state):
    t = state.table("ingress.t_exact")
    assert t.kind == "exact" and t.size == 4 and t.support_timeout and t.has_direct_counter
    assert state.table("ingress.t_lpm").kind == "lpm"
    assert (
        state.table("ingress.t_tern").kind == "ternary"
        and state.table("ingress.t_tern").needs_priority
    )
    assert state.table("ingress.t_exact").lookup((1,)) == (A_NOACTION, (), None)
    assert state.table("ingress.t_keyless").default_result == (A_FWD, (5,), None)
    assert state.register("ingress.seen").mask == 0xFFF
    assert [f.name for f in state.packet_in_fields] == ["ingress_port", "reason"]


def test_exact_hit_miss_and_modify(state):
    t = state.table("ingress.t_exact")
    e = TableEntry((0xAA,), A_FWD, (3,))
    t.insert(e)
    assert t.lookup((0xAA,)) == (A_FWD, (3,), e)
    t.modify((0xAA,), 0, A_DROP, ())
    assert t.lookup((0xAA,))[:2] == (A_DROP, ())
    t.delete((0xAA,))
    assert t.lookup((0xAA,))[2] is None
    with pytest.raises(TableError):
        t.delete((0xAA,))


def test_size_limit(state):
    t = state.table("ingress.t_exact")
    for i in range(4):
        t.insert(TableEntry((i,), A_FWD, (1,)))
    with pytest.raises(TableError) as ei:
        t.insert(TableEntry((9,), A_FWD, (1,)))
    assert ei.value.code == 8


def test_lpm_longest_prefix_wins(state):
    t = state.table("ingress.t_lpm")
    t.insert(TableEntry((1, (0x0A000000, 8)), A_SET_NHOP, (8, 0)))
    t.insert(TableEntry((1, (0x0A010000, 16)), A_SET_NHOP, (16, 0)))
    t.insert(TableEntry((2, (0x0A010100, 24)), A_SET_NHOP, (24, 0)))
    assert t.lookup((1, 0x0A010203))[1] == (16, 0)
    assert t.lookup((1, 0x0A020203))[1] == (8, 0)
    assert t.lookup((1, 0x0A010105))[1] == (16, 0)  # the /24 is in another VRF
    assert t.lookup((2, 0x0A010105))[1] == (24, 0)
    assert t.lookup((1, 0x0B000000))[2] is None
    t.delete((1, (0x0A010000, 16)))
    assert t.prefix_lengths == [24, 8]
    assert t.lookup((1, 0x0A010203))[1] == (8, 0)


def _brute_lpm(entries, key):
    best = None
    for (value, plen), nhop in entries.items():
        mask = ((1 << plen) - 1) << (32 - plen)
        if key & mask == value and (best is None or plen > best[0]):
            best = (plen, nhop)
    return best[1] if best else None


def test_lpm_matches_a_brute_force_reference():
    rng = random.Random(7)
    t = make_table(1, "t", (FieldSpec(1, "dst", 32, MatchKind.LPM),), 10000, default_action=(9, ()))
    entries = {}
    for n in range(500):
        plen = rng.randint(1, 32)
        value = rng.getrandbits(32) & (((1 << plen) - 1) << (32 - plen))
        if (value, plen) not in entries:
            entries[(value, plen)] = n
            t.insert(TableEntry(((value, plen),), 1, (n,)))
    for _ in range(2000):
        key = (
            rng.getrandbits(32)
            if rng.random() < 0.5
            else rng.choice(list(entries))[0] | rng.getrandbits(8)
        )
        want = _brute_lpm(entries, key)
        got = t.lookup((key,))
        assert (got[1][0] if got[2] is not None else None) == want


def test_exact_multi_field_keys_never_collide():
    """Exact entries are indexed by the match packed into one int: each field must get its
    own width, or keys such as (1, 0x02) and (0, 0x12) below would share a slot."""
    t = make_table(
        1,
        "t",
        (
            FieldSpec(1, "a", 4, MatchKind.EXACT),
            FieldSpec(2, "b", 8, MatchKind.EXACT),
            FieldSpec(3, "c", 1, MatchKind.EXACT),
        ),
        100,
        default_action=(9, ()),
    )
    keys = [
        (1, 0x02, 0),
        (0, 0x12, 0),
        (0, 0x21, 0),
        (0, 0x01, 1),
        (0, 0x02, 1),
        (15, 255, 1),
        (0, 0, 0),
    ]
    for n, k in enumerate(keys):
        t.insert(TableEntry(k, 1, (n,)))
    for n, k in enumerate(keys):
        assert t.lookup(k)[1] == (n,)
    assert t.lookup((1, 0x02, 1))[2] is None
    t.delete((0, 0x12, 0))
    assert t.lookup((0, 0x12, 0))[2] is None and t.lookup((1, 0x02, 0))[1] == (0,)


def test_ternary_priority_range_optional(state):
    t = state.table("ingress.t_tern")
    low = TableEntry(((0, 0), (0, 0xFFFF), (0, 0)), A_DROP, (), 1)
    mid = TableEntry(((0x06, 0xFF), (80, 443), (0, 0)), A_FWD, (2,), 5)
    high = TableEntry(((0x06, 0xFF), (0, 0xFFFF), (1, 1)), A_FWD, (3,), 10)
    for e in (low, mid, high):
        t.insert(e)
    assert t.lookup((6, 100, 0))[2] is mid
    assert t.lookup((6, 100, 1))[2] is high
    assert t.lookup((6, 1000, 0))[2] is low
    assert t.lookup((17, 100, 0))[2] is low
    t.delete(high.match, 10)
    assert t.lookup((6, 100, 1))[2] is mid


def test_ternary_cache_never_serves_stale_results():
    t = make_table(
        1, "t", (FieldSpec(1, "f", 16, MatchKind.TERNARY),), 1000, default_action=(0, ())
    )
    for i in range(20):  # enough entries for the cache to be used
        t.insert(TableEntry(((0x100 + i, 0xFFFF),), 1, (i,), 1))
    assert t.lookup((0x42,))[2] is None
    e = TableEntry(((0x42, 0xFFFF),), 1, (99,), 5)
    t.insert(e)
    assert t.lookup((0x42,))[2] is e
    t.set_default(7, (1,))
    assert t.lookup((0x43,)) == (7, (1,), None)


def test_writes_are_seen_by_a_concurrent_reader():
    t = make_table(
        1, "t", (FieldSpec(1, "f", 16, MatchKind.TERNARY),), 100000, default_action=(0, ())
    )
    stop = threading.Event()
    errors = []

    def reader() -> None:
        while not stop.is_set():
            try:
                t.lookup((5,))
            except Exception as exc:  # noqa: BLE001  # pragma: no cover - the assert below reports any
                errors.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    for i in range(400):
        t.insert(TableEntry(((i, 0xFFFF),), 1, (i,), 1 + i % 7))
        assert t.lookup((i,))[1] == (i,)
    stop.set()
    th.join()
    assert errors == []


def test_meter_two_rate_three_colour():
    cell = MeterCell(MeterSpec("packets"))
    assert cell.execute(100, 0) == GREEN  # unconfigured
    # 1 packet/s committed with burst 2, 2 packets/s peak with burst 3
    cell.configure(MeterConfig(cir=1, cburst=2, pir=2, pburst=3), now_ns=0)
    colours = [cell.execute(100, 0) for _ in range(4)]
    assert colours == [GREEN, GREEN, YELLOW, RED]
    # after 1 s: +1 committed token, +2 peak tokens
    assert [cell.execute(100, 10**9) for _ in range(3)] == [GREEN, YELLOW, RED]


def test_meter_bytes_unit():
    cell = MeterCell(MeterSpec("bytes"))
    cell.configure(MeterConfig(cir=1000, cburst=1500, pir=2000, pburst=3000), now_ns=0)
    assert cell.execute(1500, 0) == GREEN
    assert cell.execute(1500, 0) == YELLOW
    assert cell.execute(100, 0) == RED
    # 0.5 s later: peak bucket 0 + 1000, committed bucket 0 + 500
    assert cell.execute(1000, 500_000_000) == YELLOW
    assert cell.execute(1, 500_000_000) == RED
