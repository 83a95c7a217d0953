"""nve.compile.delta: a switch's state patched for endpoint changes equals a full
compilation of the changed description, or the patch refuses (NeedsFullCompile)."""

from __future__ import annotations

import copy
import random

import pytest

from nve.compile import (
    Allocations,
    LearnedEndpoint,
    NeedsFullCompile,
    SwitchState,
    compile_switch,
    patch_endpoints,
)
from nve.index import OverlayIndex
from nve.mac import Mac
from nve.model import Overlay
from nve.p4names import Action, Table
from tests.runtime.test_compile import example_data, overlay_of

SWITCHES = ("tor1", "tor2")
PLACES = (
    {"switch": "tor1", "port": 1, "vlan": 100},
    {"switch": "tor2", "port": 1},
    {"remote_nve": "hv8"},
)


def fleet_data(count: int = 40) -> dict:
    """The example plus `count` dual-stack endpoints in blue-web (routed), spread over
    tor1, tor2 and a remote NVE."""
    data = example_data()
    data["remote_nves"].append({"name": "hv8", "pa": "10.0.8.8", "vsids": [0x001001]})
    for i in range(count):
        data["endpoints"].append(_endpoint(i, PLACES[i % len(PLACES)]))
    return data


def _endpoint(i: int, place: dict) -> dict:
    host = 100 + i if i < 1000 else 20 + (i - 1000) % 80  # added ones: .20 to .99
    return {
        "name": f"e{i}",
        "vsid": 0x001001,
        "mac": f"52:54:00:e0:{i >> 8:02x}:{i & 255:02x}",
        "ipv4": f"192.168.10.{host}",
        "ipv6": f"fd00:b1::{100 + i:x}",
        "attachment": dict(place),
    }


def _by_name(data: dict) -> dict[str, dict]:
    return {e["name"]: e for e in data["endpoints"]}


def _full(overlay: Overlay, sw: str, before: SwitchState | None, learned=()) -> SwitchState:
    previous = Allocations.from_installed(before.entities) if before else Allocations()
    return compile_switch(overlay, sw, learned, previous)


def _patch(before: Overlay, after: Overlay, sw: str, state: SwitchState, names, learned=()):
    old_idx, new_idx = OverlayIndex.build(before), OverlayIndex.build(after)
    old = [old_idx.endpoints[n][1] for n in names if n in old_idx.endpoints]
    new = [new_idx.endpoints[n][1] for n in names if n in new_idx.endpoints]
    return patch_endpoints(after, new_idx, sw, state, old, new, learned)


def _same(patched: SwitchState, full: SwitchState) -> None:
    assert set(patched.entities) == set(full.entities)
    assert len(patched.entities) == len(full.entities)  # no duplicates
    assert (patched.vsi, patched.tunnels) == (full.vsi, full.tunnels)
    assert patched.positions is not None
    assert all(patched.entities[i].key == k for k, i in patched.positions.items())
    assert len(patched.positions) == len(patched.entities)


def _step(rng: random.Random, data: dict, next_id: list[int]) -> tuple[dict, set[str]]:
    """One random change of the e* endpoints: a move, an add, a removal, a new address,
    or two moves at once."""
    data = copy.deepcopy(data)
    eps = [e for e in data["endpoints"] if e["name"].startswith("e")]
    op = rng.choice(["move", "move", "move", "add", "remove", "readdress", "two"])
    if op in ("move", "two"):
        picked = rng.sample(eps, 2 if op == "two" else 1)
        for e in picked:
            e["attachment"] = dict(rng.choice([p for p in PLACES if p != e["attachment"]]))
        return data, {e["name"] for e in picked}
    if op == "add":
        i = next_id[0]
        next_id[0] += 1
        data["endpoints"].append(_endpoint(i, rng.choice(PLACES)))
        return data, {f"e{i}"}
    if op == "remove":
        gone = rng.choice(eps)
        data["endpoints"].remove(gone)
        return data, {gone["name"]}
    e = rng.choice(eps)
    e["ipv4"] = f"192.168.10.{200 + next_id[0] % 50}"
    next_id[0] += 1
    if any(o["ipv4"] == e["ipv4"] and o is not e for o in data["endpoints"]):
        e["ipv4"] = None
    return data, {e["name"]}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_patch_equals_a_full_compilation(seed: int) -> None:
    rng = random.Random(seed)
    data = fleet_data()
    overlay = overlay_of(data)
    states = {sw: _full(overlay, sw, None) for sw in SWITCHES}
    next_id = [1000]
    patched = refused = 0
    for _ in range(80):
        data2, names = _step(rng, data, next_id)
        overlay2 = overlay_of(data2)
        for sw in SWITCHES:
            full = _full(overlay2, sw, states[sw])
            held = list(states[sw].entities)
            try:
                delta = _patch(overlay, overlay2, sw, states[sw], names)
            except NeedsFullCompile:
                assert states[sw].entities == held  # refused: nothing changed
                refused += 1
                states[sw] = full
                continue
            _same(delta.state, full)
            # The patched state took the old one's list over (a copy costs the switch's size)
            assert delta.state.entities is states[sw].entities
            assert {e.key for e in delta.removed} | {e.key for e in delta.added}
            patched += 1
            states[sw] = delta.state
        data, overlay = data2, overlay2
    # moves among 13+ endpoints per place rarely empty a place: most changes patch
    assert patched >= 120 and patched > 4 * refused, (patched, refused)


def test_a_move_changes_the_moved_endpoints_entries_only() -> None:
    data = fleet_data()
    overlay = overlay_of(data)
    state = _full(overlay, "tor1", None)
    moved = copy.deepcopy(data)
    _by_name(moved)["e0"]["attachment"] = {"switch": "tor2", "port": 1}  # tor1 -> tor2
    delta = _patch(overlay, overlay_of(moved), "tor1", state, {"e0"})
    # l2.dmac to_port -> to_tunnel (same key), learn.smac gone, ARP and routes the same
    tables = sorted(e.table for e in delta.removed)
    assert tables == sorted(
        [Table.L2_DMAC, Table.LEARN_SMAC, Table.ARP_PROXY]
        + [Table.ROUTING_ROUTES_V4, Table.ROUTING_ROUTES_V6]
    )
    changed = set(delta.added) - set(delta.removed)
    assert [e.action for e in changed] == [Action.L2_TO_TUNNEL]


def test_structural_changes_are_refused() -> None:
    data = fleet_data(3)  # e0 tor1, e1 tor2, e2 hv8: one endpoint per place
    overlay = overlay_of(data)
    state = _full(overlay, "tor1", None)

    def refused(edit, names, learned=()) -> str:
        d = copy.deepcopy(data)
        edit(d)
        with pytest.raises(NeedsFullCompile) as exc:
            _patch(overlay, overlay_of(d), "tor1", state, names, learned)
        return str(exc.value)

    def move_e2(d):
        _by_name(d)["e2"]["attachment"] = {"switch": "tor2", "port": 1}

    assert "loses its last endpoint at hv8" in refused(move_e2, {"e2"})

    def to_port2(d):
        _by_name(d)["e1"]["attachment"] = {"switch": "tor1", "port": 2, "vlan": 7}

    assert "not bound here" in refused(to_port2, {"e1"})

    def move_vpn(d):
        _by_name(d)["blue-vpn"]["attachment"] = {"switch": "tor2", "port": 2}

    assert "named by a route" in refused(move_vpn, {"blue-vpn"})
    learned = [LearnedEndpoint("tor2", 0x001001, Mac(0x525400E00001), 1)]

    def move_e1(d):
        _by_name(d)["e1"]["attachment"] = {"switch": "tor1", "port": 1, "vlan": 100}

    assert "learned MAC" in refused(move_e1, {"e1"}, learned)


def test_an_endpoint_of_a_subnet_not_installed_here_changes_nothing_here() -> None:
    """A subnet of a tenant the switch does not serve: its endpoints' changes patch the
    switch as nothing (no full compilation), unless one is attached here, which brings
    the subnet with it."""
    data = fleet_data(3)
    data["tenants"].append(
        {"name": "green", "vrf": 30, "subnets": [{"name": "g", "vsid": 0x003001}]}
    )
    data["remote_nves"].append({"name": "hv7", "pa": "10.0.7.7", "vsids": [0x003001]})
    green = {
        "name": "g1",
        "vsid": 0x003001,
        "mac": "52:54:00:30:00:01",
        "attachment": {"remote_nve": "hv7"},
    }
    data["endpoints"].append(green)
    overlay = overlay_of(data)
    state = _full(overlay, "tor1", None)
    assert 0x003001 not in state.vsi
    moved = copy.deepcopy(data)
    _by_name(moved)["g1"]["attachment"] = {"remote_nve": "hv8"}
    delta = _patch(overlay, overlay_of(moved), "tor1", state, {"g1"})
    assert delta.removed == [] and delta.added == []
    _same(delta.state, _full(overlay_of(moved), "tor1", state))
    here = copy.deepcopy(data)
    _by_name(here)["g1"]["attachment"] = {"switch": "tor1", "port": 2, "vlan": 30}
    with pytest.raises(NeedsFullCompile, match="not installed here yet"):
        _patch(overlay, overlay_of(here), "tor1", state, {"g1"})
    assert 0x003001 in _full(overlay_of(here), "tor1", state).vsi
