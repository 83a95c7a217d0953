"""Which live replica should own each switch: even, deterministic, and sticky.

Every replica computes the same assignment from the same view (members and owners read at
one etcd revision), so they agree without talking. N switches over R replicas: each owns
N // R or N // R + 1. Current owners keep their switches up to that quota, so a switch
moves only when its owner left or holds more than its share (no flapping): a joining
replica takes switches from the fullest, a leaving replica's switches go to the emptiest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def quotas(members: Iterable[str], owned: Mapping[str, int], switches: int) -> dict[str, int]:
    """How many switches each member should own. The N % R members that own most now (then by
    name) get the extra switch, so that those who have one already keep it."""
    ranked = sorted(set(members), key=lambda m: (-owned.get(m, 0), m))
    if not ranked:
        return {}
    base, extra = divmod(switches, len(ranked))
    return {m: base + (1 if i < extra else 0) for i, m in enumerate(ranked)}


def assign(
    switches: Iterable[str], members: Iterable[str], owners: Mapping[str, str]
) -> dict[str, str]:
    """The owner each switch should have, given `owners` (switch -> replica, as now held).

    Owners that are not members (their lease is gone) are ignored; with no member, nothing
    is assigned."""
    names = sorted(set(switches))
    live = sorted(set(members))
    if not live:
        return {}
    current = {s: o for s in names if (o := owners.get(s)) is not None and o in live}
    count: dict[str, int] = {}
    for m in current.values():
        count[m] = count.get(m, 0) + 1
    quota = quotas(live, count, len(names))
    out: dict[str, str] = {}
    kept = dict.fromkeys(live, 0)
    for s in names:  # keep, in switch order, up to the quota
        held = current.get(s)
        if held is not None and kept[held] < quota[held]:
            out[s] = held
            kept[held] += 1
    free = [s for s in names if s not in out]
    for m in live:  # the quotas add up to the switches: every free one gets an owner
        while kept[m] < quota[m] and free:
            out[free.pop(0)] = m
            kept[m] += 1
    return out
