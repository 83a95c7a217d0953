"""nve.store.incremental.apply_changes on its own: a batch of watched changes applied to
the overlay a follower holds, in place, and never half-applied."""

from __future__ import annotations

import random

import pytest

from nve.compile import compile_switch
from nve.index import OverlayIndex
from nve.model import Endpoint, LocalAttachment, Overlay
from nve.store.etcd import WatchedChange
from nve.store.incremental import NeedFullRead, apply_changes
from nve.store.keys import Root
from nve.store.records import object_value
from tests.runtime.test_compile import example_data, overlay_of
from tests.runtime.test_compile_delta import fleet_data
from tests.runtime.test_index_replace import PLACES, added_endpoint

PREFIX, GEN = "/t", "g1"
gen = Root(PREFIX).generation(GEN)


def _put(ep: Endpoint, rev: int) -> WatchedChange:
    value = object_value(ep.model_dump(mode="json"), 0)
    return WatchedChange(gen.endpoint(ep.name), value, False, rev)


def _delete(name: str, rev: int) -> WatchedChange:
    return WatchedChange(gen.endpoint(name), b"", True, rev)


def _moved(ep: Endpoint) -> Endpoint:
    att = ep.attachment
    assert isinstance(att, LocalAttachment)
    return ep.model_copy(update={"attachment": att.model_copy(update={"port": att.port + 10})})


def _local(overlay: Overlay) -> list[Endpoint]:
    return [ep for ep in overlay.endpoints if isinstance(ep.attachment, LocalAttachment)]


def test_a_batch_refused_part_way_leaves_the_overlay_as_it_was() -> None:
    overlay = overlay_of(example_data())
    before = list(overlay.endpoints)
    first = _local(overlay)[0]
    batch = [
        _put(_moved(first), 10),
        _delete(overlay.endpoints[-1].name, 11),
        WatchedChange(gen.switch("tor1"), b"{}", False, 12),  # not an endpoint: read whole
    ]
    with pytest.raises(NeedFullRead, match="switches changed"):
        apply_changes(overlay, PREFIX, GEN, batch, OverlayIndex.build(overlay))
    assert overlay.endpoints == before
    assert all(a is b for a, b in zip(overlay.endpoints, before))
    with pytest.raises(NeedFullRead, match="unreadable record"):
        bad = WatchedChange(gen.endpoint(first.name), b'{"object": {"name": 1}}', False, 13)
        apply_changes(overlay, PREFIX, GEN, [_put(_moved(first), 10), bad])
    assert all(a is b for a, b in zip(overlay.endpoints, before))


def test_moves_are_applied_in_place_and_keep_their_positions() -> None:
    overlay = overlay_of(example_data())
    n = len(overlay.endpoints)
    a, b = _local(overlay)[:2]
    pos = {ep.name: i for i, ep in enumerate(overlay.endpoints)}
    result = apply_changes(overlay, PREFIX, GEN, [_put(_moved(a), 5), _put(_moved(b), 6)])
    # The follower's list is changed, not copied (a copy per batch costs the description's
    # size); the result is a new overlay object, so caches keyed on the old one miss.
    assert result.overlay is not overlay
    assert result.overlay.endpoints is overlay.endpoints
    assert len(result.overlay.endpoints) == n and result.removed == 0
    assert result.overlay.endpoints[pos[a.name]] == _moved(a)
    assert result.overlay.endpoints[pos[b.name]] == _moved(b)
    assert [ep.name for ep in result.old] == [a.name, b.name]
    assert result.new == [(pos[a.name], _moved(a)), (pos[b.name], _moved(b))]
    assert result.revision == 6


def _same_as_rebuilt(index: OverlayIndex, overlay: Overlay) -> None:
    """The index a follower updated finds what a fresh build finds, at the same places."""
    fresh = OverlayIndex.build(overlay)
    assert len(index.order) == len(overlay.endpoints)
    assert index.order == sorted(index.order)
    for pos, ep in enumerate(overlay.endpoints):
        assert index.position(ep.name) == pos
        assert index.endpoints[ep.name][1] is ep
    assert index.endpoints.keys() == fresh.endpoints.keys()
    assert index.by_ca == fresh.by_ca
    assert index.by_port == fresh.by_port  # lists in description order
    assert index.macs == fresh.macs


def test_a_removed_then_added_endpoint_goes_last() -> None:
    overlay = overlay_of(example_data())
    index = OverlayIndex.build(overlay)
    names = [ep.name for ep in overlay.endpoints]
    gone = _local(overlay)[0]
    back = _moved(gone)
    result = apply_changes(overlay, PREFIX, GEN, [_delete(gone.name, 7), _put(back, 8)], index)
    index.replace_endpoints(result.old, result.new)
    assert [ep.name for ep in result.overlay.endpoints] == [
        *(n for n in names if n != gone.name),
        gone.name,
    ]
    assert result.overlay.endpoints[-1] == back
    assert result.old == [gone] and result.removed == 1
    _same_as_rebuilt(index, result.overlay)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_follows_moves_additions_and_removals_without_a_rebuild(seed: int) -> None:
    """Removals take their order keys out without renumbering the rest (a rebuild costs
    2.5 us per endpoint: seconds at a million); batches of up to 70 changes cross the
    size at which removals are done in one pass."""
    rng = random.Random(seed)
    overlay = overlay_of(fleet_data(40))
    index = OverlayIndex.build(overlay)
    added = 0
    for step in range(60):
        eps = list(overlay.endpoints)
        batch: list[WatchedChange] = []
        for _ in range(rng.choice([1, 2, 5, 70] if step % 10 == 9 else [1, 2, 5])):
            op = rng.random()
            if op < 0.3 and len(eps) > 20:
                victim = eps.pop(rng.randrange(len(eps)))
                batch.append(_delete(victim.name, step))
            elif op < 0.5:
                ep = added_endpoint(eps[0], added, attachment=rng.choice(PLACES))
                added += 1
                eps.append(ep)
                batch.append(_put(ep, step))
            else:
                k = rng.randrange(len(eps))
                eps[k] = eps[k].model_copy(update={"attachment": rng.choice(PLACES)})
                batch.append(_put(eps[k], step))
        result = apply_changes(overlay, PREFIX, GEN, batch, index)
        index.replace_endpoints(result.old, result.new)
        overlay = result.overlay
        assert [e.name for e in overlay.endpoints] == [e.name for e in eps]
        _same_as_rebuilt(index, overlay)


def test_a_move_between_ports_of_one_switch_touches_that_switch_alone() -> None:
    """What other switches install for an endpoint does not depend on its port: a move
    to another port of its switch touches that switch only (checked by compiling the
    others before and after), while a move to another switch, or a port move that also
    changes an address, touches every switch that carries the tenant."""
    data = fleet_data(8)
    before = overlay_of(data)
    e1 = next(ep for ep in before.endpoints if ep.name == "e1")  # tor2 port 1
    assert e1.attachment == LocalAttachment(switch="tor2", port=1)
    carried = {sw: compile_switch(before, sw).vsi.keys() for sw in ("tor1", "tor2")}
    assert all(0x001001 in vsids for vsids in carried.values())
    tor1_before = set(compile_switch(before, "tor1").entities)

    def touched(new: Endpoint) -> tuple[set[str], Overlay]:
        overlay = overlay_of(data)
        batch = apply_changes(overlay, PREFIX, GEN, [_put(new, 9)])
        return batch.switches(carried), batch.overlay

    port_move = e1.model_copy(update={"attachment": LocalAttachment(switch="tor2", port=2)})
    switches, after = touched(port_move)
    assert switches == {"tor2"}
    assert set(compile_switch(after, "tor1").entities) == tor1_before
    assert touched(port_move.model_copy(update={"ipv4": "192.168.10.250"}))[0] == {"tor1", "tor2"}
    to_tor1 = e1.model_copy(update={"attachment": LocalAttachment(switch="tor1", port=1, vlan=100)})
    assert touched(to_tor1)[0] == {"tor1", "tor2"}
