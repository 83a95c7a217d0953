"""`bench switch_pps`: the RFC 2544 rate search and the trial verdicts as pure functions, the
benchmark's frames, and (root) the traffic process across one veth pair with no switch."""

from __future__ import annotations

import math
import secrets
from pathlib import Path

import pytest

from bench._build_info import code_facts
from bench._rate_search import Outcome, RateSearch, judge_trial
from bench._traffic import MARKER_LEN, TrialSpec, percentile, run_trial


def run_search(
    capacity: float,
    *,
    generator: float = math.inf,
    ceiling: float = 100_000,
    start: float = 20_000,
    resolution: float = 0.02,
    max_trials: int = 30,
) -> RateSearch:
    """The search against a switch that loses above ``capacity`` frames/s, with a generator
    that cannot offer more than ``generator``."""
    search = RateSearch(start=start, ceiling=ceiling, resolution=resolution, max_trials=max_trials)
    while (rate := search.next_rate()) is not None:
        assert search.floor <= rate <= search.ceiling
        assert not any(t.rate == rate and t.outcome is not Outcome.PASS for t in search.trials)
        if rate > generator:
            search.record(rate, Outcome.INVALID)
        else:
            search.record(rate, Outcome.PASS if rate <= capacity else Outcome.LOSS)
    return search


@pytest.mark.parametrize("capacity", [150, 1_234, 9_999, 20_000, 33_333, 61_000, 97_500])
@pytest.mark.parametrize("start", [100, 1_500, 20_000, 99_000])
def test_search_converges_to_the_capacity(capacity: float, start: float) -> None:
    search = run_search(capacity, start=start)
    assert search.converged
    assert search.throughput <= capacity
    assert capacity - search.throughput <= 0.02 * search.hi + 1
    assert not search.at_generator_limit
    assert len(search.trials) <= 13


def test_search_reports_a_generator_limit_when_nothing_is_lost() -> None:
    search = run_search(math.inf, ceiling=80_000)
    assert search.converged and search.at_generator_limit
    assert 0.98 * 80_000 <= search.throughput <= 80_000


def test_search_below_an_invalid_rate_is_a_lower_bound() -> None:
    # The generator keeps up to 50,000 frames/s only; the switch would do 70,000.
    search = run_search(70_000, generator=50_000)
    assert search.converged and search.at_generator_limit
    assert 49_000 <= search.throughput <= 50_000


def test_search_when_the_generator_limit_is_above_the_capacity() -> None:
    search = run_search(30_000, generator=50_000)
    assert search.converged and not search.at_generator_limit
    assert 29_400 <= search.throughput <= 30_000


def test_search_below_the_floor_reports_zero() -> None:
    search = run_search(50)
    assert search.converged
    assert search.throughput == 0
    assert search.trials[-1].rate == search.floor


def test_search_stops_after_max_trials_without_converging() -> None:
    search = run_search(33_333, resolution=0.001, max_trials=4)
    assert len(search.trials) == 4
    assert not search.converged and search.done


def test_a_pass_above_a_loss_does_not_count() -> None:
    search = RateSearch(start=10_000, ceiling=100_000)
    search.record(10_000, Outcome.PASS)
    search.record(20_000, Outcome.LOSS)
    search.record(25_000, Outcome.PASS)  # noise: above a rate that lost
    assert search.throughput == 10_000
    assert search.next_rate() == 15_000


def test_behind_counts_as_a_failure_of_the_switch() -> None:
    search = RateSearch(start=10_000, ceiling=100_000)
    search.record(10_000, Outcome.BEHIND)
    assert search.hi == 10_000 and search.hi_reason == "loss"
    assert search.next_rate() == 5_000


def test_search_rejects_nonsense_bounds() -> None:
    with pytest.raises(ValueError):
        RateSearch(start=1, ceiling=50, floor=100)
    with pytest.raises(ValueError):
        RateSearch(start=1, ceiling=500, resolution=0)


def verdict(rate: float = 10_000, **over: int | float) -> Outcome:
    args: dict[str, int | float] = {
        "offered": 100_000,
        "send_errors": 0,
        "received": 100_000,
        "achieved_rate": rate,
        "rx_drops": 0,
        "backlog": 10,
    }
    args.update(over)
    return judge_trial(rate, **args).outcome  # type: ignore[arg-type]


def test_judge_zero_loss_means_exactly_zero() -> None:
    assert verdict() is Outcome.PASS
    assert verdict(received=99_999) is Outcome.LOSS


def test_judge_checks_the_generator_before_the_switch() -> None:
    assert verdict(achieved_rate=9_900, received=0) is Outcome.INVALID
    assert verdict(rx_drops=1) is Outcome.INVALID
    assert verdict(send_errors=1) is Outcome.INVALID
    assert verdict(achieved_rate=9_960) is Outcome.PASS  # within 0.5 %


def test_judge_a_switch_that_fell_behind() -> None:
    # 10,000 frames/s: 50 ms is 500 frames.
    assert verdict(backlog=500) is Outcome.PASS
    assert verdict(backlog=501) is Outcome.BEHIND
    assert (
        judge_trial(
            10_000,
            offered=1,
            send_errors=0,
            received=1,
            achieved_rate=10_000,
            rx_drops=0,
            backlog=10**6,
            max_backlog_s=-1,
        ).outcome
        is Outcome.PASS
    )


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7], 0.99) == 7
    assert percentile([], 0.5) == 0.0


def test_frames_have_the_sizes_offered() -> None:
    from scapy.layers.l2 import GRE, Ether

    from bench.switch_pps import check_output, customer_frame, nvgre_frame, offered_size

    assert offered_size("encap", 64) == 64
    assert offered_size("decap", 64) == 102
    assert offered_size("decap", 512) == 512
    for size in (64, 512, 1400):
        assert len(customer_frame(size)) == size
    for size in (102, 512, 1400):
        frame = nvgre_frame(size)
        assert len(frame) == size
        inner = bytes(Ether(frame)[GRE].payload)
        assert len(inner) == size - 42
        assert check_output("decap", frame, inner) is None
        assert check_output("decap", frame, inner[:-1] + b"x") is not None
    with pytest.raises(ValueError):
        customer_frame(57)


def test_build_facts_of_this_interpreter_parse() -> None:
    import sys

    facts = code_facts(Path(sys.executable).resolve())
    if facts is not None:
        assert 0.0 <= facts.aligned16 <= 1.0
        assert 0.0 <= facts.frame_pointer <= 1.0


@pytest.mark.root
def test_traffic_paces_and_counts_across_a_veth_pair(make_network) -> None:
    """The veth pair stands in for a switch that forwards every frame unchanged."""
    from bench.switch_pps import customer_frame

    net = make_network()
    pair = net.veth_pair(port=1)
    frame = customer_frame(128)
    spec = TrialSpec(
        tx_if=pair.switch_if,
        rx_if=pair.test_if,
        frame_hex=frame.hex(),
        out_prefix_hex=frame[:-MARKER_LEN].hex(),
        rate=5_000,
        duration=0.5,
        drain=2.0,  # left as soon as every frame is out
        trial_id=secrets.randbits(31) | 1,
        settle=0.05,
    )
    res = run_trial(spec)
    assert res.offered == 2_500
    assert res.received == 2_500 and res.wrong == 0 and res.duplicates == 0
    # Never above the nominal rate; below it only when this machine held the generator up.
    assert 2_500 < res.achieved_rate <= 5_000 * 1.01
    assert res.lat_samples == 2_500 and 0 < res.lat_median_us <= res.lat_p99_us


def test_search_steps_down_faster_after_each_failure() -> None:
    search = RateSearch(start=64_000, ceiling=100_000)
    rates = []
    while (rate := search.next_rate()) is not None and rate > 500:
        rates.append(rate)
        search.record(rate, Outcome.LOSS)
    assert rates[:4] == [64_000, 32_000, 8_000, 1_000]


def test_search_retries_just_below_a_rate_the_generator_could_not_offer() -> None:
    search = RateSearch(start=50_000, ceiling=100_000)
    search.record(50_000, Outcome.INVALID)
    assert search.next_rate() == 45_000
    search.record(45_000, Outcome.PASS)
    assert search.next_rate() == 47_500


def test_report_tables_and_the_ratio_goal() -> None:
    from bench.switch_pps import Cell, ratios, table

    def cell(target: str, path: str, capacity: float, size: int = 64) -> Cell:
        search = run_search(capacity, ceiling=200_000, start=capacity)
        return Cell(target, path, size, size + 42, search=search, trials=len(search.trials))

    cells = [
        cell("p4sim", "encap", 60_000),
        cell("p4sim", "decap", 70_000),
        cell("bmv2", "encap", 10_000),
        cell("bmv2", "decap", 15_000),
    ]
    lines = table(cells)
    assert len(lines) == 2 + len(cells)
    goal = ratios(cells)[-1]
    assert "NOT met" in goal and "decap 4.7x" in goal  # 70,000 / 15,000, as searched
    cells[3] = cell("bmv2", "decap", 12_000)
    assert ": met (" in ratios(cells)[-1]
    invalid = RateSearch(start=1_000, ceiling=2_000, max_trials=2)
    invalid.record(1_000, Outcome.INVALID)
    invalid.record(900, Outcome.INVALID)
    cells[3] = Cell("bmv2", "decap", 64, search=invalid, notes=["no valid trial: ..."])
    assert any("no valid trial for simple_switch_grpc" in line for line in ratios(cells))
