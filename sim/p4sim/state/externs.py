"""Indirect counters and registers: flat Python lists indexed by int.

The per-packet path calls ``count``/``read``/``write``; the control plane reads and writes
cells through the same objects.  Single list-item stores are atomic under the GIL, so no lock
is needed; a counter cell read by the control plane may miss a packet counted concurrently.
"""

from __future__ import annotations


class CounterArray:
    """An indirect counter: packets and bytes per index (bytes not added if packets-only)."""

    def __init__(self, id: int, name: str, size: int, unit: str = "both") -> None:
        self.id = id
        self.name = name
        self.size = size
        self.unit = unit  # "packets", "bytes" or "both": what P4Runtime reads report
        self.packets = [0] * size
        self.bytes = [0] * size

    def count(self, index: int, nbytes: int) -> None:
        """Count one packet of ``nbytes``; out-of-range indices are ignored, as bmv2 does.
        A packets-only counter's bytes are never reported (P4Runtime reads, state saves
        keep them at 0), so they are not added."""
        if 0 <= index < self.size:
            self.packets[index] += 1
            if self.unit != "packets":
                self.bytes[index] += nbytes

    def read(self, index: int) -> tuple[int, int]:
        return self.packets[index], self.bytes[index]

    def write(self, index: int, packets: int, nbytes: int) -> None:
        self.packets[index] = packets
        self.bytes[index] = nbytes

    def reset(self) -> None:
        self.packets = [0] * self.size
        self.bytes = [0] * self.size


class RegisterArray:
    """A register array of ``bitwidth``-bit cells; every value written is masked to the width."""

    def __init__(self, id: int, name: str, size: int, bitwidth: int) -> None:
        self.id = id
        self.name = name
        self.size = size
        self.bitwidth = bitwidth
        self.mask = (1 << bitwidth) - 1
        self.cells = [0] * size

    def read(self, index: int) -> int:
        """The cell's value; 0 for an index out of range (the engine decides what that means)."""
        if 0 <= index < self.size:
            return self.cells[index]
        return 0

    def write(self, index: int, value: int) -> None:
        """Store ``value & mask``; writes out of range are ignored."""
        if 0 <= index < self.size:
            self.cells[index] = value & self.mask

    def reset(self) -> None:
        self.cells = [0] * self.size
