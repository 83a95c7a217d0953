"""What a batch of store changes does to the overlay a controller holds, without reading
the store again (docs/fleet.md, "Incremental updates").

Endpoint keys of the current generation are applied one by one: a PUT replaces the
endpoint of that name in place (a move keeps its place) or appends it (an endpoint added
after the import sorts after the imported ones by creation, as the full read orders
them), a DELETE removes it. Index, counter and MTU keys are derived from the endpoints
and skipped; keys outside the current generation (a new import being staged, ownership,
the epoch) are not the overlay. Anything else (`PREFIX/current` naming a new generation,
a switch, tenant, subnet, remote NVE, route or meta key) asks for a full read.

The changes were checked by the transaction that wrote them (nve.store.endpoints), so
they are not validated again here. The switches a change touches are those attached to
the endpoint before or after it, and those whose compiled state carries a VSID of the
endpoint's tenant (a bridged or routed path to it may be on any of them), unless the
change only moved it to another port or VLAN of the same switch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pydantic

from nve.index import OverlayIndex
from nve.model import Endpoint, LocalAttachment, Overlay
from nve.store.etcd import WatchedChange
from nve.store.keys import Root
from nve.store.records import key_name, loads

DERIVED = ("idx", "count", "mtu_short")


class NeedFullRead(Exception):
    """The batch holds a change this module does not apply: read the overlay whole."""


@dataclass
class EndpointBatch:
    """The overlay after a batch, and the endpoints it changed (old and new versions)."""

    overlay: Overlay
    changed: list[Endpoint] = field(default_factory=list)
    revision: int = 0
    old: list[Endpoint] = field(default_factory=list)  # changed names' versions before
    new: list[tuple[int, Endpoint]] = field(default_factory=list)  # and after, with order key
    removed: int = 0  # endpoints taken out of the list

    def switches(
        self, carried: Mapping[str, Iterable[int]], owned: Iterable[str] | None = None
    ) -> set[str]:
        """The switches whose desired state may change: `carried` maps a switch to the
        VSIDs its compiled state holds; `owned` (None: every switch) limits the answer."""
        tenants = {s.vsid: t for t in self.overlay.tenants for s in t.subnets}
        vsids: set[int] = set()
        out: set[str] = set()
        in_place = self._in_place()
        for ep in self.changed:
            if isinstance(ep.attachment, LocalAttachment):
                out.add(ep.attachment.switch)
            if ep.name in in_place:
                continue  # only its own switch sees a change
            tenant = tenants.get(ep.vsid)
            vsids |= {s.vsid for s in tenant.subnets} if tenant is not None else {ep.vsid}
        if vsids:
            out |= {name for name, held in carried.items() if vsids & set(held)}
        return out if owned is None else out & set(owned)

    def _in_place(self) -> set[str]:
        """Endpoints the batch moved to another port or VLAN of the same switch and
        changed nothing else of: what other switches install for an endpoint (its
        tunnel, ARP/ND answers, routes) depends on its switch, never on its port, so
        those switches are not touched (an orchestrator's most common move, which
        otherwise patches every switch that carries the tenant, to no effect)."""
        before = {ep.name: ep for ep in self.old}
        out: set[str] = set()
        for _, now in self.new:
            was = before.get(now.name)
            if (
                was is not None
                and isinstance(was.attachment, LocalAttachment)
                and isinstance(now.attachment, LocalAttachment)
                and was.attachment.switch == now.attachment.switch
                and was.model_copy(update={"attachment": now.attachment}) == now
            ):
                out.add(now.name)
        return out


def apply_changes(
    overlay: Overlay,
    prefix: str,
    generation: str,
    changes: Iterable[WatchedChange],
    index: OverlayIndex | None = None,
) -> EndpointBatch:
    """The overlay with the batch's endpoint changes; NeedFullRead for anything else.
    `index`: `overlay`'s (built here when None).

    `overlay`'s endpoint list and the index's `order` are changed in place, and the list
    is shared by the result's overlay (a new object): the caller replaces `overlay` by it
    and updates the index's lookups with `replace_endpoints(batch.old, batch.new)`.
    Copying the list, or rebuilding the index after a removal, made every batch cost the
    size of the description (at a million endpoints: tens of milliseconds per move and
    seconds per removal, on each replica). Nothing is changed when NeedFullRead is
    raised: every change is read before the first is applied."""
    root = Root(prefix)
    gen = root.generation(generation)
    endpoints_at = gen.kind_prefix("endpoints")
    batch = EndpointBatch(overlay)
    decoded: list[tuple[str, Endpoint | None]] = []  # name, version after (None: deleted)
    for ch in changes:
        batch.revision = max(batch.revision, ch.mod_revision)
        if ch.key == root.current:
            raise NeedFullRead(f"{prefix}/current changed: a new generation")
        if not ch.key.startswith(gen.prefix):
            continue  # another generation being staged, ownership, the epoch
        rest = ch.key[len(gen.prefix) :].decode(errors="replace")
        kind = rest.split("/", 1)[0]
        if kind in DERIVED:
            continue
        if not ch.key.startswith(endpoints_at):
            raise NeedFullRead(f"{kind} changed")
        name = key_name(gen, ch.key)
        if ch.deleted:
            decoded.append((name, None))
            continue
        try:
            ep = Endpoint.model_validate(loads(ch.value)["object"], strict=True)
        except (pydantic.ValidationError, KeyError, TypeError, ValueError) as exc:
            raise NeedFullRead(f"endpoint {name}: unreadable record ({exc})") from None
        decoded.append((name, ep))
    if not decoded:
        return batch
    # Checked: from here on nothing fails.
    idx = index if index is not None else OverlayIndex.build(overlay)
    eps, order = overlay.endpoints, idx.order
    moved: dict[str, int | None] = {}  # positions this batch changed (None: removed)
    gone: set[int] = set()  # positions removed

    def where(name: str) -> int | None:
        return moved[name] if name in moved else idx.position(name)

    first: dict[str, Endpoint | None] = {}  # each changed name's version before the batch
    for name, now in decoded:
        old = where(name)
        before = eps[old] if old is not None else None
        first.setdefault(name, before)
        if before is not None:
            batch.changed.append(before)
        if now is None:
            if old is not None:
                gone.add(old)
                moved[name] = None
            continue
        batch.changed.append(now)
        if old is None:
            moved[name] = len(eps)
            order.append(idx.next_key())
            eps.append(now)
        else:
            eps[old] = now
    for name in first:
        at = where(name)
        if at is not None:
            batch.new.append((order[at], eps[at]))
    batch.old = [ep for ep in first.values() if ep is not None]
    _remove(eps, order, gone)
    batch.removed = len(gone)
    batch.overlay = overlay.model_copy(update={"endpoints": eps})
    return batch


def _remove(eps: list[Endpoint], order: list[int], gone: set[int]) -> None:
    """Take the positions `gone` out of both lists: one at a time (a move of the list's
    tail in memory each) when few, in one pass when many."""
    if len(gone) <= 64:
        for i in sorted(gone, reverse=True):
            del eps[i]
            del order[i]
    elif gone:
        eps[:] = [ep for i, ep in enumerate(eps) if i not in gone]
        order[:] = [k for i, k in enumerate(order) if i not in gone]
