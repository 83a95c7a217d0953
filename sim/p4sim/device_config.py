"""The p4sim device config: what ``p4sim compile -o FILE`` writes and a P4Runtime client sends
as ``ForwardingPipelineConfig.p4_device_config``.

It is *data*: a versioned JSON document carrying the preprocessed P4 source and digests of the
source and of the P4Info it was compiled with.  The server recompiles the source with its own
front end (nothing received over gRPC is ever executed as Python) and checks the result
against the P4Info the client sent with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finsy.proto import p4i

FORMAT = "p4sim-device-config"
VERSION = 1
#: refuse anything bigger before parsing it (the NVGRE program is well under 1 MiB)
MAX_SIZE = 64 * 1024 * 1024


class DeviceConfigError(ValueError):
    """The bytes are not a p4sim device config this version understands; the message says why."""


def p4info_digest(p4info: p4i.P4Info) -> str:
    """SHA-256 of the deterministic serialisation of a P4Info message."""
    return hashlib.sha256(p4info.SerializeToString(deterministic=True)).hexdigest()


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DeviceConfig:
    source: str
    filename: str
    p4info_sha256: str
    source_sha256: str

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "filename": self.filename,
            "source_sha256": self.source_sha256,
            "p4info_sha256": self.p4info_sha256,
            "source": self.source,
        }
        return json.dumps(doc, indent=1).encode("utf-8") + b"\n"


def make_device_config(source: str, filename: str, p4info: p4i.P4Info) -> DeviceConfig:
    return DeviceConfig(source, filename, p4info_digest(p4info), source_digest(source))


def parse_device_config(data: bytes) -> DeviceConfig:
    """Parse and validate a device config; :class:`DeviceConfigError` names the bad field."""
    if not data:
        raise DeviceConfigError(
            "empty p4_device_config (p4sim needs the file written by `p4sim compile -o`)"
        )
    if len(data) > MAX_SIZE:
        raise DeviceConfigError(
            f"p4_device_config is {len(data)} bytes, more than the {MAX_SIZE} allowed"
        )
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeviceConfigError(
            f"p4_device_config is not a p4sim device config (not JSON: {exc})"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DeviceConfigError(
            f'p4_device_config is not a p4sim device config (no "format": "{FORMAT}")'
        )
    if doc.get("version") != VERSION:
        raise DeviceConfigError(
            f"p4_device_config version {doc.get('version')!r} is not supported (expected {VERSION})"
        )
    fields: dict[str, str] = {}
    for key in ("source", "filename", "p4info_sha256", "source_sha256"):
        value = doc.get(key)
        if not isinstance(value, str):
            raise DeviceConfigError(f"p4_device_config field {key!r} is missing or not a string")
        fields[key] = value
    if source_digest(fields["source"]) != fields["source_sha256"]:
        raise DeviceConfigError("p4_device_config field 'source_sha256' does not match its source")
    return DeviceConfig(**fields)
