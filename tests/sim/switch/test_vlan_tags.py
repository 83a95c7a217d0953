"""Tagged frames reach the switch with their tag, although Linux strips it on receive."""

from __future__ import annotations

import socket
import struct

import pytest

from p4sim.ports import PACKET_OUTGOING, enable_vlan_auxdata, receive_frame

pytestmark = pytest.mark.root

ETH_P_ALL = 0x0003


def _sock(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # bound before it queues frames
    s.bind((ifname, ETH_P_ALL))
    s.settimeout(2)
    return s


def _tagged(tpid: int, tci: int) -> bytes:
    dst, src = bytes.fromhex("020000000002"), bytes.fromhex("020000000001")
    payload = bytes(range(46))
    return dst + src + struct.pack("!HH", tpid, tci) + struct.pack("!H", 0x88B5) + payload


def _receive_other(rx: socket.socket) -> bytes:
    while True:
        frame, pkttype = receive_frame(rx)
        if pkttype != PACKET_OUTGOING:
            return frame


@pytest.mark.parametrize(
    "tpid,tci", [(0x8100, 0x0064), (0x8100, 0xA0C8), (0x8100, 0x0000), (0x88A8, 0x0123)]
)
def test_tag_survives_the_kernel(make_network, tpid: int, tci: int) -> None:
    net = make_network()
    pair = net.veth_pair(port=0)
    tx, rx = _sock(pair.test_if), _sock(pair.switch_if)
    enable_vlan_auxdata(rx)
    try:
        frame = _tagged(tpid, tci)
        tx.send(frame)
        assert _receive_other(rx) == frame
    finally:
        tx.close()
        rx.close()


def test_untagged_frame_is_unchanged(make_network) -> None:
    net = make_network()
    pair = net.veth_pair(port=0)
    tx, rx = _sock(pair.test_if), _sock(pair.switch_if)
    enable_vlan_auxdata(rx)
    try:
        frame = bytes.fromhex("020000000002020000000001") + struct.pack("!H", 0x88B5) + bytes(50)
        tx.send(frame)
        assert _receive_other(rx) == frame
    finally:
        tx.close()
        rx.close()
