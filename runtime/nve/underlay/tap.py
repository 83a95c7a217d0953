"""TAP devices inside a namespace: one per network port of the switch."""

from __future__ import annotations

import fcntl
import os
import struct
import threading

from nve.underlay import netns

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFNAMSIZ = 16


def tap_name(port: int) -> str:
    """The TAP (and FRR interface) that stands for a network port in the host."""
    return f"port{port}"


def open_tap(namespace: str, name: str) -> int:
    """Open (creating if needed) the persistent TAP `name` in `namespace`; returns its fd
    (non-blocking). The device outlives the fd, so a restart of the controller finds the
    same interface with its addresses, neighbours and routes."""
    if len(name.encode()) >= IFNAMSIZ:
        raise ValueError(f"interface name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    result: list[int | Exception] = []

    def work() -> None:  # a thread of its own: setns moves only the calling thread
        try:
            with netns.entered(namespace):
                fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                try:
                    ifr = struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI)
                    fcntl.ioctl(fd, TUNSETIFF, ifr)
                    fcntl.ioctl(fd, TUNSETPERSIST, 1)
                except OSError:
                    os.close(fd)
                    raise
                result.append(fd)
        except (OSError, netns.NetnsError) as exc:  # handed to the caller's thread
            result.append(exc)

    t = threading.Thread(target=work, name=f"tap-{name}")
    t.start()
    t.join()
    out = result[0]
    if isinstance(out, Exception):
        raise netns.NetnsError(f"TAP {name} in {namespace}: {out}")
    return out
