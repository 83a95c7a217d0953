"""bench upgrade_gap: how a flow's figures are judged against the apply's window, the grown
program's sources, its options, and (root) the traffic process's gap log across a veth pair."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from bench._traffic import MARKER_LEN, TrialResult, TrialSpec, run_trial
from bench.upgrade_gap import (
    CASES,
    NEXTHOP_GROWN,
    NEXTHOP_SMALL,
    Applied,
    Options,
    Round,
    Row,
    judge,
    parse_options,
    source_trees,
    table,
)

MS = 1_000_000
CASE = {c.name: c for c in CASES}


def options() -> Options:
    return Options(
        targets=["p4sim"],
        rounds=1,
        cases=[c.name for c in CASES],
        rate=1000.0,
        bmv2_rate=500.0,
        lead=1.5,
        tail=3.0,
        gen_cpu=0,
        switch_cpu=1,
    )


def result(gaps: list[list[int]], *, first: int, last: int, received: int) -> TrialResult:
    longest = max(gaps, key=lambda g: g[1], default=[0, 0])
    return TrialResult(
        offered=1000,
        received=received,
        gaps=gaps,
        max_gap_end_ns=longest[0],
        max_gap_ns=longest[1],
        first_rx_ns=first,
        last_rx_ns=last,
    )


def test_the_gap_is_the_longest_that_overlaps_the_apply() -> None:
    window = (10_000 * MS, 11_000 * MS)
    res = result(
        [[5_000 * MS, 200 * MS], [10_900 * MS, 90 * MS], [10_500 * MS, 40 * MS]],
        first=1_000 * MS,
        last=15_000 * MS,
        received=910,
    )
    r = judge(CASE["reconcile"], res, Applied("reconcile", 0.5), window, 3 * MS, options())
    assert r.lost == 90
    assert r.gap_ms == 90.0 and r.gap_at_ms == 810.0
    assert r.other_ms == 200.0  # before the apply: noise
    assert r.apply_s == 1.0 and r.connect_s == 0.5
    assert r.notes == []


def test_no_gap_shows_as_the_floor_and_a_wrong_push_is_noted() -> None:
    window = (10_000 * MS, 11_000 * MS)
    res = result([], first=1_000 * MS, last=15_000 * MS, received=1000)
    r = judge(CASE["reconcile"], res, Applied("replace", 0.5), window, 3 * MS, options())
    assert r.gap_ms == 3.0 and r.other_ms == 3.0 and r.lost == 0
    assert r.notes == ["pushed replace, expected reconcile"]


def test_a_flow_that_never_resumed_is_noted() -> None:
    window = (10_000 * MS, 11_000 * MS)
    res = result([], first=1_000 * MS, last=10_500 * MS, received=400)
    r = judge(CASE["replace"], res, Applied("replace", 0.5), window, 3 * MS, options())
    assert "forwarding did not resume" in r.notes


def test_without_an_apply_every_gap_is_noise() -> None:
    window = (10_000 * MS, 10_000 * MS)
    res = result([[5_000 * MS, 60 * MS]], first=1_000 * MS, last=15_000 * MS, received=1000)
    r = judge(CASE["none"], res, Applied(None, 0.0), window, 3 * MS, options())
    assert r.gap_ms == 60.0 and r.other_ms == 60.0 and r.apply_s == 0.0 and r.notes == []


def test_gaps_while_the_traffic_starts_are_not_counted() -> None:
    window = (10_000 * MS, 10_000 * MS)
    res = result(
        [[1_100 * MS, 90 * MS], [6_000 * MS, 20 * MS]],
        first=1_000 * MS,
        last=15_000 * MS,
        received=1000,
    )
    r = judge(CASE["none"], res, Applied(None, 0.0), window, 3 * MS, options())
    assert r.gap_ms == 20.0 and r.other_ms == 20.0


def test_table_has_a_line_per_row_and_errors() -> None:
    ok = Row("p4sim", CASE["restart"], "encap", [Round(0, 3.0, 0.0, 50.0, 0.2, 0.01, None)])
    bad = Row("bmv2", CASE["replace"], "decap", error="switch failed")
    lines = table([ok, bad])
    assert len(lines) == 4
    assert "0 / 0" in lines[2] and "0.20 / 0.20" in lines[2]
    assert "simple_switch_grpc" in lines[3] and "ERROR: switch failed" in lines[3]


def test_source_trees_grow_only_the_small_next_hop_table(tmp_path: Path) -> None:
    old, new = source_trees(tmp_path)
    old_sizes = (old / "include" / "sizes.p4").read_text()
    new_sizes = (new / "include" / "sizes.p4").read_text()
    assert old_sizes.count(NEXTHOP_SMALL) == 1 and NEXTHOP_GROWN not in old_sizes
    assert new_sizes == old_sizes.replace(NEXTHOP_SMALL, NEXTHOP_GROWN)
    assert (new / "v1model" / "nvgre_nve.p4").read_text() == (
        old / "v1model" / "nvgre_nve.p4"
    ).read_text()


def test_options_name_what_is_wrong() -> None:
    opts = parse_options(["upgrade_gap", "--target", "simple_switch_grpc", "--cases", "restart"])
    assert opts.targets == ["bmv2"] and opts.cases == ["restart"]
    with pytest.raises(SystemExit):
        parse_options(["--cases", "restart,upgrade"])
    with pytest.raises(SystemExit):
        parse_options(["--rate", "0"])


@pytest.mark.root
def test_traffic_logs_the_gaps_between_frames_out(make_network) -> None:
    """A veth pair forwards every frame unchanged: gaps are only the pacing and the host's."""
    from bench.switch_pps import customer_frame

    net = make_network()
    pair = net.veth_pair(port=1)
    frame = customer_frame(128)
    spec = TrialSpec(
        tx_if=pair.switch_if,
        rx_if=pair.test_if,
        frame_hex=frame.hex(),
        out_prefix_hex=frame[:-MARKER_LEN].hex(),
        rate=1_000,
        duration=0.5,
        drain=2.0,
        trial_id=secrets.randbits(31) | 1,
        settle=0.05,
        gap_log_ns=2 * MS,  # two frame periods
    )
    res = run_trial(spec)
    assert res.received == 500
    assert 0 < res.first_rx_ns < res.last_rx_ns
    assert res.max_gap_ns > 0 and res.first_rx_ns < res.max_gap_end_ns <= res.last_rx_ns
    assert all(length > 2 * MS and end <= res.last_rx_ns for end, length in res.gaps)
    if res.gaps:
        assert max(length for _end, length in res.gaps) == res.max_gap_ns
