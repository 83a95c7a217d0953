"""`etcd://host:port[/prefix]`: where an overlay is stored (docs/fleet.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PREFIX = "/nve"
_URL = re.compile(
    r"^etcd://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})(?P<prefix>/[^\s]*)?$"
)
_PREFIX_PART = re.compile(r"^[A-Za-z0-9_.-]+$")


class StoreUrlError(ValueError):
    """A store address that cannot be used, with the reason."""


@dataclass(frozen=True)
class StoreUrl:
    host: str
    port: int
    prefix: str  # "/nve": every key of this overlay starts with it and a "/"

    @classmethod
    def parse(cls, text: str) -> StoreUrl:
        m = _URL.match(text.strip())
        if m is None:
            raise StoreUrlError(
                f"{text!r} is not a store address (etcd://HOST:PORT or etcd://HOST:PORT/PREFIX)"
            )
        port = int(m["port"])
        if not 0 < port < 65536:
            raise StoreUrlError(f"{text!r}: port {port} is out of range")
        prefix = (m["prefix"] or "").rstrip("/") or DEFAULT_PREFIX
        for part in prefix.split("/")[1:]:
            if not _PREFIX_PART.match(part):
                raise StoreUrlError(
                    f"{text!r}: prefix part {part!r} may hold only letters, digits, '_', '.', '-'"
                )
        return cls(m["host"].strip("[]"), port, prefix)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"etcd://{host}:{self.port}{self.prefix}"
