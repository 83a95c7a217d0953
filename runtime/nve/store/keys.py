"""The key layout of an overlay in etcd: one key per object, index and counter keys.

Every key of one stored overlay starts with the store prefix (`/nve` by default). The
overlay itself lives in a generation, `PREFIX/gen/GEN/`; `PREFIX/current` names the
generation in force. docs/fleet.md lists the layout and why it is so.

Key parts that are not names (MACs, addresses, prefixes) are percent-quoted, so a `/`
inside a prefix never splits a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

UNTAGGED = "untagged"


def part(value: object) -> str:
    """One key component: text with '/' and '%' quoted."""
    return quote(str(value), safe=":.-_")


def unpart(text: str) -> str:
    return unquote(text)


def vsid_part(vsid: int) -> str:
    return f"{vsid:06X}"


@dataclass(frozen=True)
class Root:
    """Keys outside any generation."""

    prefix: str

    @property
    def current(self) -> bytes:
        return f"{self.prefix}/current".encode()

    @property
    def learned_prefix(self) -> bytes:
        """Learned MACs (nve.store.learned): one key per (VSID, MAC), outside generations."""
        return f"{self.prefix}/learned/".encode()

    def learned(self, vsid: int, mac: object) -> bytes:
        return f"{self.prefix}/learned/{vsid_part(vsid)}/{part(mac)}".encode()

    def gen_prefix(self, gen: str) -> bytes:
        return f"{self.prefix}/gen/{gen}/".encode()

    def generation(self, gen: str) -> Gen:
        return Gen(f"{self.prefix}/gen/{gen}")


@dataclass(frozen=True)
class Gen:
    """Keys of one generation of the overlay."""

    base: str

    def _k(self, *parts: str) -> bytes:
        return "/".join((self.base, *parts)).encode()

    @property
    def prefix(self) -> bytes:
        return self._k("")

    @property
    def meta(self) -> bytes:
        return self._k("meta")

    def kind_prefix(self, kind: str) -> bytes:
        return self._k(kind, "")

    def switch(self, name: str) -> bytes:
        return self._k("switches", name)

    def tenant(self, name: str) -> bytes:
        return self._k("tenants", name)

    def subnet(self, vsid: int) -> bytes:
        return self._k("subnets", vsid_part(vsid))

    def remote_nve(self, name: str) -> bytes:
        return self._k("remote_nves", name)

    def endpoint(self, name: str) -> bytes:
        return self._k("endpoints", name)

    def route(self, tenant: str, prefix: object) -> bytes:
        return self._k("routes", tenant, part(prefix))

    def limits(self, switch: str) -> bytes:
        return self._k("limits", switch)

    def local_count(self, switch: str) -> bytes:
        return self._k("count", "local", switch)

    # Switches whose network ports cannot carry IPv6 customers in NVGRE (RFC 7637 §4.4),
    # and the counters that keep IPv6 customers off them: endpoints with an IPv6 CA per
    # tenant, local endpoints per (tenant, switch).
    @property
    def mtu_short_prefix(self) -> bytes:
        return self._k("mtu_short", "")

    def mtu_short(self, switch: str) -> bytes:
        return self._k("mtu_short", switch)

    def tenant_ipv6(self, tenant: str) -> bytes:
        return self._k("count", "tenant_ipv6", tenant)

    def tenant_on(self, tenant: str, switch: str) -> bytes:
        return self._k("count", "tenant_on", tenant, switch)

    # Index keys: each names the endpoint that holds a value unique in its scope.
    def mac(self, vsid: int, mac: object) -> bytes:
        return self._k("idx", "mac", vsid_part(vsid), part(mac))

    def ca(self, vsid: int, ca: object) -> bytes:
        return self._k("idx", "ca", vsid_part(vsid), part(ca))

    def tenant_ca(self, tenant: str, ca: object) -> bytes:
        return self._k("idx", "tenant_ca", tenant, part(ca))

    def host_route(self, tenant: str, address: object) -> bytes:
        return self._k("idx", "host_route", tenant, part(address))

    # Counted index keys: a (switch, port, tag) carries one VSID, a VSID one tag per port.
    def port_vlan(self, switch: str, port: int, vlan: int | None) -> bytes:
        return self._k(
            "idx", "port_vlan", switch, str(port), UNTAGGED if vlan is None else str(vlan)
        )

    def port_vsid(self, switch: str, port: int, vsid: int) -> bytes:
        return self._k("idx", "port_vsid", switch, str(port), vsid_part(vsid))

    # The remote NVEs that carry a VSID (remote NVEs change only with an import).
    def carriers_prefix(self, vsid: int) -> bytes:
        return self._k("idx", "carrier", vsid_part(vsid), "")

    def carrier(self, vsid: int, remote_nve: str) -> bytes:
        return self._k("idx", "carrier", vsid_part(vsid), remote_nve)

    # What refers to an endpoint by name (routes, a tenant's VPN gateway).
    def refs_prefix(self, endpoint: str) -> bytes:
        return self._k("idx", "ref", endpoint, "")

    def ref_route(self, endpoint: str, tenant: str, prefix: object) -> bytes:
        return self._k("idx", "ref", endpoint, "route", tenant, part(prefix))

    def ref_vpn_gateway(self, endpoint: str, tenant: str) -> bytes:
        return self._k("idx", "ref", endpoint, "vpn_gateway", tenant)
