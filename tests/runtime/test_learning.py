"""Bounded learning (nve.learning): per-port and per-VSID limits, the learning rate, move
dampening, on a table driven by a fake clock (the limits are about counts and time
windows, so the clock is the input, not a measurement)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nve.compile import LearnedEndpoint
from nve.learning import DAMPENED, PORT_LIMIT, RATE, VSID_LIMIT, LearnedTable
from nve.mac import Mac
from nve.model import Learning, MoveDampening

VSID = 0x1001


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ep(mac: int, port: int = 1, vsid: int = VSID, switch: str = "tor1") -> LearnedEndpoint:
    return LearnedEndpoint(switch, vsid, Mac(mac), port)


def test_no_limits_learns_everything_and_counts_per_port_and_vsid() -> None:
    t = LearnedTable(clock=Clock())
    lim = Learning()
    for m in range(50):
        assert t.offer(ep(m, port=1 + m % 2), lim).changed
    assert len(t) == 50 and t.port_count("tor1", 1) == 25 and t.vsid_count("tor1", VSID) == 50
    assert not t.offer(ep(3, port=2), lim).changed, "an unchanged report changes nothing"
    assert not t.refused


def test_port_limit_refuses_new_macs_but_not_moves_within_the_port() -> None:
    t = LearnedTable(clock=Clock())
    lim = Learning(max_macs_per_port=2)
    assert t.offer(ep(1), lim).changed and t.offer(ep(2), lim).changed
    out = t.offer(ep(3), lim)
    assert (out.changed, out.refused) == (False, PORT_LIMIT)
    assert t.offer(ep(3, port=2), lim).changed, "another port has room"
    # A move into a full port is refused; forgetting one frees the room.
    assert t.offer(ep(3, port=1), lim).refused == PORT_LIMIT
    assert t.forget("tor1", VSID, Mac(1))
    assert t.offer(ep(3, port=1), lim).changed
    assert t.port_count("tor1", 1) == 2 and t.port_count("tor1", 2) == 0
    assert t.refused[PORT_LIMIT] == 2


def test_vsid_limit_is_per_switch_and_vsid() -> None:
    t = LearnedTable(clock=Clock())
    lim = Learning(max_macs_per_vsid=3)
    for m in range(3):
        assert t.offer(ep(m, port=m), lim).changed
    assert t.offer(ep(9, port=7), lim).refused == VSID_LIMIT
    assert t.offer(ep(9, port=7, vsid=VSID + 1), lim).changed
    assert t.offer(ep(9, port=7, switch="tor2"), lim).changed


def test_rate_is_a_token_bucket_per_switch() -> None:
    clock = Clock()
    t = LearnedTable(clock=clock)
    lim = Learning(rate_per_s=10)
    learned = sum(t.offer(ep(m), lim).changed for m in range(25))
    assert learned == 10 and t.refused[RATE] == 15, "a burst of the rate, then refusals"
    assert t.offer(ep(100, switch="tor2"), lim).changed, "each switch has its own bucket"
    clock.now += 0.5
    assert sum(t.offer(ep(200 + m), lim).changed for m in range(25)) == 5
    clock.now += 60
    assert sum(t.offer(ep(300 + m), lim).changed for m in range(25)) == 10, "never above the burst"


def test_a_flapping_mac_is_held_on_its_port_then_released() -> None:
    clock = Clock()
    t = LearnedTable(clock=clock)
    lim = Learning(move_dampening=MoveDampening(moves=3, window_s=10, hold_s=60))
    assert t.offer(ep(7, port=1), lim).changed
    for i in range(3):  # three moves within the window are allowed
        clock.now += 1
        out = t.offer(ep(7, port=2 + i % 2), lim)
        assert out.changed and out.moved_from is not None
    where = next(iter(t)).port
    clock.now += 1
    out = t.offer(ep(7, port=9), lim)
    assert (out.changed, out.refused, out.pinned) == (False, DAMPENED, True)
    clock.now += 30
    out = t.offer(ep(7, port=8), lim)
    assert (out.changed, out.refused, out.pinned) == (False, DAMPENED, False)
    assert [le.port for le in t] == [where], "held where it was before the fourth move"
    assert t.refused[DAMPENED] == 2 and list(t.pinned()) == [(VSID, Mac(7))]
    clock.now += 31  # the hold is over, and the old moves are out of the window
    assert t.offer(ep(7, port=8), lim).changed and not t.pinned()


def test_slow_moves_are_never_dampened() -> None:
    clock = Clock()
    t = LearnedTable(clock=clock)
    lim = Learning(move_dampening=MoveDampening(moves=2, window_s=10, hold_s=60))
    for i in range(20):
        clock.now += 6  # two moves per window at most
        assert t.offer(ep(7, port=1 + i % 2), lim).changed
    assert not t.refused


def test_without_dampening_moves_are_unbounded() -> None:
    t = LearnedTable(clock=Clock())
    lim = Learning(move_dampening=None)
    assert all(t.offer(ep(7, port=1 + i % 2), lim).changed for i in range(100))


def test_one_location_per_vsid_and_mac_across_switches() -> None:
    t = LearnedTable(clock=Clock())
    lim = Learning()
    assert t.offer(ep(5, switch="tor1"), lim).changed
    out = t.offer(ep(5, switch="tor2", port=4), lim)
    assert out.changed and out.moved_from == ep(5, switch="tor1")
    assert [(le.switch, le.port) for le in t] == [("tor2", 4)]
    assert t.vsid_count("tor1", VSID) == 0 and t.vsid_count("tor2", VSID) == 1
    assert not t.forget("tor1", VSID, Mac(5)), "gone from tor1 already"


@pytest.mark.parametrize(
    "bad",
    [{"max_macs_per_port": -1}, {"rate_per_s": -5}, {"move_dampening": {"moves": 0}}, {"x": 1}],
)
def test_bad_limits_are_refused_by_the_model(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Learning.model_validate(bad)
