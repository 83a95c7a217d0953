"""Access ports: port roles, (port, VLAN) -> virtual subnet, local bridging and its drops.

RFC 7637 section 3.3: the NVE removes a customer 802.1Q tag before encapsulation; locally,
the tag of the output port is pushed (docs/pipeline.md, AccessIngress/AccessEgress).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import ETH_QINQ, customer, tagged

pytestmark = pytest.mark.root


def _subnet(case: Case) -> None:
    """A1 on port 1 untagged, port 2 VLAN 100, port 3 VLAN 300; H1..H3 known there."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.attach(3, T.VSI_A1, vid=300),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        E.local_ca(T.VSI_A1, T.H3, 3),
    )


@pytest.mark.parametrize("kind", ["v4", "v6", "l2"])
def test_local_bridging_pushes_and_pops_tags(case: Case, kind: str) -> None:
    """Untagged in, tagged out (VLAN of the output port, PCP 0); tagged in, untagged out;
    VLAN 100 -> 300 keeps the frame's priority (PCP 5 in, PCP 5 out: IEEE 802.1Q bridging
    does not reset it)."""
    _subnet(case)
    f12 = customer(kind, T.H1, T.H2)
    expect_forward(case, 1, f12, {2: tagged(f12, 100)})
    f21 = customer(kind, T.H2, T.H1)
    expect_forward(case, 2, tagged(f21, 100), {1: f21})
    f23 = customer(kind, T.H2, T.H3)
    expect_forward(case, 2, tagged(f23, 100, pcp=5), {3: tagged(f23, 300, pcp=5)})
    expect_forward(case, 2, tagged(f23, 100, pcp=7), {3: tagged(f23, 300, pcp=7)})


@pytest.mark.parametrize("kind", ["v4", "l2"])
def test_priority_tagged_frame_is_untagged(case: Case, kind: str) -> None:
    """IEEE 802.1Q: a tag with VID 0 only carries a priority; the frame belongs to the port's
    untagged subnet (port 1), and leaves as that subnet's frames do (tag of the output port),
    with its priority."""
    _subnet(case)
    f12 = customer(kind, T.H1, T.H2)
    expect_forward(case, 1, tagged(f12, 0, pcp=5), {2: tagged(f12, 100, pcp=5)})
    # on a port with tagged bindings only, VID 0 is not one of them
    f21 = customer(kind, T.H2, T.H1)
    expect_drop(case, 2, tagged(f21, 0, pcp=3), Drop.ACCESS_VLAN_UNKNOWN)


def test_drop_port_unknown(case: Case) -> None:
    """A port without a role takes no traffic."""
    case.install(
        E.access_port(1),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(4, T.VSI_A1),
        E.attach(1, T.VSI_A1),
    )
    expect_drop(case, 4, customer("v4", T.H4, "ff:ff:ff:ff:ff:ff"), Drop.PORT_UNKNOWN)


def test_drop_access_vlan_unknown(case: Case) -> None:
    _subnet(case)
    expect_drop(case, 1, tagged(customer("v4", T.H1, T.H2), 101), Drop.ACCESS_VLAN_UNKNOWN)
    expect_drop(
        case, 2, customer("v4", T.H2, T.H1), Drop.ACCESS_VLAN_UNKNOWN
    )  # port 2 takes VLAN 100 only


@pytest.mark.parametrize("how", ["qinq-s-tag", "double-c-tag", "c-then-s-tag"])
def test_drop_access_extra_tag(case: Case, how: str) -> None:
    """Only one 802.1Q tag is allowed on an access port; an S-tag (0x88A8) or a second tag drops."""
    _subnet(case)
    f = customer("v4", T.H2, T.H1)
    if how == "qinq-s-tag":
        pkt = tagged(f, 100, tpid=ETH_QINQ)
    elif how == "double-c-tag":
        pkt = tagged(tagged(f, 7), 100)
    else:
        pkt = tagged(tagged(f, 7, tpid=ETH_QINQ), 100)
    expect_drop(case, 2, pkt, Drop.ACCESS_EXTRA_TAG)


def test_drop_vsi_unknown(case: Case) -> None:
    case.install(T.roles(), E.attach(1, 9))
    expect_drop(case, 1, customer("v4", T.H1, T.H2), Drop.VSI_UNKNOWN)


def test_drop_source_mac_multicast(case: Case) -> None:
    _subnet(case)
    expect_drop(case, 1, customer("v4", "01:00:5e:00:00:05", T.H2), Drop.SRC_MAC_MULTICAST)


def test_drop_egress_not_member(case: Case) -> None:
    """A CA mapped to a port that is not attached to the subnet: the copy is refused in egress."""
    _subnet(case)
    case.install(E.local_ca(T.VSI_A1, T.H4, 4))
    expect_drop(case, 1, customer("v4", T.H1, T.H4), Drop.EGRESS_NOT_MEMBER)


def test_drop_prune_ingress_port(case: Case) -> None:
    """No frame leaves by the port it came in on."""
    _subnet(case)
    expect_drop(case, 1, customer("v4", T.H4, T.H1), Drop.PRUNE_INGRESS_PORT)


def test_drop_parser_error_truncated_ipv4(case: Case) -> None:
    """An IPv4 EtherType with 10 bytes of header: the parser fails and the frame is dropped."""
    _subnet(case)
    full = bytes(customer("v4", T.H1, T.H2))
    expect_drop(case, 1, full[: 14 + 10], Drop.PARSER_ERROR)


def test_ipv4_options_are_kept_when_bridged(case: Case) -> None:
    """An IPv4 header with options crosses the switch unchanged (parser feature 1)."""
    _subnet(case)
    f = (
        Ether(src=T.H1, dst=T.H2)
        / IP(src="10.1.0.5", dst="10.1.0.9", options=b"\x94\x04\x00\x00" + b"\x01" * 4)
        / (b"o" * 40)
    )
    f = Ether(bytes(f))
    assert f[IP].ihl == 7
    expect_forward(case, 1, f, {2: tagged(f, 100)})
