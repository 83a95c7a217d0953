"""`nve import`: a validated description written to etcd as a new generation, then made
current in one small transaction (docs/fleet.md, "Import").

Nothing of a rejected description is written. The records go in transactions within
etcd's limits (operations and bytes per request) under the new generation's prefix,
which nothing reads until `current` names it; the switch compares `current` with what it
was when the import began, so of two imports racing, the later switch fails and leaves
the other's overlay in force. A failed import deletes what it wrote.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nve.loader import LoadedOverlay, OverlayError
from nve.model import LocalAttachment, Overlay
from nve.problems import Problem
from nve.store.etcd import (
    MAX_REQUEST_BYTES,
    MAX_TXN_OPS,
    Delete,
    Etcd,
    ModIs,
    Op,
    Put,
    StoreError,
    op_size,
)
from nve.store.keys import Root
from nve.store.records import Record, overlay_records
from nve.validate import validate_overlay

# Room left in each request for the transaction's own envelope and compares.
_ENVELOPE = 512


@dataclass(frozen=True)
class ImportResult:
    generation: str
    previous: str | None
    revision: int  # the revision at which it became current
    keys: int
    bytes: int  # keys and values written
    transactions: int


def limit_problems(overlay: Overlay, max_local_endpoints: int | None) -> list[Problem]:
    """Switches with more local endpoints than the store allows them."""
    if max_local_endpoints is None:
        return []
    local = Counter(
        ep.attachment.switch
        for ep in overlay.endpoints
        if isinstance(ep.attachment, LocalAttachment)
    )
    return [
        Problem(
            ("switches", i),
            f"{local[sw.name]} endpoints attach to switch {sw.name}; at most"
            f" {max_local_endpoints} may (max local endpoints)",
        )
        for i, sw in enumerate(overlay.switches)
        if local[sw.name] > max_local_endpoints
    ]


def batches(
    records: Iterable[Record], max_ops: int = MAX_TXN_OPS, max_bytes: int = MAX_REQUEST_BYTES
) -> Iterator[list[Op]]:
    """Puts grouped into transactions of at most `max_ops` operations and `max_bytes`."""
    budget = max_bytes - _ENVELOPE
    batch: list[Op] = []
    size = 0
    for key, value in records:
        op = Put(key, value)
        n = op_size(op)
        if n > budget:
            raise StoreError(
                f"{key.decode()}: {n:,} bytes, more than one etcd request may hold ({max_bytes:,})"
            )
        if batch and (len(batch) >= max_ops or size + n > budget):
            yield batch
            batch, size = [], 0
        batch.append(op)
        size += n
    if batch:
        yield batch


async def import_overlay(
    etcd: Etcd,
    prefix: str,
    loaded: LoadedOverlay,
    *,
    max_local_endpoints: int | None = None,
    validated: bool = False,
    max_ops: int = MAX_TXN_OPS,
    max_bytes: int = MAX_REQUEST_BYTES,
    in_flight: int = 4,
) -> ImportResult:
    """Write the description as a new generation and make it current.

    Raises OverlayError (nothing written) when the description is invalid, StoreError
    when etcd fails or another import became current first (what this one wrote is
    deleted again; the overlay in force is unchanged either way)."""
    problems = [] if validated else validate_overlay(loaded.overlay)
    problems += limit_problems(loaded.overlay, max_local_endpoints)
    if problems:
        raise OverlayError(loaded.locate(problems))
    root = Root(prefix)
    before = await etcd.get(root.current)
    previous = before.value.decode() if before else None
    gen_id = secrets.token_hex(8)
    gen = root.generation(gen_id)
    meta: dict[str, object] = {"source": loaded.source, "base_dir": str(loaded.base_dir)}
    if max_local_endpoints is not None:
        meta["max_local_endpoints"] = max_local_endpoints
    records = overlay_records(gen, loaded.overlay, meta, max_local_endpoints)
    stats = Counter[str]()
    try:
        await _write(etcd, batches(records, max_ops, max_bytes), in_flight, stats)
        ok, revision = await etcd.txn(
            [ModIs(root.current, before.mod_revision if before else 0)],
            [Put(root.current, gen_id.encode())],
        )
        if not ok:
            raise StoreError(
                f"{etcd.url}: another import became current while this one was written;"
                " nothing changed (import again to replace it)"
            )
    except BaseException:
        await asyncio.shield(_forget(etcd, root.gen_prefix(gen_id)))
        raise
    if previous is not None:
        await _forget(etcd, root.gen_prefix(previous))
    return ImportResult(
        gen_id, previous, revision, stats["keys"], stats["bytes"], stats["transactions"] + 1
    )


async def _write(etcd: Etcd, txns: Iterator[list[Op]], in_flight: int, stats: Counter[str]) -> None:
    """Transactions with up to `in_flight` of them outstanding (etcd batches them to disk);
    the first failure stops the rest."""
    pending: set[asyncio.Task[tuple[bool, int]]] = set()
    try:
        for ops in txns:
            if len(pending) >= in_flight:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                _raise_first(done)
            pending.add(asyncio.create_task(etcd.txn([], ops)))
            stats["transactions"] += 1
            stats["keys"] += len(ops)
            stats["bytes"] += sum(len(o.key) + len(o.value) for o in ops if isinstance(o, Put))
        if pending:
            done, pending = await asyncio.wait(pending)
            _raise_first(done)
    finally:
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _raise_first(done: set[asyncio.Task[tuple[bool, int]]]) -> None:
    """The first failure among finished transactions (every one's outcome is taken)."""
    errors = [e for t in done if not t.cancelled() and (e := t.exception()) is not None]
    if errors:
        raise errors[0]


async def _forget(etcd: Etcd, gen_prefix: bytes) -> None:
    """Delete a generation's keys (one range delete); a failure leaves them unread."""
    try:
        await etcd.txn([], [Delete(gen_prefix, prefix=True)])
    except StoreError:
        return
