"""Where an overlay is stored (docs/fleet.md):

- `etcd://host:port[,host:port...][/prefix]`: plaintext gRPC (loopback, or a network you
  trust); several members of one cluster are tried in order, at connect time and after a
  failure;
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
_ENDPOINT = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}"
_URL = re.compile(
    rf"^(?P<scheme>etcds?)://(?P<endpoints>{_ENDPOINT}(?:,{_ENDPOINT})*)"
    r"(?P<prefix>/[^\s?]*)?(?:\?(?P<query>[^\s]*))?$"
)
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")
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
    host: str  # the first member
    port: int
    prefix: str  # "/nve": every key of this overlay starts with it and a "/"
    tls: StoreTls | None = None  # None: plaintext (etcd://)
    more: tuple[tuple[str, int], ...] = ()  # the other members, tried in order when one fails

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        return ((self.host, self.port), *self.more)

    @classmethod
    def parse(cls, text: str) -> StoreUrl:
        m = _URL.match(text.strip())
        if m is None:
            raise StoreUrlError(
                f"{text!r} is not a store address (etcd://HOST:PORT[,HOST:PORT...][/PREFIX], or"
                " etcds://... [?ca=FILE&cert=FILE&key=FILE] for TLS)"
            )
        endpoints = []
        for item in m["endpoints"].split(","):
            hp = _HOST_PORT.match(item)
            assert hp is not None  # the URL pattern matched it
            port = int(hp["port"])
            if not 0 < port < 65536:
                raise StoreUrlError(f"{text!r}: port {port} is out of range")
            endpoints.append((hp["host"].strip("[]"), port))
        prefix = (m["prefix"] or "").rstrip("/") or DEFAULT_PREFIX
        for part in prefix.split("/")[1:]:
            if not _PREFIX_PART.match(part):
                raise StoreUrlError(
                    f"{text!r}: prefix part {part!r} may hold only letters, digits, '_', '.', '-'"
                )
        tls = _tls(text, m["scheme"], m["query"])
        (host, port), *more = endpoints
        return cls(host, port, prefix, tls, tuple(more))

    def __str__(self) -> str:
        host = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.endpoints)
        if self.tls is None:
            return f"etcd://{host}{self.prefix}"
        params = [
            f"{name}={quote(str(path))}"
            for name in TLS_PARAMS
            if (path := getattr(self.tls, name)) is not None
        ]
        query = f"?{'&'.join(params)}" if params else ""
        return f"etcds://{host}{self.prefix}{query}"


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
