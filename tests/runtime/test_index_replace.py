"""OverlayIndex.replace_endpoints: the index updated in place for endpoint changes equals
the index built from the changed description (what the store follower relies on), and a
switch compiled with it (what a controller does) equals one compiled with a rebuilt one."""

from __future__ import annotations

import random

import pytest

from nve.compile import compile_switch
from nve.index import OverlayIndex
from nve.model import Endpoint, LocalAttachment, Overlay, RemoteAttachment
from tests.runtime.test_compile import overlay_of
from tests.runtime.test_compile_delta import fleet_data

PLACES = (
    LocalAttachment(switch="tor1", port=1, vlan=100),
    LocalAttachment(switch="tor2", port=1),
    LocalAttachment(switch="tor2", port=2),
    RemoteAttachment(remote_nve="hv8"),
)


def added_endpoint(template: Endpoint, n: int, **update: object) -> Endpoint:
    """A new endpoint `n{n}` like `template`, with a MAC of its own and no addresses."""
    return template.model_copy(
        update={
            "name": f"n{n}",
            "mac": template.mac.__class__(0x0200_0000_0000 + n),
            "ipv4": None,
            "ipv6": None,
            **update,
        }
    )


def _same(a: OverlayIndex, b: OverlayIndex) -> None:
    assert a.endpoints == b.endpoints
    assert a.by_ca == b.by_ca
    assert a.by_port == b.by_port  # lists in description order
    assert a.by_vsid == b.by_vsid
    assert a.port_at == b.port_at and a.vsid_at == b.vsid_at  # as ordered by the keys
    assert a.macs == b.macs


@pytest.mark.parametrize("seed", [1, 2])
def test_in_place_updates_equal_a_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    overlay: Overlay = overlay_of(fleet_data(30))
    index = OverlayIndex.build(overlay)
    added = 0
    for step in range(200):
        eps = list(overlay.endpoints)
        picked = rng.sample(range(len(eps)), rng.choice([1, 2, 3]))
        old = [eps[i] for i in picked]
        new: list[tuple[int, Endpoint]] = []
        for i in picked:
            eps[i] = eps[i].model_copy(update={"attachment": rng.choice(PLACES)})
            new.append((i, eps[i]))
        if rng.random() < 0.2:  # an endpoint added at the end
            ep = added_endpoint(eps[0], added)
            added += 1
            new.append((len(eps), ep))
            eps.append(ep)
        overlay = overlay.model_copy(update={"endpoints": eps})
        index.replace_endpoints(old, new)
        _same(index, OverlayIndex.build(overlay))
        if step % 50 == 49:
            for sw in ("tor1", "tor2"):
                kept = compile_switch(overlay, sw, index=index)
                assert kept.entities == compile_switch(overlay, sw).entities
                assert kept.problems == compile_switch(overlay, sw).problems
