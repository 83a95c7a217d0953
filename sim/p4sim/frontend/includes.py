"""Where ``#include`` finds its files.

Two sources, chosen by whoever calls the preprocessor:

* :class:`FileIncludes`, for a program on this machine (``p4sim compile``, ``p4sim PROGRAM``):
  the including file's directory (quoted form), the include path, then p4sim's own headers.
* :class:`BundleIncludes`, for a program received from a client: only the files the client sent
  with it (a mapping of relative names to texts) and p4sim's own ``core.p4`` and
  ``v1model.p4``, looked up by name. No path a client writes is ever opened.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

P4INCLUDE_DIR = Path(__file__).resolve().parent.parent / "p4include"
#: p4sim's own headers, which a bundle may include without carrying them
BUILTIN_HEADERS = ("core.p4", "v1model.p4")


@dataclass(frozen=True)
class IncludedFile:
    """A file an ``#include`` names: its text and what nested includes resolve against."""

    key: str  # identity, for #pragma once
    display: str  # its name in messages and in the line map
    text: str
    directory: str | None  # where its own quoted includes are looked up first
    builtin: bool = False


class IncludeSource(Protocol):
    def find(self, target: str, *, quoted: bool, directory: str | None) -> IncludedFile | None:
        """The file ``#include "target"`` (quoted) or ``<target>`` names, or None."""

    def not_found(self, target: str) -> str:
        """The error message for a target :meth:`find` did not find."""


def _builtin(target: str) -> IncludedFile | None:
    if target not in BUILTIN_HEADERS:
        return None
    path = P4INCLUDE_DIR / target
    return IncludedFile(
        str(path), f"<{target}>", path.read_text(encoding="utf-8"), str(P4INCLUDE_DIR), True
    )


class FileIncludes:
    """Files on this machine: the including file's directory, ``include_dirs``, p4include/."""

    def __init__(self, include_dirs: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.include_dirs = [Path(d) for d in include_dirs]

    def find(self, target: str, *, quoted: bool, directory: str | None) -> IncludedFile | None:
        candidates: list[Path] = []
        if quoted and directory is not None:
            candidates.append(Path(directory) / target)
        candidates += [d / target for d in self.include_dirs]
        candidates.append(P4INCLUDE_DIR / target)
        for cand in candidates:
            if cand.is_file():
                resolved = cand.resolve()
                if resolved.parent == P4INCLUDE_DIR:
                    return _builtin(target) or IncludedFile(
                        str(resolved),
                        f"<{target}>",
                        cand.read_text(encoding="utf-8"),
                        str(P4INCLUDE_DIR),
                        True,
                    )
                return IncludedFile(
                    str(resolved), str(cand), cand.read_text(encoding="utf-8"), str(cand.parent)
                )
        return None

    def not_found(self, target: str) -> str:
        return f"cannot find include file {target!r}"


def bundle_name(name: str) -> str | None:
    """``name`` as a bundle key (a relative POSIX path without ``.`` or ``..``), or None if it
    cannot name a file in a bundle (absolute, climbing out, empty, or with odd characters)."""
    if not name or "\\" in name or "\0" in name or name.startswith("/"):
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return name


class BundleIncludes:
    """Only the files of a bundle (name -> text) and p4sim's own headers; nothing else."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)

    def find(self, target: str, *, quoted: bool, directory: str | None) -> IncludedFile | None:
        names: list[str] = []
        if quoted and directory:
            names.append(posixpath.normpath(posixpath.join(directory, target)))
        names.append(posixpath.normpath(target))
        for name in names:
            key = bundle_name(name)
            if key is not None and key in self.files:
                return IncludedFile(
                    f"bundle:{key}", key, self.files[key], posixpath.dirname(key) or None
                )
        return _builtin(target)

    def not_found(self, target: str) -> str:
        if bundle_name(posixpath.normpath(target)) is None:
            return (
                f"#include {target!r}: a device config may include only the files it carries "
                "(relative names) and p4sim's <core.p4> and <v1model.p4>"
            )
        return f"include file {target!r} is not in the device config's files"
