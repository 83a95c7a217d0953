"""Run PTF's ``testutils`` inside pytest.

PTF normally runs tests through its own runner (``ptf --test-dir ...``), which fills the
global ``ptf.config``, opens a ``DataPlane`` on the configured interfaces and hands each
``BaseTest`` a reference to it.  :class:`PtfDataplane` does the same for a pytest session:
it maps ``(device, port)`` to interface names, opens PTF's own ``DataPlane`` (raw
AF_PACKET sockets, as under the PTF runner), and :class:`PtfTest` is the object that
``testutils.send_packet(test, ...)``, ``verify_packet(test, ...)`` and
``verify_no_other_packets(test)`` expect as their first argument.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import ptf
import ptf.dataplane
import ptf.ptfutils


class PtfFailure(AssertionError):
    """A PTF verification failed (raised where PTF's unittest-based tests call ``fail``)."""


class PtfDataplane:
    """Owns one PTF ``DataPlane`` bound to ``port_map``: {(device, port): interface name}."""

    def __init__(
        self,
        port_map: Mapping[tuple[int, int], str],
        *,
        timeout: float = 2.0,
        negative_timeout: float = 0.3,
        qlen: int = 4096,
    ) -> None:
        self.port_map = dict(port_map)
        ptf.config.clear()
        ptf.config.update(
            {
                "platform": "local",
                "port_map": dict(self.port_map),
                "relax": False,
                "qlen": qlen,
                "log_dir": None,
                "log_file": None,
                "test_params": {},
            }
        )
        ptf.ptfutils.default_timeout = timeout
        ptf.ptfutils.default_negative_timeout = negative_timeout
        self.dataplane = ptf.dataplane.DataPlane(ptf.config)
        for (device, port), ifname in self.port_map.items():
            self.dataplane.port_add(ifname, device, port)
        ptf.dataplane_instance = self.dataplane

    def test(self) -> PtfTest:
        """A fresh test handle; drains packets left over from the previous test."""
        self.dataplane.flush()
        return PtfTest(self.dataplane)

    def close(self) -> None:
        self.dataplane.kill()
        if ptf.dataplane_instance is self.dataplane:
            ptf.dataplane_instance = None


class PtfTest:
    """The ``test`` argument of ``ptf.testutils`` functions, for a pytest test."""

    def __init__(self, dataplane: ptf.dataplane.DataPlane) -> None:
        self.dataplane = dataplane
        self.log = logging.getLogger("ptf")

    # Hooks that PTF's BaseTest provides and testutils calls.
    def before_send(self, pkt: bytes, device_number: int = 0, port_number: int = -1) -> None:
        self.log.debug("send %d bytes on device %d port %d", len(pkt), device_number, port_number)

    def at_receive(self, pkt: bytes, device_number: int = 0, port_number: int = -1) -> None:
        self.log.debug(
            "received %d bytes on device %d port %d", len(pkt), device_number, port_number
        )

    def fail(self, msg: str) -> None:
        raise PtfFailure(msg)

    # unittest-style assertions that some testutils helpers use
    def assertTrue(self, cond: object, msg: str = "") -> None:
        if not cond:
            self.fail(msg or "condition is false")

    def assertEqual(self, a: object, b: object, msg: str = "") -> None:
        if a != b:
            self.fail(msg or f"{a!r} != {b!r}")
