"""Send and receive whole Ethernet frames on a veth's test end (AF_PACKET), tags included.

The kernel moves a received 802.1Q tag out of the frame into the packet's metadata
before packet sockets see it, so a plain recv() would hide the tag the switch sent;
the tag is put back from PACKET_AUXDATA here, and frames this socket sent itself
(PACKET_OUTGOING) are skipped.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from typing import Callable

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata


class RawPort:
    """One interface, opened for raw frames; use as a context manager or close()."""

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.sock.bind((ifname, 0))

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def _recv_one(self) -> bytes | None:
        data, ancdata, _flags, addr = self.sock.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
        if addr[2] == PACKET_OUTGOING:
            return None
        for level, kind, cdata in ancdata:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= AUXDATA.size:
                status, _len, _snap, _mac, _net, tci, tpid = AUXDATA.unpack_from(cdata)
                if status & TP_STATUS_VLAN_VALID:
                    tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        return data

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

    def __enter__(self) -> "RawPort":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
