"""The p4sim device config: what ``p4sim compile -o FILE`` writes and a P4Runtime client sends
as ``ForwardingPipelineConfig.p4_device_config``.

It is *data*: a versioned JSON document carrying the P4 source (preprocessed by ``p4sim
compile``, so self-contained), the files it includes if any (``"files"``: relative name ->
text; the compiler opens nothing else but p4sim's own headers), and digests of the source and
of the P4Info it was compiled with.  The server recompiles the source with its own front end
(nothing received over gRPC is ever executed as Python) and compares the P4Info it builds
with the P4Info the client sent: the ``p4info_sha256`` a client writes is not trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from p4sim.frontend.includes import bundle_name

if TYPE_CHECKING:
    from finsy.proto import p4i

FORMAT = "p4sim-device-config"
VERSION = 1
#: refuse anything bigger before parsing it (the NVGRE program is well under 1 MiB)
MAX_SIZE = 64 * 1024 * 1024
#: most files a bundle may carry besides its source
MAX_FILES = 1024
#: longest file name (the source's, or one of the files')
MAX_NAME = 1024


class DeviceConfigError(ValueError):
    """The bytes are not a p4sim device config this version understands; the message says why."""


class DeviceConfigTooLarge(DeviceConfigError):
    """The device config is over one of the limits above; the message names it."""


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
    files: Mapping[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        doc: dict[str, object] = {
            "format": FORMAT,
            "version": VERSION,
            "filename": self.filename,
            "source_sha256": self.source_sha256,
            "p4info_sha256": self.p4info_sha256,
            "source": self.source,
        }
        if self.files:
            doc["files"] = dict(sorted(self.files.items()))
        return json.dumps(doc, indent=1).encode("utf-8") + b"\n"


def make_device_config(
    source: str, filename: str, p4info: p4i.P4Info, files: Mapping[str, str] | None = None
) -> DeviceConfig:
    return DeviceConfig(
        source, filename, p4info_digest(p4info), source_digest(source), dict(files or {})
    )


def _text(value: object, what: str) -> str:
    """``value`` if it is a string that can be UTF-8 (no lone surrogate), else the error."""
    if not isinstance(value, str):
        raise DeviceConfigError(f"p4_device_config {what} is missing or not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DeviceConfigError(
            f"p4_device_config {what} is not valid Unicode (character {exc.start}: "
            "a lone surrogate)"
        ) from None
    return value


def _files(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeviceConfigError("p4_device_config field 'files' is not an object (name -> text)")
    if len(value) > MAX_FILES:
        raise DeviceConfigTooLarge(
            f"p4_device_config field 'files' holds {len(value)} files, more than the "
            f"{MAX_FILES} allowed"
        )
    files: dict[str, str] = {}
    for name, text in value.items():
        _text(name, "a name in 'files'")
        if len(name) > MAX_NAME or bundle_name(name) is None:
            raise DeviceConfigError(
                f"p4_device_config field 'files': {name[:80]!r} is not a relative file name "
                "(no leading '/', no '.' or '..' parts, at most "
                f"{MAX_NAME} characters)"
            )
        files[name] = _text(text, f"file {name!r} in 'files'")
    return files


def parse_device_config(data: bytes) -> DeviceConfig:
    """Parse and validate a device config; :class:`DeviceConfigError` names the bad field."""
    if not data:
        raise DeviceConfigError(
            "empty p4_device_config (p4sim needs the file written by `p4sim compile -o`)"
        )
    if len(data) > MAX_SIZE:
        raise DeviceConfigTooLarge(
            f"p4_device_config is {len(data)} bytes, more than the {MAX_SIZE} allowed"
        )
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise DeviceConfigError(
            "p4_device_config is not a p4sim device config (JSON nested too deeply)"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: JSONDecodeError, huge ints
        raise DeviceConfigError(
            f"p4_device_config is not a p4sim device config (not JSON: {str(exc)[:200]})"
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
        fields[key] = _text(doc.get(key), f"field {key!r}")
    if len(fields["filename"]) > MAX_NAME or any(c in fields["filename"] for c in "\n\r\0"):
        raise DeviceConfigError(
            f"p4_device_config field 'filename' is not a file name (one line, at most "
            f"{MAX_NAME} characters)"
        )
    if source_digest(fields["source"]) != fields["source_sha256"]:
        raise DeviceConfigError("p4_device_config field 'source_sha256' does not match its source")
    return DeviceConfig(**fields, files=_files(doc.get("files")))
