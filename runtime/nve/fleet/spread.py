"""Which live replica should own each switch: even, deterministic, and sticky.

Every replica computes the same assignment from the same view (members and owners read at
one etcd revision), so they agree without talking. N switches over R replicas: each owns
N // R or N // R + 1. Current owners keep their switches up to that quota, so a switch
moves only when its owner left or holds more than its share (no flapping): a joining
replica takes switches from the fullest, a leaving replica's switches go to the emptiest.
Free switches are dealt out in turn, so neighbours in name order go to different replicas.
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
    held: dict[str, list[str]] = {}
    for s in names:
        owner = current.get(s)
        if owner is not None:
            held.setdefault(owner, []).append(s)
    for m, mine in held.items():  # keep up to the quota, spread over what it holds
        q = quota[m]
        keep = mine if len(mine) <= q else [mine[(i * len(mine)) // q] for i in range(q)]
        for s in keep:
            out[s] = m
        kept[m] = len(keep)
    # The free switches go round the members under quota, in turn (not in blocks), so
    # that switches next to each other in name order (a pod, a row, the live ones after a
    # thousand placeholders) end up on different replicas. The quotas add up to the
    # switches: every free one gets an owner.
    need = {m: quota[m] - kept[m] for m in live}
    turns: list[str] = []
    while any(n > 0 for n in need.values()):
        for m in live:
            if need[m] > 0:
                turns.append(m)
                need[m] -= 1
    free = [s for s in names if s not in out]
    out.update(zip(free, turns, strict=True))
    return out
