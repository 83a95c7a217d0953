"""`Mac`: a 48-bit MAC address parsed once, an int that prints as aa:bb:cc:dd:ee:ff.

The overlay description writes MACs as text, P4Runtime carries them as integers and
frames as 6 bytes; a `Mac` is all three, so no module converts between them by hand.
"""

from __future__ import annotations

import re
from typing import SupportsIndex

_TEXT = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
MAC_MAX = (1 << 48) - 1


class Mac(int):
    """A MAC address. `Mac("02:00:00:00:00:01")`, `Mac(0x020000000001)` and
    `Mac(b"\\x02\\0\\0\\0\\0\\x01")` are equal; str() is lower-case colon notation."""

    __slots__ = ()

    def __new__(cls, value: str | bytes | SupportsIndex) -> Mac:
        if isinstance(value, str):
            text = value.strip()
            if not _TEXT.match(text):
                raise ValueError(f"{value!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
            return super().__new__(cls, int(re.sub("[:-]", "", text), 16))
        if isinstance(value, bytes | bytearray):
            if len(value) != 6:
                raise ValueError(f"a MAC address has 6 bytes, not {len(value)}")
            return super().__new__(cls, int.from_bytes(value, "big"))
        number = int(value.__index__())
        if not 0 <= number <= MAC_MAX:
            raise ValueError(f"{number:#x} does not fit in 48 bits")
        return super().__new__(cls, number)

    def __str__(self) -> str:
        raw = f"{int(self):012x}"
        return ":".join(raw[i : i + 2] for i in range(0, 12, 2))

    def __repr__(self) -> str:
        return f"Mac('{self}')"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int(self).__format__(spec)

    @property
    def packed(self) -> bytes:
        return int(self).to_bytes(6, "big")

    @property
    def is_multicast(self) -> bool:
        """The I/G bit: a group (multicast or broadcast) address."""
        return bool(int(self) >> 40 & 1)
