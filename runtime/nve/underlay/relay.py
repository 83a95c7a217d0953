"""Frames between the switch's network ports and the control-plane host's TAPs.

Punted frames (packet-in) are written to the TAP of the port they came in on; what the
kernel sends on a TAP is handed to `on_frame(port, frame)`, which sends it as a
packet-out on that port. Reading runs on a thread of its own, so a long reconcile in the
controller's event loop never holds the kernel's frames back; a full TAP queue drops the
frame (counted) rather than blocking the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("nve.underlay")

MAX_FRAME = 65536


@dataclass
class RelayStats:
    to_kernel: int = 0  # punted frames written to a TAP
    from_kernel: int = 0  # frames the kernel sent, handed on for packet-out
    dropped: int = 0  # punted frames a TAP could not take (queue full, device down)


class TapRelay:
    def __init__(self, taps: dict[int, int], on_frame: Callable[[int, bytes], None]):
        self._taps = dict(taps)  # port -> TAP fd
        self._ports = {fd: port for port, fd in self._taps.items()}
        self._on_frame = on_frame
        self.stats = RelayStats()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="underlay-relay", daemon=True)

    def start(self) -> TapRelay:
        self._thread.start()
        return self

    def deliver(self, port: int, frame: bytes) -> bool:
        """Write a punted frame to its port's TAP; False (and counted) if it could not."""
        fd = self._taps.get(port)
        if fd is None:
            return False
        try:
            os.write(fd, frame)
        except OSError:
            self.stats.dropped += 1
            return False
        self.stats.to_kernel += 1
        return True

    def _run(self) -> None:
        poller = select.poll()
        for fd in self._ports:
            poller.register(fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stop.is_set():
            for fd, _ in poller.poll(1000):
                if fd == self._wake_r:
                    continue
                self._drain(fd)

    def _drain(self, fd: int) -> None:
        port = self._ports[fd]
        for _ in range(64):  # a burst at most, then the other TAPs get their turn
            try:
                frame = os.read(fd, MAX_FRAME)
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("TAP of port %d: %s", port, exc)
                return
            if not frame:
                return
            self.stats.from_kernel += 1
            try:
                self._on_frame(port, frame)
            except Exception:
                log.exception("sending the kernel's frame out of port %d failed", port)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (*self._ports, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
