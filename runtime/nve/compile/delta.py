"""What endpoint changes do to one switch's compiled state, without compiling it whole.

A full compilation (`compile_switch`) walks every endpoint of the subnets the switch
installs: 0.3 s at 10,000, 1.5 s at 100,000. An endpoint of a subnet the switch does not
install changes nothing here (unless it is attached here: its subnet comes with it).
An endpoint added, moved or removed changes only that endpoint's own entries
(bridging, learning, ARP proxy, host routes) as long as nothing structural moves with it:
the subnets, bindings, tunnels, peers and flood lists of the switch stay as they are.
`endpoint_delta` computes the entries of the endpoints' old and new versions with the
same code as the full compilation (`EmitPhases.endpoint_entries`, `_route`) and returns
the switch's state patched, or raises `NeedsFullCompile` naming what moved. It does so
when an endpoint:

* gives a (VSID, host) pair its first endpoint or takes its last one (a remote NVE or
  switch starts or stops serving a VSID here: tunnels, peers, flood lists change);
* is attached here to a (port, VLAN) not bound to its VSID, or leaves the last endpoint
  of a binding that no port binding keeps;
* has the (VSID, MAC) of a learned MAC (learned entries yield to configured ones);
* is named by a route or is a tenant's VPN gateway;
* would give an entry a key another entry holds, or removes an entry the state does not
  hold as computed (the state is not what this module assumes).

The caller falls back to the full compilation on `NeedsFullCompile`. Tests compare every
patched state with a full compilation of the same description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from nve.compile.common import (
    EndpointFacts,
    LearnedEndpoint,
    SwitchState,
    _Host,
    _tunnel_for_endpoint,
)
from nve.compile.emit import EmitPhases
from nve.entities import Entity, EntityKey
from nve.model import Endpoint, LocalAttachment


class NeedsFullCompile(Exception):
    """The change is structural for this switch: compile it whole."""


@dataclass
class Delta:
    """A switch's state after endpoint changes, and the entries that differ."""

    state: SwitchState
    removed: list[Entity]  # entries of the old versions (as the state held them)
    added: list[Entity]  # entries of the new versions


def endpoint_delta(
    compiler: EmitPhases,
    state: SwitchState,
    old: Sequence[Endpoint],
    new: Sequence[Endpoint],
    learned: Sequence[LearnedEndpoint],
) -> Delta:
    """`state` with the entries of the `old` endpoint versions replaced by those of `new`
    (the same endpoints before and after a change; an added endpoint has no old version,
    a removed one no new version)."""
    facts = state.facts
    if facts is None:
        raise NeedsFullCompile("no endpoint facts (a state not from compile_switch)")
    sw = compiler.sw.name
    overlay = compiler.o
    named_by_routes = {r.endpoint for r in overlay.routes}
    vpn = {(t.name, t.vpn_gateway) for t in overlay.tenants if t.vpn_gateway is not None}
    learned_macs = {(le.vsid, le.mac) for le in learned}
    port_bound = {(p.port, b.vlan) for p in compiler.sw.ports for b in p.bindings}
    hosts = dict(facts.hosts)
    attached = dict(facts.attached)

    def placed(ep: Endpoint) -> _Host | None:
        if ep.vsid not in state.vsi:
            # A subnet this switch does not install: nothing here, unless attached here.
            att = ep.attachment
            if isinstance(att, LocalAttachment) and att.switch == sw:
                raise NeedsFullCompile(f"VSID {ep.vsid:#08x} is not installed here yet")
            return None
        host = compiler.host_of(ep)
        if host is None:
            return None
        if ep.name in named_by_routes:
            raise NeedsFullCompile(f"endpoint {ep.name} is named by a route")
        tenant = compiler.idx.subnets[ep.vsid][2].name
        if (tenant, ep.ipv4) in vpn or (tenant, ep.ipv6) in vpn:
            raise NeedsFullCompile(f"endpoint {ep.name} is a VPN gateway")
        if (ep.vsid, ep.mac) in learned_macs:
            raise NeedsFullCompile(f"endpoint {ep.name} has a learned MAC")
        return host

    removed: list[Entity] = []
    added: list[Entity] = []
    for ep in old:
        host = placed(ep)
        if host is None:
            continue
        key = (ep.vsid, host)
        hosts[key] = hosts.get(key, 0) - 1
        if hosts[key] <= 0:
            raise NeedsFullCompile(f"VSID {ep.vsid:#08x} loses its last endpoint at {host.name}")
        att = ep.attachment
        if isinstance(att, LocalAttachment) and att.switch == sw:
            where = (att.port, att.vlan)
            attached[where] = attached.get(where, 0) - 1
            if attached[where] <= 0 and where not in port_bound:
                raise NeedsFullCompile(f"port {att.port} VLAN {att.vlan} loses its last endpoint")
        removed += _entries(compiler, state, ep, host)
    for ep in new:
        host = placed(ep)
        if host is None:
            continue
        key = (ep.vsid, host)
        if hosts.get(key, 0) <= 0:
            raise NeedsFullCompile(f"VSID {ep.vsid:#08x} gets its first endpoint at {host.name}")
        hosts[key] += 1
        att = ep.attachment
        if isinstance(att, LocalAttachment) and att.switch == sw:
            where = (att.port, att.vlan)
            if facts.bindings.get(where) != ep.vsid:
                raise NeedsFullCompile(f"port {att.port} VLAN {att.vlan} is not bound here")
            attached[where] = attached.get(where, 0) + 1
        added += _entries(compiler, state, ep, host)
    entities, positions = replace_entries(state.entities, state.positions, removed, added)
    patched = replace(
        state,
        entities=entities,
        facts=EndpointFacts(hosts, attached, facts.bindings),
        positions=positions,
    )
    # The entity list and positions were handed over to the patched state, which
    # replaces this one: it holds the new entries now, without their positions.
    state.positions = None
    return Delta(patched, removed, added)


def _entries(compiler: EmitPhases, state: SwitchState, ep: Endpoint, host: _Host) -> list[Entity]:
    """The entries the full compilation gives endpoint `ep` (at `host`) on this switch."""
    vi = state.vsi.get(ep.vsid)
    if vi is None:
        return []
    tid: int | None = None
    if host.name != compiler.sw.name:
        k = _tunnel_for_endpoint(ep, host, compiler.local_pa)
        tid = state.tunnels.get(k) if k is not None else None
        if tid is None:
            return []  # as the full compilation: no tunnel to its host, no entries
    out: list[Entity] = list(compiler.endpoint_entries(ep, host, vi, tid))
    return out + compiler.endpoint_routes(ep, state.vsi)


def key_positions(entities: Sequence[Entity]) -> dict[EntityKey, int]:
    """Each entity's key -> its index in `entities`."""
    return {e.key: i for i, e in enumerate(entities)}


def replace_entries(
    entities: list[Entity],
    positions: dict[EntityKey, int] | None,
    removed: Sequence[Entity],
    added: Sequence[Entity],
) -> tuple[list[Entity], dict[EntityKey, int]]:
    """`entities` without `removed` and with `added` (order aside), and the key positions
    in it: the list, and `positions` (the key -> index map of `entities`, built when
    None), changed in place and returned, so they pass to the caller's new state. Copying
    them made a move cost the size of the switch (100,000 entries: a millisecond per
    copy, twice per switch). NeedsFullCompile, with nothing changed, when `entities`
    does not hold a removed entity as given or already holds an added key."""
    at = positions if positions is not None else key_positions(entities)
    gone = {e.key for e in removed}
    new_keys: dict[EntityKey, Entity] = {}
    for e in added:
        if e.key in new_keys:
            raise NeedsFullCompile(f"two changed endpoints need {e.describe()}")
        new_keys[e.key] = e
    for e in removed:
        i = at.get(e.key)
        if i is None or entities[i] != e:
            raise NeedsFullCompile(f"the state does not hold {e.describe()} as computed")
    for k, e in new_keys.items():
        if k in at and k not in gone:
            raise NeedsFullCompile(f"{e.describe()}: another entry has its key")
    # Checked: from here on nothing fails.
    out = entities
    for k, e in new_keys.items():
        if k in gone:
            out[at[k]] = e
        else:
            at[k] = len(out)
            out.append(e)
    for k in gone - new_keys.keys():
        i = at.pop(k)
        last = out.pop()
        if i < len(out):
            out[i] = last
            at[last.key] = i
    return out, at


__all__ = ["Delta", "NeedsFullCompile", "endpoint_delta", "key_positions", "replace_entries"]
