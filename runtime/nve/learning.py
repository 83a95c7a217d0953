"""Bounded MAC learning: which reported MACs become learned endpoints.

RFC 7637 §5 warns that the extended L2 scope invites spoofing; a switch that installs
every source MAC it sees can be filled by one host. A MAC reported by a switch (digest)
is learned only within the switch's `learning` limits (docs/controller.md):

* at most `max_macs_per_port` learned MACs per access port and `max_macs_per_vsid` per
  VSID on the switch (0: no limit); over a limit the MAC is not learned and its frames
  keep being forwarded as unknown unicast (flooded in their VSID), counted by reason;
* at most `rate_per_s` MACs learned or moved per second per switch (a token bucket of
  that depth), the rest refused until tokens return;
* move dampening: a MAC that moves more than `moves` times within `window_s` seconds is
  pinned where it was before that move for `hold_s` seconds; further moves are refused,
  counted and reported (an event in the log);
* a configured endpoint is never overridden (the caller does not offer those).

One location per (VSID, MAC): a move replaces the old location. The table keeps counts
per port and per VSID and an index by (VSID, MAC), so an offer costs O(1).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from nve.compile import LearnedEndpoint
from nve.mac import Mac
from nve.model import Learning

# Why an offered MAC was not learned (metric label values, `nve show`).
PORT_LIMIT, VSID_LIMIT, RATE, DAMPENED = "port_limit", "vsid_limit", "rate", "dampened"
REASONS = (PORT_LIMIT, VSID_LIMIT, RATE, DAMPENED)

Key = tuple[str, int, Mac]  # (switch, VSID, MAC)


@dataclass(frozen=True)
class Outcome:
    changed: bool  # the learned set changed (a reconcile is needed)
    refused: str | None = None  # one of REASONS when the offer was refused
    moved_from: LearnedEndpoint | None = None
    pinned: bool = False  # this offer started a hold (move dampening)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class LearnedTable:
    """The learned endpoints of every switch, with the limits' bookkeeping."""

    clock: Callable[[], float] = time.monotonic
    refused: Counter[str] = field(default_factory=Counter)
    _by_key: dict[Key, LearnedEndpoint] = field(default_factory=dict)
    _where: dict[tuple[int, Mac], Key] = field(default_factory=dict)
    _per_port: Counter[tuple[str, int]] = field(default_factory=Counter)
    _per_vsid: Counter[tuple[str, int]] = field(default_factory=Counter)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _moves: dict[tuple[int, Mac], deque[float]] = field(default_factory=dict)
    _pinned: dict[tuple[int, Mac], float] = field(default_factory=dict)

    # -- reading --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[LearnedEndpoint]:
        return iter(self._by_key.values())

    def values(self) -> list[LearnedEndpoint]:
        return list(self._by_key.values())

    def port_count(self, switch: str, port: int) -> int:
        return self._per_port[(switch, port)]

    def vsid_count(self, switch: str, vsid: int) -> int:
        return self._per_vsid[(switch, vsid)]

    def ports_of(self, switch: str) -> dict[int, int]:
        """Learned MACs per port of `switch` (ports with none left out)."""
        return {p: n for (s, p), n in sorted(self._per_port.items()) if s == switch and n}

    def pinned(self) -> dict[tuple[int, Mac], float]:
        """(VSID, MAC) -> seconds left of its hold, for MACs held by move dampening."""
        now = self.clock()
        return {k: until - now for k, until in self._pinned.items() if until > now}

    # -- changing -------------------------------------------------------------------------
    def offer(self, le: LearnedEndpoint, limits: Learning) -> Outcome:
        """A MAC `le.switch` reported on `le.port`: learn it, move it, or refuse it."""
        now = self.clock()
        where = (le.vsid, le.mac)
        old_key = self._where.get(where)
        old = self._by_key.get(old_key) if old_key is not None else None
        if old == le:
            return Outcome(changed=False)
        if old is not None:
            until = self._pinned.get(where)
            if until is not None and until > now:
                return self._refuse(DAMPENED)
            self._pinned.pop(where, None)
            damp = limits.move_dampening
            if damp is not None and self._flapping(where, now, damp.moves, damp.window_s):
                self._pinned[where] = now + damp.hold_s
                self.refused[DAMPENED] += 1
                return Outcome(changed=False, refused=DAMPENED, pinned=True)
        same_port = old is not None and (old.switch, old.port) == (le.switch, le.port)
        same_vsid = old is not None and old.switch == le.switch
        if (
            limits.max_macs_per_port
            and not same_port
            and self._per_port[(le.switch, le.port)] >= limits.max_macs_per_port
        ):
            return self._refuse(PORT_LIMIT)
        if (
            limits.max_macs_per_vsid
            and not same_vsid
            and self._per_vsid[(le.switch, le.vsid)] >= limits.max_macs_per_vsid
        ):
            return self._refuse(VSID_LIMIT)
        if limits.rate_per_s and not self._take_token(le.switch, now, limits.rate_per_s):
            return self._refuse(RATE)
        if old is not None:
            self._remove(old)
            if limits.move_dampening is not None:
                self._moves.setdefault(where, deque()).append(now)
        self._add(le)
        return Outcome(changed=True, moved_from=old)

    def get(self, switch: str, vsid: int, mac: Mac) -> LearnedEndpoint | None:
        return self._by_key.get((switch, vsid, mac))

    def where(self, vsid: int, mac: Mac) -> LearnedEndpoint | None:
        """The place (VSID, MAC) is learned at, if any."""
        key = self._where.get((vsid, mac))
        return self._by_key.get(key) if key is not None else None

    def put(self, le: LearnedEndpoint) -> bool:
        """Learned elsewhere (another controller's switch, from the store): take it as it
        is, replacing the MAC's old place, without limits (they applied where it was
        learned). True if it changed the table."""
        old = self.where(le.vsid, le.mac)
        if old == le:
            return False
        if old is not None:
            self._remove(old)
        self._add(le)
        return True

    def forget(self, switch: str, vsid: int, mac: Mac) -> bool:
        """Remove a learned MAC (aged out on `switch`): True if it was learned there."""
        le = self._by_key.get((switch, vsid, mac))
        if le is None:
            return False
        self._remove(le)
        return True

    # -- internals ------------------------------------------------------------------------
    def _refuse(self, reason: str) -> Outcome:
        self.refused[reason] += 1
        return Outcome(changed=False, refused=reason)

    def _flapping(self, where: tuple[int, Mac], now: float, most: int, window: float) -> bool:
        """Whether one more move of `where` makes more than `most` within `window` s."""
        moves = self._moves.get(where)
        if moves is None:
            return False
        while moves and moves[0] <= now - window:
            moves.popleft()
        return len(moves) >= most

    def _take_token(self, switch: str, now: float, rate: float) -> bool:
        b = self._buckets.get(switch)
        if b is None:
            b = self._buckets[switch] = _Bucket(tokens=rate, stamp=now)
        b.tokens = min(rate, b.tokens + (now - b.stamp) * rate)
        b.stamp = now
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True

    def _add(self, le: LearnedEndpoint) -> None:
        key = (le.switch, le.vsid, le.mac)
        self._by_key[key] = le
        self._where[(le.vsid, le.mac)] = key
        self._per_port[(le.switch, le.port)] += 1
        self._per_vsid[(le.switch, le.vsid)] += 1

    def _remove(self, le: LearnedEndpoint) -> None:
        key = (le.switch, le.vsid, le.mac)
        del self._by_key[key]
        if self._where.get((le.vsid, le.mac)) == key:
            del self._where[(le.vsid, le.mac)]
        self._per_port[(le.switch, le.port)] -= 1
        self._per_vsid[(le.switch, le.vsid)] -= 1
