"""Send and receive whole Ethernet frames on a veth's test end (AF_PACKET), tags included.

The kernel moves a received 802.1Q tag out of the frame into the packet's metadata
before packet sockets see it, so a plain recv() would hide the tag the switch sent;
the tag is put back by p4sim's own receive_frame (the one its ports use), and frames
this socket sent itself (PACKET_OUTGOING) are skipped.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

from p4sim.ports import ETH_P_ALL, PACKET_OUTGOING, enable_vlan_auxdata, receive_frame


class RawPort:
    """One interface, opened for raw frames; use as a context manager or close()."""

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        # protocol 0 until bound: opened for ETH_P_ALL it would queue other interfaces' frames
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        enable_vlan_auxdata(self.sock)
        self.sock.bind((ifname, ETH_P_ALL))

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def _recv_one(self) -> bytes | None:
        data, pkttype = receive_frame(self.sock)
        return None if pkttype == PACKET_OUTGOING else data

    def frames(self, timeout: float) -> list[bytes]:
        """Every frame received within `timeout` seconds."""
        out: list[bytes] = []
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                break
            frame = self._recv_one()
            if frame is not None:
                out.append(frame)
        return out

    def wait_for(self, match: Callable[[bytes], bool], timeout: float) -> bytes | None:
        """The first received frame for which `match` is true, or None after `timeout` seconds."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                return None
            frame = self._recv_one()
            if frame is not None and match(frame):
                return frame
        return None

    def drain(self) -> None:
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
