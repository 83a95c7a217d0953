"""The BGP fabric (lab.fabric) unnumbered: no IPv4 address on any link, every session
over IPv6 link-local addresses that FRR finds in router advertisements (relayed to the
ToRs' hosts since pipeline 3.6.0 punts RS/RA on network ports), IPv4 PAs carried with
IPv6 next hops (RFC 8950). zebra installs each IPv4 route through 169.254.0.1 with a
permanent neighbour entry for the peer's MAC; the kernel watcher turns those into next
hops like any other, so each ToR reaches the other's PA over both spines and NVGRE
crosses.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from functools import partial

import pytest

from lab.fabric import BgpFabric, Tor
from tests.fabric.rig import built_fabric, running_nve
from tests.fabric.test_bgp_fabric import (
    both_spines,
    other,
    pa_paths,
    ping,
    tables,
    tables_follow_kernel,
    until,
)
from tests.support.nve_run import NVE, NveRun

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BgpFabric]:
    with built_fabric(tmp_path_factory, "BGP unnumbered fabric", unnumbered=True) as fab:
        yield fab


@pytest.fixture(scope="module")
def nve(fabric: BgpFabric) -> Iterator[NveRun]:
    with running_nve(fabric) as run:
        yield run


def sessions(fabric: BgpFabric, tor: Tor) -> dict[tuple[str, str], bool]:
    """(peer, family) -> Established, as the ToR's FRR reports them."""
    return {(p.address, p.family): p.established for p in fabric.tor_frr(tor).peers()}


def all_up(fabric: BgpFabric) -> None:
    for tor in fabric.tors:
        want = {(f"port{u.port}", fam): True for u in tor.plan.uplinks for fam in ("ipv4", "ipv6")}
        until(
            f"{tor.plan.name}: unnumbered sessions Established",
            partial(lambda t, w: sessions(fabric, t) == w, tor, want),
            60,
        )


def test_unnumbered_sessions_establish_through_the_switches(fabric: BgpFabric, nve: NveRun) -> None:
    all_up(fabric)
    for sp in fabric.spines:
        assert sum(p.established for p in sp.frr.peers() if p.family == "ipv4") == 2
    # Nothing numbered anywhere: the ToRs' hosts and the spines have no IPv4 on the links.
    for tor in fabric.tors:
        shown = subprocess.run(
            ["ip", "-n", tor.host_ns, "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert all(" lo " in line for line in shown.splitlines()), shown
    out = subprocess.run(
        [NVE, "show", str(fabric.overlay)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "bgp: port3 AS 65000 (ipv4): Established" in out, out


def test_the_other_pa_over_both_spines_through_169_254_0_1(fabric: BgpFabric, nve: NveRun) -> None:
    all_up(fabric)
    for tor in fabric.tors:
        until(
            f"{tor.plan.name}: ECMP over both spines",
            partial(lambda t: pa_paths(fabric, t) == both_spines(fabric, t), tor),
        )
        assert tables(fabric, tor).group_size(f"{other(fabric, tor).plan.pa}/32") == 2
        route = subprocess.run(
            ["ip", "-n", tor.host_ns, "route", "show", f"{other(fabric, tor).plan.pa}/32"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "169.254.0.1" in route, route
    tables_follow_kernel(fabric)


def test_nvgre_crosses_the_unnumbered_fabric(fabric: BgpFabric, nve: NveRun) -> None:
    all_up(fabric)
    out = until("VM to VM ping", lambda: (r := ping(fabric, 3)).returncode == 0 or r.stdout)
    assert out is True
