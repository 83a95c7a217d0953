"""TLS for the P4Runtime server: simple_switch_grpc's ``--grpc-server-ssl`` family of flags.

``--grpc-server-ssl`` with ``--grpc-server-cert`` and ``--grpc-server-key`` serves TLS;
``--grpc-server-cacert`` names the CA that client certificates are checked against, and
``--grpc-server-with-client-auth`` makes a valid client certificate mandatory (mutual TLS).
With TLS on, p4sim also refuses Writes and pipeline changes from clients that have not
arbitrated (PI accepts them from anyone while no controller has arbitrated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

# A PEM certificate chain or key is a few KiB; a file far larger is not one.
MAX_PEM_BYTES = 1024 * 1024


class TlsConfigError(ValueError):
    """A TLS flag is missing or names a file that cannot be used; the message says which."""


@dataclass(frozen=True)
class ServerTls:
    cert_chain: bytes
    private_key: bytes
    client_ca: bytes | None
    require_client_auth: bool

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.cert_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.require_client_auth,
        )


def _read_pem(flag: str, path: str, marker: bytes) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_PEM_BYTES:
            raise TlsConfigError(f"{flag} {path}: {size} bytes, not a PEM file")
        data = p.read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{flag} {path}: {exc.strerror}") from None
    if b"-----BEGIN " not in data or marker not in data:
        raise TlsConfigError(f"{flag} {path}: no PEM {marker.decode()} block in the file")
    return data


def server_tls(
    *,
    ssl: bool,
    cacert: str | None,
    cert: str | None,
    key: str | None,
    with_client_auth: bool,
) -> ServerTls | None:
    """The TLS settings the flags describe, or None for plaintext; TlsConfigError if unusable."""
    given = [
        name
        for name, value in (
            ("--grpc-server-cacert", cacert),
            ("--grpc-server-cert", cert),
            ("--grpc-server-key", key),
            ("--grpc-server-with-client-auth", with_client_auth or None),
        )
        if value is not None
    ]
    if not ssl:
        if given:
            raise TlsConfigError(f"{given[0]} needs --grpc-server-ssl")
        return None
    if cert is None or key is None:
        missing = "--grpc-server-cert" if cert is None else "--grpc-server-key"
        raise TlsConfigError(f"--grpc-server-ssl needs {missing}")
    if with_client_auth and cacert is None:
        raise TlsConfigError(
            "--grpc-server-with-client-auth needs --grpc-server-cacert (the CA that signs"
            " client certificates)"
        )
    return ServerTls(
        cert_chain=_read_pem("--grpc-server-cert", cert, b"CERTIFICATE"),
        private_key=_read_pem("--grpc-server-key", key, b"PRIVATE KEY"),
        client_ca=(_read_pem("--grpc-server-cacert", cacert, b"CERTIFICATE") if cacert else None),
        require_client_auth=with_client_auth,
    )
