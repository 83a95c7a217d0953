"""How an ECMP group is laid out in `NveIngress.underlay.ecmp`, per target.

A route's `set_ecmp(group, size)` picks the group; the pipeline picks the bucket from a
16-bit hash of the flow. v1model computes `hash % size`, so a group of n members is n
buckets, bucket i -> member i, size n. Tofino (TNA) has no run-time modulo, and masking
with a size from the route would cost a stage of its own: its bucket is the hash's low
four bits, computed beside the route lookup. A group is therefore always 16 buckets
there, bucket i -> member i mod n, size 16 (the TNA program ignores `size`), so at
most 16 members, each holding 16 // n or 16 // n + 1 buckets (docs/tna.md, "ECMP on
Tofino").

The target is learned from the switch's P4Info (`TargetInfo.from_p4index`) and handed to
the compiler explicitly; without one the compiler lays groups out for v1model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nve.p4names import Action, Table

if TYPE_CHECKING:
    from nve.p4info import P4Index

Members = tuple[int, ...]  # member next hop ids, in description order
Buckets = tuple[int, ...]  # next hop id of bucket 0, 1, ...

TNA_BUCKETS = 16  # the TNA program's bucket: the hash's low four bits


@dataclass(frozen=True)
class TargetInfo:
    """What the compiler needs to know about a switch's pipeline (from its P4Info)."""

    arch: str = "v1model"
    ecmp_buckets: int = 0  # every group has this many buckets (TNA: 16); 0: one per member
    ecmp_capacity: int = 0  # entries NveIngress.underlay.ecmp holds; 0: unknown (no limit)
    priorities: bool = True  # the PCP/DSCP tables (pipeline 3.4.0) are there
    storm_control: bool = True  # NveIngress.storm (pipeline 3.4.0)
    mac_limit_drop: bool = True  # NveIngress.learn.port_full / vsi_full (pipeline 3.4.0)
    host_addresses: bool = True  # NveIngress.punt_local.addresses_v4/v6 (pipeline 3.5.0)
    # NveIngress.outer.my_mac must hold the joined underlay groups' MACs (TNA: the
    # program does not derive a group's MAC from the outer destination as v1model does)
    group_macs: bool = False
    # ... with NveIngress.outer.group_mac (pipeline 3.8.0; before: local_mac, which
    # accepts the group's MAC for any address my_pa holds)
    group_mac_action: bool = True
    # NveIngress.decap.my_pa_v4/v6 also hold the network ports' addresses (TNA: no
    # punt_local tables; decap.checks gives IP to my_pa's addresses that is not GRE to
    # the control-plane host)
    port_addresses_in_my_pa: bool = False

    @classmethod
    def from_p4index(cls, index: P4Index) -> TargetInfo:
        from nve.p4info import TNA_ARCHS  # only with a P4Info at hand: keeps finsy out

        arch = index.info.pkg_info.arch or "v1model"
        capacity = (
            index.table(Table.UNDERLAY_ECMP).size if index.has_table(Table.UNDERLAY_ECMP) else 0
        )
        return cls(
            arch,
            TNA_BUCKETS if arch in TNA_ARCHS else 0,
            capacity,
            priorities=index.has_table(Table.ENCAP_PCP_DSCP),
            storm_control=index.has_table(Table.STORM_PORT),
            mac_limit_drop=index.has_table(Table.LEARN_PORT_FULL),
            host_addresses=index.has_table(Table.PUNT_LOCAL_ADDRESSES_V4),
            group_macs=arch in TNA_ARCHS,
            group_mac_action=index.has("actions", Action.OUTER_GROUP_MAC),
            port_addresses_in_my_pa=arch in TNA_ARCHS
            and not index.has_table(Table.PUNT_LOCAL_ADDRESSES_V4),
        )


V1MODEL = TargetInfo()


def buckets(members: Members, count: int) -> Buckets:
    """Bucket i -> member i mod n, for `count` buckets."""
    return tuple(members[i % len(members)] for i in range(count))


@dataclass(frozen=True)
class Unfit:
    """A group that cannot be laid out: too many members, or too few entries left."""

    position: int  # in the list given to `fixed_sizes`
    members: int
    left: int  # entries still free when it was its turn (-1: no limit)


def fixed_sizes(
    member_counts: Sequence[int], capacity: int, count: int = TNA_BUCKETS
) -> tuple[list[int], list[Unfit]]:
    """Bucket count per group on a fixed-bucket target: `count`, or 0 for a group with
    more members than buckets or that the table (`capacity` entries, 0: unlimited) has
    no room left for, in order."""
    sizes: list[int] = []
    unfit: list[Unfit] = []
    left = capacity if capacity > 0 else -1
    for pos, n in enumerate(member_counts):
        if n > count or 0 <= left < count:
            unfit.append(Unfit(pos, n, left))
            sizes.append(0)
            continue
        sizes.append(count)
        if left >= 0:
            left -= count
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
