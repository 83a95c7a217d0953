"""Shared pieces of the overlay compiler: ids, learned endpoints, the state of a switch.

Allocation of the indices the pipeline uses (vsi, tunnel, nexthop, ECMP group) lives
here: reused from what a switch already holds, new ones take the lowest free number.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from nve import contract as C
from nve.entities import (
    Entity,
    EntityKey,
    FieldMatch,
    TableEntry,
    make_match,
    make_params,
    match_value,
)
from nve.mac import Mac
from nve.model import Endpoint, LocalAttachment
from nve.p4names import Action, Key, Param, Punt, Table
from nve.problems import Problem

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
NexthopKey = tuple[int, int, int]  # (port, dmac, vid)
Nexthops = dict[str, tuple[int, NexthopKey]]  # next hop name -> (id, key)
EcmpGroups = dict[str, tuple[int, tuple[int, ...]]]  # group name -> (id, member next hop ids)
UnderlayRoutes = list[tuple[IPNetwork, str]]  # (prefix, next hop or group name)

K = TypeVar("K", bound=Hashable)


def multicast_mac(group: IP) -> int:
    """RFC 1112 / RFC 2464 group MAC of an IP multicast address."""
    if group.version == 4:
        return 0x01005E000000 | (int(group) & 0x7FFFFF)
    return 0x333300000000 | (int(group) & 0xFFFFFFFF)


@dataclass(frozen=True)
class LearnedEndpoint:
    """A MAC learned from a digest: part of the desired state until it ages out."""

    switch: str
    vsid: int
    mac: Mac
    port: int


@dataclass(frozen=True)
class TunnelKey:
    src: IP
    dst: IP
    flow_id: bool


@dataclass
class Allocator(Generic[K]):
    """Stable small-integer ids: keep what exists, give new keys the lowest free id."""

    low: int
    high: int
    current: dict[K, int] = field(default_factory=dict)

    def assign(self, keys: Iterable[K], what: str) -> tuple[dict[K, int], list[str]]:
        wanted = list(dict.fromkeys(keys))
        out: dict[K, int] = {}
        used: set[int] = set()
        for k in wanted:
            if (
                k in self.current
                and self.low <= self.current[k] <= self.high
                and self.current[k] not in used
            ):
                out[k] = self.current[k]
                used.add(out[k])
        errors: list[str] = []
        free = (i for i in range(self.low, self.high + 1) if i not in used)
        for k in wanted:
            if k not in out:
                nxt = next(free, None)
                if nxt is None:
                    errors.append(f"more {what}s than the {self.high - self.low + 1} ids available")
                    break
                out[k] = nxt
        return out, errors


@dataclass
class Allocations:
    """Ids already in use on a switch, recovered from its tables."""

    vsi: dict[int, int] = field(default_factory=dict)  # vsid -> vsi
    tunnel: dict[TunnelKey, int] = field(default_factory=dict)  # TunnelKey -> tunnel
    nexthop: dict[NexthopKey, int] = field(default_factory=dict)  # (port, dmac, vid) -> nexthop
    # next hop ids of buckets 0, 1, ... -> group (on v1model the buckets are the members)
    ecmp: dict[tuple[int, ...], int] = field(default_factory=dict)

    @classmethod
    def from_installed(cls, installed: Iterable[Entity]) -> Allocations:
        a = cls()
        ecmp_members: dict[int, dict[int, int]] = defaultdict(dict)
        for e in installed:
            if not isinstance(e, TableEntry) or e.is_default:
                continue
            params = dict(e.params)
            match = dict(e.match)
            if e.table == Table.VSI_INFO and Param.VSID in params:
                a.vsi[params[Param.VSID]] = match_value(match[Key.VSI])
            elif e.table == Table.TUNNEL_REMOTE and Param.DST_PA in params:
                ctor = (
                    ipaddress.IPv4Address
                    if e.action == Action.TUNNEL_SET_REMOTE_V4
                    else ipaddress.IPv6Address
                )
                key = TunnelKey(
                    ctor(params[Param.SRC_PA]),
                    ctor(params[Param.DST_PA]),
                    bool(params[Param.USE_FLOW_ID]),
                )
                a.tunnel[key] = match_value(match[Key.TUNNEL])
            elif e.table == Table.REPLICA_TUNNEL and Param.DST_PA in params:
                ctor = (
                    ipaddress.IPv4Address
                    if e.action == Action.REPLICA_REPLICA_V4
                    else ipaddress.IPv6Address
                )
                key = TunnelKey(
                    ctor(params[Param.SRC_PA]),
                    ctor(params[Param.DST_PA]),
                    bool(params[Param.USE_FLOW_ID]),
                )
                a.tunnel.setdefault(key, match_value(match[Key.RID]))
            elif e.table == Table.UNDERLAY_NEXTHOP and Param.PORT in params:
                a.nexthop[(params[Param.PORT], params[Param.DMAC], params[Param.VID])] = (
                    match_value(match[Key.NEXTHOP])
                )
            elif e.table == Table.UNDERLAY_ECMP and Param.NEXTHOP in params:
                group, bucket = match_value(match[Key.GROUP]), match_value(match[Key.BUCKET])
                ecmp_members[group][bucket] = params[Param.NEXTHOP]
        # The buckets as installed: the compiler knows the target, so it tells which member
        # list they hold (v1model: the buckets themselves; TNA: nve.compile.ecmp.holds).
        for group, buckets in ecmp_members.items():
            a.ecmp[tuple(buckets[b] for b in sorted(buckets))] = group
        return a


@dataclass
class EndpointFacts:
    """What a full compilation saw of the endpoints, kept for `nve.compile.delta`."""

    # endpoints per (VSID, host), among those of installed subnets with a known host
    hosts: dict[tuple[int, _Host], int] = field(default_factory=dict)
    # endpoints attached to this switch per (port, VLAN)
    attached: dict[tuple[int, int | None], int] = field(default_factory=dict)
    # (port, VLAN) -> VSID on this switch (port bindings and attached endpoints)
    bindings: dict[tuple[int, int | None], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        switch: str,
        endpoints: Iterable[tuple[Endpoint, _Host]],
        bindings: Mapping[tuple[int, int | None], int],
    ) -> EndpointFacts:
        facts = cls(bindings=dict(bindings))
        hosts, attached = facts.hosts, facts.attached
        for ep, host in endpoints:
            key = (ep.vsid, host)
            hosts[key] = hosts.get(key, 0) + 1
            att = ep.attachment
            if isinstance(att, LocalAttachment) and att.switch == switch:
                where = (att.port, att.vlan)
                attached[where] = attached.get(where, 0) + 1
        return facts


@dataclass
class SwitchState:
    """The desired entities of one switch and the ids chosen for them (for show/stats)."""

    switch: str
    entities: list[Entity]
    vsi: dict[int, int]  # vsid -> vsi
    tunnels: dict[TunnelKey, int]  # -> tunnel index
    tunnel_names: dict[int, str]  # tunnel index -> remote NVE name
    problems: list[Problem]
    facts: EndpointFacts | None = field(default=None, compare=False)  # for endpoint deltas
    # entity key -> its position in `entities` (built by the first endpoint delta)
    positions: dict[EntityKey, int] | None = field(default=None, compare=False, repr=False)
    # tunnel index -> the next hop its packets leave by (port, MAC, VLAN; an ECMP group's
    # first member), for packets the controller encapsulates itself (nve.tunnel_out)
    tunnel_hops: dict[int, NexthopKey] = field(default_factory=dict)


_PUNT_REASONS = tuple(p for p in Punt if p != Punt.NONE)  # the punt meters' indices


def _tier(table: str) -> int:
    return C.TIERS[table]


def _entry(
    table: str,
    action: str,
    match: Mapping[str, FieldMatch | None] | None = None,
    *,
    priority: int = 0,
    idle_timeout_ns: int = 0,
    params: Mapping[str, int] | None = None,
) -> TableEntry:
    return TableEntry(
        table,
        make_match(match),
        action,
        make_params(params),
        priority=priority,
        idle_timeout_ns=idle_timeout_ns,
        tier=_tier(table),
    )


def is_local_attachment(e: Entity) -> bool:
    """Entries that deliver to a locally attached endpoint: replacing them is a 'break'."""
    return isinstance(e, TableEntry) and e.table == Table.L2_DMAC and e.action == Action.L2_TO_PORT


@dataclass(frozen=True)
class _Host:
    """Where an endpoint lives: a switch of this overlay or a remote NVE."""

    name: str
    pas: tuple[IP, ...]  # the PAs it may send from (peer check) - first is where we send to
    flow_id: bool
    is_switch: bool


def _pas_first(pas: Sequence[IP], first: IP | None) -> tuple[IP, ...]:
    if first is None:
        return tuple(pas)
    return (first,) + tuple(p for p in pas if p != first)


def _tunnel_for_endpoint(
    ep: Endpoint, host: _Host, local_pa: Callable[[int], IP | None]
) -> TunnelKey | None:
    dst = host.pas[0]
    src = local_pa(dst.version)
    return None if src is None else TunnelKey(src, dst, host.flow_id)
