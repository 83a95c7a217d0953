"""How an ECMP group is laid out in `NveIngress.underlay.ecmp`, per target.

A route's `set_ecmp(group, size)` picks the group; the pipeline picks the bucket from a
16-bit hash of the flow. v1model computes `hash % size`, so a group of n members is n
buckets, bucket i -> member i, size n. Tofino (TNA) has no run-time modulo and computes
`hash & (size - 1)`, so size must be a power of two there: a group of n members is B
buckets, B the smallest power of two >= max(n, 16) (fewer where the table is short of
entries, never fewer than the smallest power of two >= n), bucket i -> member i mod n,
size B. Each member then holds B // n or B // n + 1 buckets (docs/tna.md, "ECMP on Tofino").

The target is learned from the switch's P4Info (`TargetInfo.from_p4index`) and handed to
the compiler explicitly; without one the compiler lays groups out for v1model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nve.p4names import Table

if TYPE_CHECKING:
    from nve.p4info import P4Index

Members = tuple[int, ...]  # member next hop ids, in description order
Buckets = tuple[int, ...]  # next hop id of bucket 0, 1, ...

TNA_MIN_BUCKETS = 16  # buckets a TNA group gets at least, where the table has room
MAX_BUCKETS = 1 << 15  # set_ecmp's size is bit<16>: the largest power of two it holds


@dataclass(frozen=True)
class TargetInfo:
    """What the compiler needs to know about a switch's pipeline (from its P4Info)."""

    arch: str = "v1model"
    ecmp_power_of_two: bool = False  # bucket = hash & (size - 1) (TNA) instead of hash % size
    ecmp_capacity: int = 0  # entries NveIngress.underlay.ecmp holds; 0: unknown (no limit)

    @classmethod
    def from_p4index(cls, index: P4Index) -> TargetInfo:
        from nve.p4info import TNA_ARCHS  # only with a P4Info at hand: keeps finsy out

        arch = index.info.pkg_info.arch or "v1model"
        capacity = (
            index.table(Table.UNDERLAY_ECMP).size if index.has_table(Table.UNDERLAY_ECMP) else 0
        )
        return cls(arch, arch in TNA_ARCHS, capacity)


V1MODEL = TargetInfo()


def next_power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def buckets(members: Members, count: int) -> Buckets:
    """Bucket i -> member i mod n, for `count` buckets."""
    return tuple(members[i % len(members)] for i in range(count))


@dataclass(frozen=True)
class Unfit:
    """A group that cannot get the buckets it needs."""

    position: int  # in the list given to `power_of_two_sizes`
    needed: int
    left: int  # entries still free when it was its turn


def power_of_two_sizes(
    member_counts: Sequence[int], capacity: int
) -> tuple[list[int], list[Unfit]]:
    """Bucket count per group on a masking target (0 for a group that does not fit).

    Every group first gets the smallest power of two >= its members, in order; then, while
    the table (`capacity` entries, 0: unlimited) has room, the groups below
    max(16, that) double their buckets in turns, so a short table is shared evenly."""
    sizes: list[int] = []
    unfit: list[Unfit] = []
    left = capacity if capacity > 0 else -1
    for pos, n in enumerate(member_counts):
        need = next_power_of_two(n)
        if need > MAX_BUCKETS or (left >= 0 and need > left):
            unfit.append(Unfit(pos, need, max(left, 0) if left >= 0 else MAX_BUCKETS))
            sizes.append(0)
            continue
        sizes.append(need)
        if left >= 0:
            left -= need
    want = [
        min(MAX_BUCKETS, next_power_of_two(max(n, TNA_MIN_BUCKETS))) if s else 0
        for n, s in zip(member_counts, sizes)
    ]
    if left < 0:
        return want, unfit
    grown = True
    while grown:
        grown = False
        for i, s in enumerate(sizes):
            if s and s < want[i] and s <= left:
                left -= s
                sizes[i] = 2 * s
                grown = True
    return sizes, unfit


def holds(installed: Buckets, members: Members) -> bool:
    """Whether installed buckets are `members` laid out on a power-of-two bucket count."""
    count, n = len(installed), len(members)
    return (
        n > 0
        and count >= n
        and count & (count - 1) == 0
        and all(installed[i] == members[i % n] for i in range(count))
    )


def reuse_power_of_two(
    installed: Mapping[Buckets, int], wanted: Mapping[Members, Buckets]
) -> dict[Members, int]:
    """Installed group ids to keep, per wanted member list (for `Allocator`).

    A group installed with exactly the wanted buckets keeps its id; otherwise one that holds
    the same members on another power-of-two count does (its buckets are then rewritten in
    place). Each installed id goes to one member list at most."""
    by_members: dict[frozenset[int], list[tuple[Buckets, int]]] = {}
    for seq, gid in sorted(installed.items(), key=lambda kv: kv[1]):
        by_members.setdefault(frozenset(seq), []).append((seq, gid))
    out: dict[Members, int] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for members, want in wanted.items():
            if members in out:
                continue
            for seq, gid in by_members.get(frozenset(members), ()):
                if gid in taken:
                    continue
                if (seq == want) if exact else holds(seq, members):
                    out[members] = gid
                    taken.add(gid)
                    break
    return out
