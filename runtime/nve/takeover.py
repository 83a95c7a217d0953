"""Taking over a switch that has no primary controller, without arbitration storms.

P4Runtime spec section 5, as p4sim implements it: when the primary's stream ends nobody is
promoted. Every backup is told NOT_FOUND with the highest election id the switch has seen
(E), and a backup becomes primary only by sending an id >= E. Re-sending a lower id at once
gets NOT_FOUND again, at once: a storm that never ends.

Each nve controller has a priority, 1 to PRIORITY_MAX, distinct per controller of a switch
(by default its configured election id, capped at PRIORITY_MAX). On NOT_FOUND it:

- waits (PRIORITY_MAX + 1 - priority) steps of STEP_S, plus jitter under half a step: the
  higher the priority, the sooner; two distinct priorities stay at least half a step apart
  (priority 255 waits 4 ms, priority 1 about 1 s);
- doubles that wait for each takeover that did not settle (the switch answered NOT_FOUND
  again), at most 2**MAX_DOUBLINGS times, which keeps the order between priorities;
- then arbitrates with E + priority: above E, so it wins when nobody else did; distinct
  per controller, so two takeovers of the same E never clash (INVALID_ARGUMENT); and in
  the order of the waits, so a lower-priority backup that sends late has a lower id than
  the new primary and stays backup (no preemption).

A reply that a primary exists (OK for us, ALREADY_EXISTS for another live controller)
cancels a pending takeover and settles the backoff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PRIORITY_MAX = 255
STEP_S = 0.004
MAX_DOUBLINGS = 4
MAX_ELECTION_ID = 2**128 - 1


def default_priority(election_id: int) -> int:
    """The priority of a controller that configures none: its election id, capped."""
    return max(1, min(election_id, PRIORITY_MAX))


@dataclass
class Takeover:
    """One controller's takeover policy on one switch: when, and with which election id."""

    priority: int
    rng: random.Random = field(default_factory=random.Random)
    unsettled: int = 0  # takeovers since a primary was last seen

    def __post_init__(self) -> None:
        if not 1 <= self.priority <= PRIORITY_MAX:
            raise ValueError(f"priority {self.priority} is outside 1..{PRIORITY_MAX}")

    def next_delay(self) -> float:
        """Seconds to wait before the next takeover (counts it as unsettled)."""
        base = (PRIORITY_MAX + 1 - self.priority) * STEP_S
        jitter = self.rng.random() * STEP_S / 2
        factor = 1 << min(self.unsettled, MAX_DOUBLINGS)
        self.unsettled += 1
        return (base + jitter) * factor

    def settled(self) -> None:
        """A primary exists again: the next takeover starts from the shortest wait."""
        self.unsettled = 0

    def election_id(self, highest: int) -> int | None:
        """The id to take over with when the highest seen is `highest`; None when none is left."""
        eid = highest + self.priority
        return eid if eid <= MAX_ELECTION_ID else None
