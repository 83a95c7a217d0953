"""TLS toward a switch: the PEM files of a switch's `tls:` entry, as gRPC credentials.

gRPC checks the switch's certificate against the CA and its subject alternative names
against the address's host (an IP SAN for an IP address) or against `server_name`. When a
TLS connection cannot be set up, gRPC only reports that the channel never became ready, so
`handshake_problem` repeats the handshake with Python's `ssl` module to say why
(unknown CA, name mismatch, no client certificate, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc

from nve.model import SwitchTls

MAX_PEM_BYTES = 1024 * 1024  # a PEM chain or key is a few KiB


class TlsError(Exception):
    """A TLS file of the description cannot be used; the message names the field and file."""


@dataclass(frozen=True)
class ClientTls:
    ca: bytes
    cert: bytes | None
    key: bytes | None
    server_name: str | None

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )

    def channel_options(self) -> list[tuple[str, str]]:
        if self.server_name is None:
            return []
        return [("grpc.ssl_target_name_override", self.server_name)]


def _read_pem(field: str, base_dir: Path, name: str, marker: str) -> bytes:
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        size = path.stat().st_size
        if size > MAX_PEM_BYTES:
            raise TlsError(f"tls.{field}: {path}: {size} bytes, too big for a PEM file")
        data = path.read_bytes()
    except OSError as exc:
        raise TlsError(f"tls.{field}: {path}: {exc.strerror}") from None
    if f"-----BEGIN {marker}".encode() not in data and not (
        marker == "PRIVATE KEY" and b"PRIVATE KEY-----" in data
    ):
        raise TlsError(f"tls.{field}: {path}: no PEM {marker} in the file")
    return data


def load_client_tls(spec: SwitchTls, base_dir: Path) -> ClientTls:
    """Read the files (relative to the description's directory); TlsError names the bad one."""
    return ClientTls(
        ca=_read_pem("ca", base_dir, spec.ca, "CERTIFICATE"),
        cert=_read_pem("cert", base_dir, spec.cert, "CERTIFICATE") if spec.cert else None,
        key=_read_pem("key", base_dir, spec.key, "PRIVATE KEY") if spec.key else None,
        server_name=spec.server_name,
    )


def _ssl_context(tls: ClientTls) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=tls.ca.decode("ascii", "replace"))
    ctx.set_alpn_protocols(["h2"])
    if tls.cert is not None and tls.key is not None:
        # ssl loads a client certificate only from files; a private temporary directory
        # holds them for the duration of the call.
        with tempfile.TemporaryDirectory(prefix="nve-tls-") as tmp:
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert.write_bytes(tls.cert)
            key.touch(mode=0o600)
            key.write_bytes(tls.key)
            ctx.load_cert_chain(cert, key)
    return ctx


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


async def handshake_problem(address: str, tls: ClientTls, timeout: float = 3.0) -> str | None:
    """Why a TLS connection to `address` fails (None if a handshake succeeds or the address
    is not host:port). Used only to explain a connection that gRPC could not make."""
    if address.startswith("unix:"):
        return None
    try:
        ctx = _ssl_context(tls)
        host, port = _host_port(address)
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ctx, server_hostname=tls.server_name or host
            )
    except ssl.SSLError as exc:
        return f"TLS handshake failed: {exc.reason or exc}"
    except ssl.CertificateError as exc:
        return f"TLS: {exc}"
    except (OSError, TimeoutError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        # TLS 1.3 servers check the client's certificate after the handshake: an alert on
        # the first read says it was refused.
        async with asyncio.timeout(0.5):
            await reader.read(1)
    except ssl.SSLError as exc:
        return f"TLS: the switch refused this controller's certificate ({exc.reason or exc})"
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            async with asyncio.timeout(1.0):
                await writer.wait_closed()
    return None
