"""Source MAC learning: an unknown (subnet, MAC, port) on an access port is reported to the
controller with a digest (VSID, MAC, port); a known one is not; a MAC that moves is
reported again. The frame itself is forwarded either way."""

from __future__ import annotations

import pytest

from nve.p4names import Digest, Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import customer, tagged

pytestmark = pytest.mark.root


def _setup(case: Case) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        E.learn_digest(),
    )


def test_unknown_source_is_reported(case: Case) -> None:
    _setup(case)
    f = customer("v4", T.H1, T.H2)
    expect_forward(case, 1, f, {2: tagged(f, 100)})
    d = case.digest([(T.VSID_A1, E.mac(T.H1), 1)])
    assert d is not None, f"no digest for an unknown source MAC (others: {case.stale_digests})"
    assert d.name == Digest.MAC_LEARN_DIGEST


def test_known_source_is_not_reported_and_a_move_is(case: Case) -> None:
    _setup(case)
    case.install(E.learned(T.VSI_A1, T.H1, 1))
    f = customer("v4", T.H1, T.H2)
    expect_forward(case, 1, f, {2: tagged(f, 100)})
    assert case.no_digest([(T.VSID_A1, E.mac(T.H1), 1)]), "a known source was reported"
    # H1 moves to port 2 (VLAN 100) and broadcasts from there: reported again, with the new port.
    g = customer("v4", T.H1, "ff:ff:ff:ff:ff:ff")
    case.install(E.flood_group(T.VSI_A1, [1, 2]))
    expect_forward(case, 2, tagged(g, 100), {1: g}, drops={Drop.PRUNE_INGRESS_PORT: 1})
    d = case.digest([(T.VSID_A1, E.mac(T.H1), 2)])
    assert d is not None, f"the move was not reported (others: {case.stale_digests})"
