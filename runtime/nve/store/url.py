"""Where an overlay is stored (docs/fleet.md):

- `etcd://host:port[/prefix]`: plaintext gRPC (loopback, or a network you trust);
- `etcds://host:port[/prefix][?ca=FILE&cert=FILE&key=FILE]`: TLS. `ca` is the CA bundle
  that signed etcd's server certificate (default: the system's roots); `cert` and `key`
  are this client's certificate and key, for an etcd run with `--client-cert-auth`
  (with authentication on, etcd takes the certificate's common name as the user, and
  RBAC decides what that user may read and write: docs/fleet.md "Securing the store").
  Files are relative to the working directory; they are read when a connection opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote

DEFAULT_PREFIX = "/nve"
_URL = re.compile(
    r"^(?P<scheme>etcds?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})"
    r"(?P<prefix>/[^\s?]*)?(?:\?(?P<query>[^\s]*))?$"
)
_PREFIX_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
TLS_PARAMS = ("ca", "cert", "key")


class StoreUrlError(ValueError):
    """A store address that cannot be used, with the reason."""


@dataclass(frozen=True)
class StoreTls:
    """TLS toward etcd: the CA bundle (None: the system's roots) and the client's
    certificate and key (both or neither)."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class StoreUrl:
    host: str
    port: int
    prefix: str  # "/nve": every key of this overlay starts with it and a "/"
    tls: StoreTls | None = None  # None: plaintext (etcd://)

    @classmethod
    def parse(cls, text: str) -> StoreUrl:
        m = _URL.match(text.strip())
        if m is None:
            raise StoreUrlError(
                f"{text!r} is not a store address (etcd://HOST:PORT[/PREFIX], or etcds://"
                "HOST:PORT[/PREFIX][?ca=FILE&cert=FILE&key=FILE] for TLS)"
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
        tls = _tls(text, m["scheme"], m["query"])
        return cls(m["host"].strip("[]"), port, prefix, tls)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.tls is None:
            return f"etcd://{host}:{self.port}{self.prefix}"
        params = [
            f"{name}={quote(str(path))}"
            for name in TLS_PARAMS
            if (path := getattr(self.tls, name)) is not None
        ]
        query = f"?{'&'.join(params)}" if params else ""
        return f"etcds://{host}:{self.port}{self.prefix}{query}"


def _tls(text: str, scheme: str, query: str | None) -> StoreTls | None:
    pairs = parse_qsl(query or "", keep_blank_values=True, strict_parsing=False)
    if scheme == "etcd":
        if pairs:
            raise StoreUrlError(f"{text!r}: parameters are for etcds:// (TLS) addresses only")
        return None
    found: dict[str, Path] = {}
    for name, value in pairs:
        if name not in TLS_PARAMS:
            raise StoreUrlError(f"{text!r}: unknown parameter {name!r} (known: ca, cert, key)")
        if name in found:
            raise StoreUrlError(f"{text!r}: parameter {name!r} given twice")
        if not value:
            raise StoreUrlError(f"{text!r}: parameter {name!r} names no file")
        found[name] = Path(value)
    if ("cert" in found) != ("key" in found):
        raise StoreUrlError(f"{text!r}: a client certificate needs both cert and key")
    return StoreTls(found.get("ca"), found.get("cert"), found.get("key"))
