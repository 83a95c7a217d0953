"""The RFC 2544 throughput search (§26.1) as pure logic: which offered rate to try next,
and what the trials found.  No sockets here, so the search is tested on its own.

Each trial at an offered rate ends in one of four outcomes:

* ``PASS``: every offered frame came out (zero loss, exactly);
* ``LOSS``: at least one frame did not;
* ``BEHIND``: no loss, but the switch did not keep up: when the last frame was offered, more
  than ``max_backlog_s`` worth of frames were still inside it (queued in a deep socket
  buffer, they came out during the drain wait).  With 10-s trials and a 2-s drain, a switch
  with deep enough buffers would otherwise pass at up to 20 % above the rate it sustains;
  the search treats this like a loss;
* ``INVALID``: the generator did not offer that rate (it was held up for longer than it may
  catch up, or the kernel refused frames), or the receiver dropped frames: a fact about the
  test equipment, not about the switch.  The caller repeats such a trial; if it stays
  invalid, the search treats that rate as the ceiling of what can be measured.

The search keeps ``lo``, the highest rate that passed, and ``hi``, the lowest rate that lost
(or fell behind) or could not be offered, at first the generator's ceiling.  It tries the
starting rate (a guess), then bisects: at the geometric mean of the bounds while they are
more than a factor 2 apart (a switch's lossless rate may be far from what it forwards when
overloaded), then at the arithmetic mean.  Below a start that failed, it tries 1/2, 1/4,
1/8 ... of the last failure (the floor is 100 frames/s); below a rate the generator could
not offer, 90 % of it.  It stops when ``hi - lo <= resolution * hi``; ``lo`` is then the
throughput: exactly, to the resolution, when ``hi`` lost; at least, when ``hi`` is the
generator's limit.  A loss at the floor means
a throughput below it, reported as 0.  ``max_trials`` bounds the search.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field


class Outcome(enum.Enum):
    PASS = "pass"
    LOSS = "loss"
    BEHIND = "behind"
    INVALID = "invalid"


@dataclass(frozen=True)
class TrialRecord:
    rate: float
    outcome: Outcome


@dataclass
class RateSearch:
    """Binary search of the offered rate (frames/s) for the highest zero-loss rate."""

    start: float
    ceiling: float
    floor: float = 100.0
    resolution: float = 0.02
    max_trials: int = 14
    lo: float = 0.0
    hi: float = 0.0
    hi_reason: str = "ceiling"  # what bounds the search above: "ceiling", "loss" or "invalid"
    trials: list[TrialRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.floor <= 0 or self.floor > self.ceiling:
            raise ValueError(
                f"need 0 < floor <= ceiling (floor {self.floor:g}, ceiling {self.ceiling:g})"
            )
        if not 0 < self.resolution < 1:
            raise ValueError(f"resolution must be in (0, 1), not {self.resolution:g}")
        self.hi = self.ceiling

    def record(self, rate: float, outcome: Outcome) -> None:
        """Note a trial's outcome at ``rate`` (normally the rate ``next_rate()`` returned)."""
        self.trials.append(TrialRecord(rate, outcome))
        if outcome is not Outcome.PASS and rate <= self.hi:
            self.hi = rate
            self.hi_reason = "invalid" if outcome is Outcome.INVALID else "loss"
        # The highest pass below the upper bound: a pass at or above a rate that lost (noise
        # on a shared machine) does not count, the loss is what bounds the search.
        self.lo = max(
            (
                t.rate
                for t in self.trials
                if t.outcome is Outcome.PASS
                and (t.rate < self.hi or (t.rate == self.hi and self.hi_reason == "ceiling"))
            ),
            default=0.0,
        )

    @property
    def converged(self) -> bool:
        """The search has its answer (as opposed to having run out of trials)."""
        if self.lo == 0.0:
            return bool(self.trials) and self.hi <= self.floor and self.hi_reason != "ceiling"
        return self.hi - self.lo <= self.resolution * self.hi

    @property
    def done(self) -> bool:
        return self.converged or len(self.trials) >= self.max_trials

    def next_rate(self) -> float | None:
        """The next rate to try, or None when the search is over."""
        if self.done:
            return None
        mid = (self.lo + self.hi) / 2
        if not self.trials:
            rate = self.start
        elif self.hi_reason == "invalid" and self.trials[-1].outcome is Outcome.INVALID:
            rate = max(mid, 0.9 * self.hi)  # says nothing about the switch: just below
        elif self.lo == 0:
            # Down from the start, faster with every failure: 1/2, 1/4, 1/8 ... but no
            # lower than the geometric mean of the floor and the upper bound.
            failures = sum(t.outcome is not Outcome.PASS for t in self.trials)
            rate = max(math.sqrt(self.floor * self.hi), self.hi / 2**failures)
        elif self.hi > 2 * self.lo:
            rate = math.sqrt(self.lo * self.hi)  # a wide range: halve it in log space
        else:
            rate = mid
        return float(round(min(max(rate, self.floor), self.ceiling)))

    @property
    def throughput(self) -> float:
        """The highest offered rate with zero loss found (0: none, or below the floor)."""
        return self.lo

    @property
    def at_generator_limit(self) -> bool:
        """No loss was found up to what the generator could offer: the switch's throughput
        is at least ``throughput``, not exactly it."""
        return self.converged and self.lo > 0 and self.hi_reason != "loss"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    why: str  # for a loss, how many frames; for an invalid trial, what fell short


def judge_trial(
    rate: float,
    *,
    offered: int,
    send_errors: int,
    received: int,
    achieved_rate: float,
    rx_drops: int,
    backlog: int,
    rate_tolerance: float = 0.005,
    max_backlog_s: float = 0.05,
) -> Verdict:
    """A trial's outcome.  The test equipment is checked first: a trial whose generator did
    not offer ``rate`` (short by more than ``rate_tolerance``: it was held up, or the kernel
    refused frames) or whose receiver dropped frames is INVALID whatever the switch did.
    Otherwise zero loss means exactly zero: every offered frame came out; and the switch
    must have kept up (no more than ``max_backlog_s`` of frames still inside it when the offer
    ended; negative: not checked)."""
    if send_errors:
        return Verdict(Outcome.INVALID, f"the kernel refused {send_errors:,} frames at send")
    if achieved_rate < (1 - rate_tolerance) * rate:
        return Verdict(
            Outcome.INVALID, f"the generator offered {achieved_rate:,.0f} of {rate:,.0f} frames/s"
        )
    if rx_drops:
        return Verdict(Outcome.INVALID, f"the receiver dropped {rx_drops:,} frames")
    lost = offered - received
    if lost > 0:
        return Verdict(Outcome.LOSS, f"{lost:,} of {offered:,} frames lost")
    if max_backlog_s >= 0 and backlog > rate * max_backlog_s:
        return Verdict(
            Outcome.BEHIND,
            f"no loss, but {backlog:,} frames ({backlog / rate * 1e3:,.0f} ms) were still "
            "inside the switch when the offer ended",
        )
    return Verdict(Outcome.PASS, f"all {offered:,} frames out")
