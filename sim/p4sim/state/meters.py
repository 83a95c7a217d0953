"""Two-rate three-colour meters (RFC 2698, colour-blind), as bmv2 implements v1model meters.

Colours are bmv2's: GREEN = 0, YELLOW = 1, RED = 2.  Rates are in units per second and
bursts in units (packets or bytes, per the meter's unit), the P4Runtime MeterConfig units.
Token buckets are kept as integers scaled by 10**9 so that time in nanoseconds adds tokens
exactly, with no floating-point drift.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

GREEN = 0
YELLOW = 1
RED = 2

_NS = 1_000_000_000


@dataclass(frozen=True)
class MeterSpec:
    """What P4Info says about a meter: its unit (``"packets"`` or ``"bytes"``)."""

    unit: str = "bytes"

    @property
    def packets(self) -> bool:
        return self.unit == "packets"


@dataclass(frozen=True)
class MeterConfig:
    """P4Runtime MeterConfig: committed and peak rates (units/s) and bursts (units)."""

    cir: int
    cburst: int
    pir: int
    pburst: int


class MeterCell:
    """One meter instance (one index of a meter array, or one direct meter of an entry).

    Unconfigured cells colour every packet GREEN, as bmv2 does before a rate is set.
    """

    __slots__ = ("_last_ns", "_lock", "_tc", "_tp", "config", "spec")

    def __init__(self, spec: MeterSpec) -> None:
        self.spec = spec
        self.config: MeterConfig | None = None
        self._tc = 0
        self._tp = 0
        self._last_ns = 0
        self._lock = threading.Lock()

    def configure(self, config: MeterConfig | None, now_ns: int = 0) -> None:
        """Set (or with None, clear) the rates; both buckets start full, as RFC 2698 says."""
        with self._lock:
            self.config = config
            if config is not None:
                self._tc = config.cburst * _NS
                self._tp = config.pburst * _NS
            self._last_ns = now_ns

    def execute(self, nbytes: int, now_ns: int) -> int:
        """Colour one packet of ``nbytes`` bytes arriving at ``now_ns`` (a monotonic clock)."""
        cfg = self.config
        if cfg is None:
            return GREEN
        amount = (1 if self.spec.packets else nbytes) * _NS
        with self._lock:
            elapsed = now_ns - self._last_ns
            if elapsed > 0:
                self._last_ns = now_ns
                self._tc = min(self._tc + elapsed * cfg.cir, cfg.cburst * _NS)
                self._tp = min(self._tp + elapsed * cfg.pir, cfg.pburst * _NS)
            if self._tp < amount:
                return RED
            if self._tc < amount:
                self._tp -= amount
                return YELLOW
            self._tp -= amount
            self._tc -= amount
            return GREEN


class MeterArray:
    """An indirect meter: ``size`` independent cells addressed by index."""

    def __init__(self, id: int, name: str, size: int, spec: MeterSpec) -> None:
        self.id = id
        self.name = name
        self.size = size
        self.spec = spec
        self.cells = [MeterCell(spec) for _ in range(size)]

    def execute(self, index: int, nbytes: int, now_ns: int) -> int:
        """Colour a packet with cell ``index``; an index out of range colours GREEN (no meter)."""
        if 0 <= index < self.size:
            return self.cells[index].execute(nbytes, now_ns)
        return GREEN
