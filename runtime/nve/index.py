"""`OverlayIndex`: lookups over one overlay description, built once per description.

Validation and compilation find objects by name and VSID; the event handlers find the
subnet of a VSID, the endpoint of a customer address and the endpoints behind a port
for every packet-in. A description is immutable once loaded, so the index is built
when it is loaded (or reloaded) and shared. Where a name or key is duplicated (which
validation reports), the first occurrence wins everywhere.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TypeVar

from nve.model import Endpoint, LocalAttachment, Overlay, Subnet, Switch, Tenant
from nve.problems import ConfigPath

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class OverlayIndex:
    """Name -> (position, object) lookups, plus the event handlers' per-packet lookups.

    Endpoints are found by name with an order key rather than a position: keys ascend in
    description order and equal the positions when the index is built; an endpoint
    added later gets the next key, and a removal takes its key out of `order` without
    renumbering the rest, so a follower's change costs what it changes, not the size of
    the description. `position()` turns a key into the endpoint's place in the list."""

    switches: dict[str, tuple[int, Switch]] = field(default_factory=dict)
    tenants: dict[str, tuple[int, Tenant]] = field(default_factory=dict)
    subnets: dict[int, tuple[ConfigPath, Subnet, Tenant]] = field(default_factory=dict)
    endpoints: dict[str, tuple[int, Endpoint]] = field(default_factory=dict)  # (key, endpoint)
    # the order keys of the description's endpoints, in its order (ascending)
    order: list[int] = field(default_factory=list, compare=False)
    remote_nves: dict[str, int] = field(default_factory=dict)
    # (VSID, customer address) -> endpoint
    by_ca: dict[tuple[int, IP], Endpoint] = field(default_factory=dict)
    # (switch, port) -> endpoints attached there, in description order
    by_port: dict[tuple[str, int], list[Endpoint]] = field(default_factory=dict)
    # (VSID, MAC) of every configured endpoint
    macs: set[tuple[int, int]] = field(default_factory=set)
    # (switch, port) -> the order keys of by_port's endpoints, ascending (kept beside it so
    # replace_endpoints finds its place by bisection: a port may hold 10,000 endpoints)
    port_at: dict[tuple[str, int], list[int]] = field(default_factory=dict, compare=False)
    # VSID -> its endpoints in description order, and their order keys (a switch's
    # compilation walks the subnets it installs, not the whole description)
    by_vsid: dict[int, list[Endpoint]] = field(default_factory=dict)
    vsid_at: dict[int, list[int]] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, overlay: Overlay) -> OverlayIndex:
        idx = cls()
        for i, sw in enumerate(overlay.switches):
            idx.switches.setdefault(sw.name, (i, sw))
        for t, tenant in enumerate(overlay.tenants):
            idx.tenants.setdefault(tenant.name, (t, tenant))
            for s, subnet in enumerate(tenant.subnets):
                idx.subnets.setdefault(subnet.vsid, (("tenants", t, "subnets", s), subnet, tenant))
        idx.order = list(range(len(overlay.endpoints)))
        for e, ep in enumerate(overlay.endpoints):
            idx.endpoints.setdefault(ep.name, (e, ep))
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None:
                    idx.by_ca.setdefault((ep.vsid, ca), ep)
            if isinstance(ep.attachment, LocalAttachment):
                key = (ep.attachment.switch, ep.attachment.port)
                idx.by_port.setdefault(key, []).append(ep)
                idx.port_at.setdefault(key, []).append(e)
            idx.by_vsid.setdefault(ep.vsid, []).append(ep)
            idx.vsid_at.setdefault(ep.vsid, []).append(e)
            idx.macs.add((ep.vsid, ep.mac))
        for r, nve in enumerate(overlay.remote_nves):
            idx.remote_nves.setdefault(nve.name, r)
        return idx

    def position(self, name: str) -> int | None:
        """Where endpoint `name` is in the description's list (None: no such endpoint)."""
        found = self.endpoints.get(name)
        if found is None:
            return None
        i = bisect.bisect_left(self.order, found[0])
        return i if i < len(self.order) and self.order[i] == found[0] else None

    def next_key(self) -> int:
        """The order key of an endpoint appended to the description."""
        return self.order[-1] + 1 if self.order else 0

    def replace_endpoints(self, old: list[Endpoint], new: list[tuple[int, Endpoint]]) -> None:
        """Update the endpoint lookups in place for a description whose endpoints `old`
        were replaced by `new` (each with its order key; `order` already says where each
        is): the lookups build() would give, in time proportional to the change. The
        changes were validated (a CA or a MAC once per VSID), so no other endpoint holds
        their keys."""
        for ep in old:
            found = self.endpoints.get(ep.name)
            if found is not None and found[1] is ep:
                del self.endpoints[ep.name]
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None and self.by_ca.get((ep.vsid, ca)) is ep:
                    del self.by_ca[(ep.vsid, ca)]
            pos = found[0] if found is not None and found[1] is ep else None
            if isinstance(ep.attachment, LocalAttachment):
                key = (ep.attachment.switch, ep.attachment.port)
                _take_out(self.by_port, self.port_at, key, ep, pos)
            _take_out(self.by_vsid, self.vsid_at, ep.vsid, ep, pos)
            self.macs.discard((ep.vsid, ep.mac))
        for pos, ep in new:
            self.endpoints.setdefault(ep.name, (pos, ep))
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None:
                    self.by_ca.setdefault((ep.vsid, ca), ep)
            if isinstance(ep.attachment, LocalAttachment):
                key = (ep.attachment.switch, ep.attachment.port)
                _put_in(self.by_port, self.port_at, key, ep, pos)
            _put_in(self.by_vsid, self.vsid_at, ep.vsid, ep, pos)
            self.macs.add((ep.vsid, ep.mac))

    def subnet(self, vsid: int) -> Subnet | None:
        found = self.subnets.get(vsid)
        return found[1] if found is not None else None

    def tenant_vsids(self, vsid: int) -> frozenset[int]:
        """Every VSID of the tenant that owns `vsid` (empty if no subnet has it)."""
        found = self.subnets.get(vsid)
        return frozenset(s.vsid for s in found[2].subnets) if found is not None else frozenset()

    def endpoint_at(self, vsid: int, ca: IP) -> Endpoint | None:
        return self.by_ca.get((vsid, ca))

    def endpoints_on(self, switch: str, port: int) -> list[Endpoint]:
        return self.by_port.get((switch, port), [])

    def in_subnets(self, vsids: Iterable[int]) -> Iterator[Endpoint]:
        """The endpoints of these VSIDs, in description order."""
        lists = [zip(self.vsid_at[v], self.by_vsid[v]) for v in vsids if v in self.by_vsid]
        return (ep for _, ep in heapq.merge(*lists, key=itemgetter(0)))

    def attached_to(self, switch: str) -> Iterator[Endpoint]:
        """The endpoints attached to a port of `switch`, in description order."""
        lists = [zip(self.port_at[k], eps) for k, eps in self.by_port.items() if k[0] == switch]
        return (ep for _, ep in heapq.merge(*lists, key=itemgetter(0)))


_K = TypeVar("_K")


def _put_in(
    lists: dict[_K, list[Endpoint]], ats: dict[_K, list[int]], key: _K, ep: Endpoint, pos: int
) -> None:
    """Insert `ep` (order key `pos`) in the endpoints under `key`, in description order."""
    here = lists.setdefault(key, [])
    at = ats.setdefault(key, [])
    i = bisect.bisect(at, pos)
    here.insert(i, ep)
    at.insert(i, pos)


def _take_out(
    lists: dict[_K, list[Endpoint]],
    ats: dict[_K, list[int]],
    key: _K,
    ep: Endpoint,
    pos: int | None,
) -> None:
    """Take `ep` (order key `pos`, if known) out of the endpoints under `key`."""
    here = lists.get(key, [])
    at = ats.get(key, [])
    i = bisect.bisect_left(at, pos) if pos is not None else len(here)
    if not (i < len(here) and here[i] is ep):
        i = next((j for j, e in enumerate(here) if e is ep), len(here))
    if i < len(here):
        del here[i]
        del at[i]
    if not here:
        lists.pop(key, None)
        ats.pop(key, None)
