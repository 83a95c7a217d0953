"""etcd roles for an overlay's prefix: who may read and write which keys (docs/fleet.md,
"Securing the store").

| role | may read | may write |
|---|---|---|
| `nve-admin-PREFIX` | every key under PREFIX | every key under PREFIX (`nve import`, `PREFIX/epoch`) |
| `nve-orchestrator-PREFIX` | every key under PREFIX | `PREFIX/gen/` (`nve endpoint add/move/remove` write an endpoint, its index and counter keys in the current generation) |
| `nve-replica-PREFIX` | every key under PREFIX | `PREFIX/replicas/`, `PREFIX/owners/` (membership and ownership, bound to the replica's lease), `PREFIX/learned/` (MACs its switches learned, bound to its lease) |

A replica cannot change the overlay, nor an orchestrator the ownership or the current
generation's name; what only an import may do stays with the admin. etcd's prefix grants
cover key ranges, not key shapes, so an orchestrator could write any key of a generation
(etcd has no finer grant); the checks of `nve.store.endpoints` are what keep its writes
valid. `etcdctl_commands` spells the roles as the etcdctl commands an etcd root runs once;
users are then bound to roles, and with `--client-cert-auth` a client certificate's
common name is its user.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "orchestrator", "replica")


@dataclass(frozen=True)
class Grant:
    permission: str  # read / readwrite
    prefix: str  # every key starting with it


def role_name(role: str, prefix: str) -> str:
    """`nve-ROLE` for the default prefix, else `nve-ROLE` and the prefix's parts."""
    tail = "-".join(p for p in prefix.split("/") if p)
    return f"nve-{role}" if tail == "nve" else f"nve-{role}-{tail}"


def grants(role: str, prefix: str) -> list[Grant]:
    base = f"{prefix}/"
    if role == "admin":
        return [Grant("readwrite", base)]
    if role == "orchestrator":
        return [Grant("read", base), Grant("readwrite", f"{prefix}/gen/")]
    if role == "replica":
        return [
            Grant("read", base),
            Grant("readwrite", f"{prefix}/replicas/"),
            Grant("readwrite", f"{prefix}/owners/"),
            Grant("readwrite", f"{prefix}/learned/"),
        ]
    raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")


def etcdctl_commands(prefix: str) -> list[list[str]]:
    """`etcdctl` argument lists (without connection flags) that create the three roles."""
    out: list[list[str]] = []
    for role in ROLES:
        name = role_name(role, prefix)
        out.append(["role", "add", name])
        out.extend(
            ["role", "grant-permission", name, "--prefix=true", g.permission, g.prefix]
            for g in grants(role, prefix)
        )
    return out
