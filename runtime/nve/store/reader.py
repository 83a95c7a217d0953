"""The overlay in force in etcd, read back as the description it was imported from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydantic

from nve.loader import LineMap, LoadedOverlay
from nve.model import Overlay
from nve.problems import format_path
from nve.store.etcd import Etcd, StoreError
from nve.store.keys import Gen, Root
from nve.store.records import OBJECT_KINDS, Collected


@dataclass(frozen=True)
class StoredOverlay:
    loaded: LoadedOverlay
    generation: str
    revision: int  # the store revision it was read at


async def current_generation(etcd: Etcd, prefix: str) -> tuple[str, int]:
    """(generation in force, store revision), or StoreError when none was imported."""
    root = Root(prefix)
    revision, found = await etcd.get_many([root.current])
    kv = found.get(root.current)
    if kv is None:
        raise StoreError(
            f"{etcd.url}: no overlay stored under {prefix} (nve import FILE --store {etcd.url})"
        )
    return kv.value.decode(), revision


async def read_overlay(etcd: Etcd, prefix: str, base_dir: Path | None = None) -> StoredOverlay:
    """The current overlay, every key read at one revision. Relative file paths in it
    (pipeline, TLS) resolve against `base_dir`, by default the folder of the imported file."""
    gen_id, revision = await current_generation(etcd, prefix)
    gen = Root(prefix).generation(gen_id)
    collected = Collected()
    async for kv in etcd.scan(gen.meta, revision):
        if kv.key == gen.meta:
            collected.add(gen, kv.key, kv.value, kv.create_revision)
    for kind in OBJECT_KINDS:
        async for kv in etcd.scan(gen.kind_prefix(kind), revision):
            collected.add(gen, kv.key, kv.value, kv.create_revision)
    source = f"{etcd.url}/gen/{gen_id}"
    overlay = _overlay(collected, source)
    meta = collected.meta or {}
    folder = base_dir or Path(str(meta.get("base_dir", ".")))
    return StoredOverlay(LoadedOverlay(overlay, source, LineMap(), folder), gen_id, revision)


def _overlay(collected: Collected, source: str) -> Overlay:
    if collected.meta is None:
        raise StoreError(f"{source}: the generation has no meta key (a partial import?)")
    try:
        return Overlay.model_validate(collected.overlay_data(), strict=True)
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = format_path(tuple(err["loc"]))
        raise StoreError(f"{source}: {where}: {err['msg']} (written by a newer nve?)") from None


def generation(prefix: str, gen_id: str) -> Gen:
    return Root(prefix).generation(gen_id)
