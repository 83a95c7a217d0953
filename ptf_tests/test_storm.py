"""Storm control and the learning limit's drop mode (docs/pipeline.md: NveIngress.storm,
NveIngress.learn.port_full / vsi_full).

Storm control meters the broadcast, unknown unicast and multicast frames an access port
sends into the overlay, per port in packets per second; the excess is dropped
(`STORM_CONTROL`) and counted per port (`NveIngress.storm.dropped`). A port or subnet at
its learning limit in drop mode drops frames from unknown source MACs (`MAC_LIMIT`)
instead of forwarding them unlearned.
"""

from __future__ import annotations

import time

import pytest
from ptf import testutils

from nve.p4names import Counter, Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case, wait_for_drops
from nve_ptf.expect import expect_drop, expect_forward, send
from nve_ptf.packets import customer, tagged

pytestmark = pytest.mark.root

BROADCAST = "ff:ff:ff:ff:ff:ff"
VLAN = 100  # port 2's VLAN in subnet A1


def _setup(case: Case) -> None:
    """A1 on port 1 (untagged, H1) and port 2 (VLAN 100, H2), flooding to both."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=VLAN),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        E.learned(T.VSI_A1, T.H1, 1),
        E.flood_group(T.VSI_A1, [1, 2]),
    )


def _received(case: Case, port: int, timeout: float = 1.0) -> int:
    n = 0
    while isinstance(
        testutils.dp_poll(case.test, device_number=0, port_number=port, timeout=timeout),
        case.test.dataplane.PollSuccess,
    ):
        n += 1
    return n


def test_bum_over_the_rate_is_dropped_and_counted(case: Case) -> None:
    """At 1 frame/s with a burst of 1, a quick series of broadcasts lets through at most
    one more per second the sending took; the rest is dropped and counted per port."""
    _setup(case)
    case.install(E.storm_limit(1, 1))
    before = case.drops()
    stormed0 = case.counter(Counter.STORM_DROPPED, 1)[0]
    frame = customer("l2", T.H1, BROADCAST)
    started = time.monotonic()
    for _ in range(6):
        send(case.test, 1, frame)
    allowed = 2 + int(time.monotonic() - started)
    passed = _received(case, 2)
    assert 1 <= passed <= min(allowed, 5)
    delta = wait_for_drops(case, before, {Drop.STORM_CONTROL: 6 - passed})
    assert delta == {Drop.PRUNE_INGRESS_PORT: passed, Drop.STORM_CONTROL: 6 - passed}
    assert case.counter(Counter.STORM_DROPPED, 1)[0] - stormed0 == 6 - passed


def test_known_unicast_and_other_ports_are_not_metered(case: Case) -> None:
    """The meter is per port and for flooded frames only: known unicast passes, and a
    port without an entry floods freely."""
    _setup(case)
    case.install(E.storm_limit(1, 1))
    bcast = customer("l2", T.H1, BROADCAST)
    expect_forward(case, 1, bcast, {2: tagged(bcast, VLAN)}, drops={Drop.PRUNE_INGRESS_PORT: 1})
    unicast = customer("v4", T.H1, T.H2)
    for _ in range(3):
        expect_forward(case, 1, unicast, {2: tagged(unicast, VLAN)})
    from2 = customer("l2", T.H2, BROADCAST)
    for _ in range(3):
        expect_forward(case, 2, tagged(from2, VLAN), {1: from2}, drops={Drop.PRUNE_INGRESS_PORT: 1})


def test_full_port_drops_unknown_sources(case: Case) -> None:
    """Drop mode over the MAC limit: an unknown source on a full port is dropped (no
    digest); a known source still passes; another port is not affected."""
    _setup(case)
    case.install(E.learn_digest(), E.port_full(1))
    stranger = "02:00:00:00:01:99"
    expect_drop(case, 1, customer("v4", stranger, T.H2), Drop.MAC_LIMIT)
    assert case.no_digest([(T.VSID_A1, E.mac(stranger), 1)])
    known = customer("v4", T.H1, T.H2)
    expect_forward(case, 1, known, {2: tagged(known, VLAN)})
    other = customer("v4", stranger, T.H1)
    expect_forward(case, 2, tagged(other, VLAN), {1: other})


def test_full_subnet_drops_unknown_sources(case: Case) -> None:
    _setup(case)
    case.install(E.vsi_full(T.VSI_A1))
    stranger = "02:00:00:00:01:99"
    expect_drop(case, 2, tagged(customer("v4", stranger, T.H1), VLAN), Drop.MAC_LIMIT)
    known = customer("v4", T.H1, T.H2)
    expect_forward(case, 1, known, {2: tagged(known, VLAN)})
