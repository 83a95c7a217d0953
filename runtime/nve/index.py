"""`OverlayIndex`: lookups over one overlay description, built once per description.

Validation and compilation find objects by name and VSID; the event handlers find the
subnet of a VSID, the endpoint of a customer address and the endpoints behind a port
for every packet-in. A description is immutable once loaded, so the index is built
when it is loaded (or reloaded) and shared. Where a name or key is duplicated (which
validation reports), the first occurrence wins everywhere.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from nve.model import Endpoint, LocalAttachment, Overlay, Subnet, Switch, Tenant
from nve.problems import ConfigPath

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class OverlayIndex:
    """Name -> (position, object) lookups, plus the event handlers' per-packet lookups."""

    switches: dict[str, tuple[int, Switch]] = field(default_factory=dict)
    tenants: dict[str, tuple[int, Tenant]] = field(default_factory=dict)
    subnets: dict[int, tuple[ConfigPath, Subnet, Tenant]] = field(default_factory=dict)
    endpoints: dict[str, tuple[int, Endpoint]] = field(default_factory=dict)
    remote_nves: dict[str, int] = field(default_factory=dict)
    # (VSID, customer address) -> endpoint
    by_ca: dict[tuple[int, IP], Endpoint] = field(default_factory=dict)
    # (switch, port) -> endpoints attached there, in description order
    by_port: dict[tuple[str, int], list[Endpoint]] = field(default_factory=dict)
    # (VSID, MAC) of every configured endpoint
    macs: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def build(cls, overlay: Overlay) -> OverlayIndex:
        idx = cls()
        for i, sw in enumerate(overlay.switches):
            idx.switches.setdefault(sw.name, (i, sw))
        for t, tenant in enumerate(overlay.tenants):
            idx.tenants.setdefault(tenant.name, (t, tenant))
            for s, subnet in enumerate(tenant.subnets):
                idx.subnets.setdefault(subnet.vsid, (("tenants", t, "subnets", s), subnet, tenant))
        for e, ep in enumerate(overlay.endpoints):
            idx.endpoints.setdefault(ep.name, (e, ep))
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None:
                    idx.by_ca.setdefault((ep.vsid, ca), ep)
            if isinstance(ep.attachment, LocalAttachment):
                key = (ep.attachment.switch, ep.attachment.port)
                idx.by_port.setdefault(key, []).append(ep)
            idx.macs.add((ep.vsid, ep.mac))
        for r, nve in enumerate(overlay.remote_nves):
            idx.remote_nves.setdefault(nve.name, r)
        return idx

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
