"""The aetcd client for a store address: plaintext for `etcd://`, TLS for `etcds://`.

aetcd 1.0.0 (pinned) opens only plaintext channels; `TlsClient` opens a TLS channel
instead and builds the same stubs on it, so the store and the replicas use either kind
through one interface. The certificate files are read here, at connect time, and any
problem with them is a StoreError that names the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aetcd
import grpc
from aetcd import rpc, watcher

from nve.store.url import StoreTls, StoreUrl


class StoreTlsError(Exception):
    """A certificate or key file for the store cannot be used."""


def _pem(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreTlsError(f"store {what} {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN " not in data:
        raise StoreTlsError(f"store {what} {path}: not a PEM file")
    return data


def credentials(tls: StoreTls) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(tls.ca, "CA (ca=)"),
        private_key=_pem(tls.key, "key (key=)"),
        certificate_chain=_pem(tls.cert, "certificate (cert=)"),
    )


class TlsClient(aetcd.Client):  # type: ignore[misc]  # aetcd ships no type hints
    """aetcd's client over a TLS channel (mutual TLS with a client certificate)."""

    def __init__(self, tls: StoreTls, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tls = tls

    async def connect(self) -> None:
        if self._connected.is_set():
            return
        self.channel = grpc.aio.secure_channel(
            f"{self._host}:{self._port}", credentials(self._tls), options=self._options.items()
        )
        self.kvstub = rpc.KVStub(self.channel)
        self.clusterstub = rpc.ClusterStub(self.channel)
        self.leasestub = rpc.LeaseStub(self.channel)
        self.maintenancestub = rpc.MaintenanceStub(self.channel)
        self._watcher = watcher.Watcher(
            rpc.WatchStub(self.channel), timeout=self._timeout, metadata=self.metadata
        )
        self._connected.set()


def client_for(
    url: StoreUrl,
    timeout_s: float,
    options: dict[str, Any] | None = None,
    endpoint: tuple[str, int] | None = None,
) -> Any:
    """An unconnected aetcd client for one member of `url` (default the first);
    `connect()` opens it."""
    host, port = endpoint or (url.host, url.port)
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "timeout": timeout_s,
        "options": options or {},
    }
    if url.tls is None:
        return aetcd.Client(**kwargs)
    return TlsClient(url.tls, **kwargs)
