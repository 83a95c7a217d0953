"""The BGP fabric (lab.fabric) with BFD at 100 ms x 3 on every session: BFD comes up
through the switches (UDP 3784 to the port addresses, punted and relayed), and a spine
whose links are silently black-holed is dropped because BFD said so, well before the
hold timer (9 s) would have.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from functools import partial

import pytest

from lab.fabric import BgpFabric, Tor, addr
from tests.fabric.rig import built_fabric, running_nve
from tests.fabric.test_bgp_fabric import fail_over, recovered, until, uplinks_up
from tests.support.nve_run import NveRun

pytestmark = pytest.mark.root

BOGUS_MAC = "02:de:ad:00:00:01"


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BgpFabric]:
    with built_fabric(tmp_path_factory, "BGP fabric BFD", bfd_ms=100) as fab:
        yield fab


@pytest.fixture(scope="module")
def nve(fabric: BgpFabric) -> Iterator[NveRun]:
    with running_nve(fabric) as run:
        yield run


def bfd_up(fabric: BgpFabric, tor: Tor) -> bool:
    peers = json.loads(fabric.tor_frr(tor).vtysh("show bfd peers json") or "[]")
    up = {p["peer"] for p in peers if p.get("status") == "up"}
    return up == {addr(u.spine_addr) for u in tor.plan.uplinks}


def down_by_bfd(fabric: BgpFabric, tor: Tor, peer: str) -> str:
    """Why the session to `peer` last went down, and its BFD session's diagnostic."""
    frr = fabric.tor_frr(tor)
    neighbor = json.loads(frr.vtysh(f"show bgp neighbor {peer} json") or "{}").get(peer, {})
    bfd = [p for p in json.loads(frr.vtysh("show bfd peers json") or "[]") if p["peer"] == peer]
    return json.dumps(
        {k: v for k, v in neighbor.items() if k.startswith("last")}
        | {"bfd": [(p.get("status"), p.get("diagnostic")) for p in bfd]}
    )


def test_bfd_comes_up_through_the_switches(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    for tor in fabric.tors:
        until(f"{tor.plan.name}: BFD up to both spines", partial(bfd_up, fabric, tor))


def test_a_silent_spine_link_is_found_by_bfd(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    for tor in fabric.tors:
        until(f"{tor.plan.name}: BFD up", partial(bfd_up, fabric, tor))
    sp = fabric.spines[0]
    black = []
    for tor in fabric.tors:
        u = next(u for u in tor.plan.uplinks if u.spine == 0)
        black.append(
            (tor, addr(u.spine_addr), addr(u.tor_addr), sp.interfaces[(tor.plan.name, u.port)])
        )
    for _, _, ip, dev in black:
        subprocess.run(["ip", "-n", sp.namespace, "neigh", "replace", ip, "lladdr", BOGUS_MAC,
                        "dev", dev, "nud", "permanent"], check=True)  # fmt: skip
    try:
        fail_over(fabric, "silent link, BFD")
        for tor, spine_ip, _, _ in black:
            why = down_by_bfd(fabric, tor, spine_ip)
            assert "Cease/BFD Down" in why and "detection time expired" in why, why
    finally:
        for _, _, ip, dev in black:
            subprocess.run(["ip", "-n", sp.namespace, "neigh", "del", ip, "dev", dev], check=False)
    recovered(fabric)
