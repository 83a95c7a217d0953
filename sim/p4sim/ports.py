"""Data-plane ports: how frames get into and out of the switch.

Two backends share one small interface (:class:`PortBackend`):

* :class:`InProcessPorts` - queues, for tests and embedding (no privileges needed);
* :class:`RawSocketPorts` - ``-i N@IFNAME``: one AF_PACKET raw socket per Linux interface
  (root), offloads turned off so the kernel does not hand us frames with unfinished checksums.

:class:`PcapWriter` records what every port received and sent (``--pcap[=DIR]``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

log = logging.getLogger("p4sim.ports")

Receive = Callable[[int, bytes], None]

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
MAX_FRAME = 65536
PACKET_AUXDATA = 8
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
# Room for a burst of tens of thousands of small frames: the switch forwards far fewer frames
# per second than a sender on a veth can offer, and a frame the socket cannot hold is lost.
RCVBUF_BYTES = 64 << 20
SNDBUF_BYTES = 8 << 20
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
# struct tpacket_auxdata: tp_status, tp_len, tp_snaplen (u32); tp_mac, tp_net, tp_vlan_tci, tp_vlan_tpid (u16)
_AUXDATA = struct.Struct("=IIIHHHH")
_CMSG_SPACE = socket.CMSG_SPACE(_AUXDATA.size)


def enable_vlan_auxdata(sock: socket.socket) -> None:
    """Ask the kernel for the 802.1Q tag it takes off received frames (see receive_frame)."""
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)


def receive_frame(sock: socket.socket, flags: int = 0) -> tuple[bytes, int]:
    """Receive one frame from an AF_PACKET socket as it was on the wire: (frame, pkttype).

    Linux removes the outermost VLAN tag of a received frame before packet sockets see it
    (whether or not the 8021q module is loaded) and reports it in PACKET_AUXDATA; a switch
    must see the tag, so it is put back here.  The socket must have had
    :func:`enable_vlan_auxdata` called on it.  Raises BlockingIOError like ``recvfrom`` (pass
    ``socket.MSG_DONTWAIT`` in ``flags`` to read a blocking socket without waiting).
    """
    frame, ancdata, _flags, addr = sock.recvmsg(MAX_FRAME, _CMSG_SPACE, flags)
    for level, kind, data in ancdata:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= _AUXDATA.size:
            status, _len, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(data)
            if status & TP_STATUS_VLAN_VALID and len(frame) >= 12:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                frame = frame[:12] + struct.pack("!HH", tpid, tci) + frame[12:]
    return frame, addr[2]


class PortError(RuntimeError):
    """A port cannot be opened; the message names the port and the interface."""


class PortBackend(Protocol):
    def start(self, receive: Receive) -> None:
        """Begin delivering received frames to ``receive(port, frame)`` (from any thread)."""

    def send(self, port: int, frame: bytes) -> None:
        """Transmit ``frame`` on ``port``; frames to unknown ports are dropped."""

    def close(self) -> None: ...


@runtime_checkable
class PolledPortBackend(Protocol):
    """A backend whose sockets the switch's data-plane thread polls and reads itself.

    Handing every frame from a reader thread to the data-plane thread costs two GIL
    handoffs and a queue operation per frame, which is more than the packet itself costs
    to process; with this interface one thread receives, processes and transmits.
    """

    def fileno_ports(self) -> dict[int, int]:
        """File descriptor -> port number, for every port that can receive."""

    def read_frames(self, port: int, limit: int) -> list[bytes]:
        """Up to ``limit`` frames waiting on ``port``, without blocking (maybe none)."""

    def send(self, port: int, frame: bytes) -> None: ...

    def close(self) -> None: ...


def set_buffer(sock: socket.socket, force: int, plain: int, size: int) -> None:
    """Set a socket buffer size, above net.core.[rw]mem_max when we may (root), else as far as allowed."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, plain, size)


class PcapWriter:
    """One classic pcap file per port and direction: ``port<N>_in.pcap`` / ``port<N>_out.pcap``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._files: dict[tuple[int, str], BinaryIO] = {}
        self._lock = threading.Lock()

    def write(self, port: int, direction: str, frame: bytes) -> None:
        with self._lock:
            f = self._files.get((port, direction))
            if f is None:
                f = open(self.directory / f"port{port}_{direction}.pcap", "wb")  # noqa: SIM115  # open until close()
                # magic, v2.4, tz 0, sigfigs 0, snaplen, LINKTYPE_ETHERNET
                f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_FRAME, 1))
                self._files[(port, direction)] = f
            now = time.time()
            sec = int(now)
            f.write(struct.pack("<IIII", sec, int((now - sec) * 1e6), len(frame), len(frame)))
            f.write(frame)
            f.flush()

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()


class InProcessPorts:
    """Ports as queues: tests call :meth:`inject` and read what the switch sent with :meth:`receive`."""

    def __init__(self, ports: list[int] | None = None) -> None:
        self._receive: Receive | None = None
        self._out: dict[int, queue.Queue[bytes]] = {}
        self._lock = threading.Lock()
        for p in ports or []:
            self._queue(p)

    def _queue(self, port: int) -> queue.Queue[bytes]:
        with self._lock:
            q = self._out.get(port)
            if q is None:
                q = self._out[port] = queue.Queue()
            return q

    def start(self, receive: Receive) -> None:
        self._receive = receive

    def inject(self, port: int, frame: bytes) -> None:
        if self._receive is None:
            raise RuntimeError("ports not started")
        self._receive(port, frame)

    def send(self, port: int, frame: bytes) -> None:
        self._queue(port).put(frame)

    def receive(self, port: int, timeout: float = 2.0) -> bytes | None:
        """The next frame the switch sent on ``port``, or None after ``timeout`` seconds."""
        try:
            return self._queue(port).get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._receive = None


def disable_offloads(ifname: str) -> None:
    """Turn off offloads that leave checksums or segmentation to the NIC (best effort)."""
    try:
        subprocess.run(
            [
                "ethtool",
                "-K",
                ifname,
                "rx",
                "off",
                "tx",
                "off",
                "sg",
                "off",
                "tso",
                "off",
                "gso",
                "off",
                "gro",
                "off",
            ],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not turn off offloads on %s: %s", ifname, exc)


class RawSocketPorts:
    """AF_PACKET raw sockets bound to Linux interfaces.

    The switch polls and reads them from its data-plane thread (:class:`PolledPortBackend`);
    :meth:`start` runs a reader thread instead for other users.  The sockets are blocking, so
    a transmit waits for room in the send buffer rather than failing; reads pass
    MSG_DONTWAIT.
    """

    def __init__(self, interfaces: dict[int, str], *, offloads_off: bool = True) -> None:
        self.interfaces = dict(interfaces)
        self._socks: dict[int, socket.socket] = {}
        self._by_fd: dict[int, int] = {}
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = os.pipe()
        self._closed = False
        self.send_errors = 0
        try:
            for port, ifname in self.interfaces.items():
                self._open(port, ifname, offloads_off)
        except BaseException:
            self.close()
            raise

    def _open(self, port: int, ifname: str, offloads_off: bool) -> None:
        if not Path(f"/sys/class/net/{ifname}").exists():
            raise PortError(f"port {port}: interface {ifname!r} does not exist")
        if offloads_off:
            disable_offloads(ifname)
        try:
            # Protocol 0: no frame is queued until bind() names the interface. A socket
            # opened for ETH_P_ALL receives from every interface until then, and those
            # frames would be processed as if they had arrived on this port.
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise PortError(
                f"port {port}: raw sockets on {ifname!r} need root (CAP_NET_RAW)"
            ) from None
        # older kernels refuse it: outgoing frames are filtered by pkttype on receive instead
        with contextlib.suppress(OSError):
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        try:
            s.bind((ifname, ETH_P_ALL))
        except OSError as exc:
            s.close()
            raise PortError(f"port {port}: cannot bind to {ifname!r}: {exc.strerror}") from None
        set_buffer(s, SO_RCVBUFFORCE, socket.SO_RCVBUF, RCVBUF_BYTES)
        set_buffer(s, SO_SNDBUFFORCE, socket.SO_SNDBUF, SNDBUF_BYTES)
        enable_vlan_auxdata(s)
        self._socks[port] = s
        self._by_fd[s.fileno()] = port

    def start(self, receive: Receive) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(receive,), name="p4sim-ports", daemon=True
        )
        self._thread.start()

    def fileno_ports(self) -> dict[int, int]:
        return dict(self._by_fd)

    def read_frames(self, port: int, limit: int) -> list[bytes]:
        s = self._socks[port]
        frames: list[bytes] = []
        dontwait = socket.MSG_DONTWAIT
        while len(frames) < limit:
            try:
                frame, pkttype = receive_frame(s, dontwait)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno not in (errno.ENETDOWN, errno.ENXIO):
                    log.error("port %d: receive failed: %s", port, exc)
                break
            if pkttype != PACKET_OUTGOING:  # not our own transmissions, looped back by the kernel
                frames.append(frame)
        return frames

    def _run(self, receive: Receive) -> None:
        poller = select.poll()
        for fd in self._by_fd:
            poller.register(fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            for fd, _ in poller.poll():
                if fd == self._stop_r:
                    return
                port = self._by_fd[fd]
                for frame in self.read_frames(port, 256):
                    receive(port, frame)

    def send(self, port: int, frame: bytes) -> None:
        s = self._socks.get(port)
        if s is None:
            return
        try:
            s.send(frame)
        except OSError as exc:
            # ENOBUFS: the peer's backlog is full; the frame is lost, as on a congested link.
            self.send_errors += 1
            if self.send_errors == 1 or exc.errno != errno.ENOBUFS:
                log.warning("port %d: send failed: %s", port, exc)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for s in self._socks.values():
            s.close()
        os.close(self._stop_r)
        os.close(self._stop_w)
