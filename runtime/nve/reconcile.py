"""Read what a switch holds, diff it against the desired entities, and write the difference.

Across several switches, all make phases run (concurrently, per switch tier by tier)
before any break phase starts, which is what makes an endpoint move make-before-break.
Where a table cannot hold its installed and new entries together, `nve.room` moves the
deletes that make room into the make phase, just before the inserts that need it.
A journal records every Write (switch, phase, tier, counts) in the order it completed,
for progress output, metrics and tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import grpc
from finsy.proto import p4r

from nve.codec import canonical_names, decode, encode, encode_key
from nve.diff import Change, Plan, diff
from nve.entities import Entity, EntityKey, MeterConfig, TableEntry
from nve.p4info import P4Index
from nve.p4rt_client import (
    DELETE,
    INSERT,
    MODIFY,
    NotPrimaryError,
    SwitchClient,
    SwitchError,
    WriteResult,
)
from nve.room import fit, table_sizes

_OPS = {"insert": INSERT, "modify": MODIFY, "delete": DELETE}
log = logging.getLogger("nve.reconcile")


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    switch: str
    phase: str
    tier: int
    counts: tuple[tuple[str, int], ...]
    keys: tuple[tuple[str, EntityKey], ...]
    failed: int


@dataclass
class Journal:
    records: list[JournalRecord] = field(default_factory=list)

    def add(self, switch: str, phase: str, batch: Sequence[Change], failed: int) -> JournalRecord:
        counts: dict[str, int] = {}
        for c in batch:
            counts[c.op] = counts.get(c.op, 0) + 1
        rec = JournalRecord(
            len(self.records),
            switch,
            phase,
            batch[0].entity.tier if batch else 0,
            tuple(sorted(counts.items())),
            tuple((c.op, c.entity.key) for c in batch),
            failed,
        )
        self.records.append(rec)
        return rec


@dataclass
class Failure:
    switch: str
    change: Change
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.switch}: {self.change.op} {self.change.entity.describe()}: {self.code}: {self.message}"


@dataclass
class SwitchReport:
    switch: str
    plan: Plan
    written: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: str = ""
    left_out: bool = False  # not answering before the reconcile started: not read, not planned


@dataclass
class ReconcileReport:
    switches: dict[str, SwitchReport] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def writes(self) -> int:
        return sum(r.written for r in self.switches.values())

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.switches.values() for f in r.failures]

    @property
    def ok(self) -> bool:
        return not self.failures and not any(r.skipped for r in self.switches.values())


@dataclass
class Target:
    """One switch to reconcile: its connection, its P4Info index and its desired entities."""

    name: str
    client: SwitchClient
    index: P4Index
    desired: list[Entity]
    tiers: dict[str, int] = field(default_factory=dict)
    is_local_attachment: Callable[[Entity], bool] = lambda e: False
    installed: list[Entity] | None = None  # already read (saves a second full read)
    canonical: list[Entity] | None = None  # the desired entities as planned (set by plan_for)
    # `installed` is what this controller last wrote in full, cells included: read nothing
    trusted: bool = False
    # installed entities not desired that are not deleted by this reconcile
    keep: Callable[[Entity], bool] = lambda e: False


def _wildcard_reads(index: P4Index) -> list[p4r.Entity]:
    reads = [
        p4r.Entity(table_entry=p4r.TableEntry(table_id=t.id))
        for t in index.tables()
        if not t.is_const
    ]
    reads.append(
        p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry()
            )
        )
    )
    reads.append(
        p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry()
            )
        )
    )
    # One read per digest: PI (simple_switch_grpc) does not implement digest_id 0 (all),
    # and answers NOT_FOUND for a digest that is not configured (skipped by _read_each).
    reads.extend(p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=d.id)) for d in index.digests())
    return reads


def _cell_reads(index: P4Index, desired: Sequence[Entity]) -> list[p4r.Entity]:
    """Default entries and meter cells always exist; read only the ones nve describes."""
    reads = []
    for e in desired:
        if isinstance(e, TableEntry) and e.is_default:
            reads.append(
                p4r.Entity(
                    table_entry=p4r.TableEntry(
                        table_id=index.table(e.table).id, is_default_action=True
                    )
                )
            )
        elif isinstance(e, MeterConfig):
            reads.append(encode_key(e, index))
    return reads


async def _read_each(
    client: SwitchClient, index: P4Index, reads: list[p4r.Entity], tiers: dict[str, int] | None
) -> list[Entity]:
    """One Read per kind, so a target lacking one kind (answering UNIMPLEMENTED) hides nothing else."""
    out: list[Entity] = []
    for req in reads:
        got: list[Entity] = []
        try:
            # Decoded as the response chunks arrive, while the switch sends the next ones.
            async for msg in client.read([req]):
                ent = decode(msg, index, tiers)
                if ent is not None:
                    got.append(ent)
        except SwitchError as exc:
            if exc.code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND):
                continue
            raise
        out.extend(got)
    return out


async def read_installed(
    client: SwitchClient, index: P4Index, tiers: dict[str, int] | None = None
) -> list[Entity]:
    """Every table entry, multicast group, clone session and digest config the switch holds."""
    return await _read_each(client, index, _wildcard_reads(index), tiers)


async def read_cells(
    client: SwitchClient, index: P4Index, desired: Sequence[Entity]
) -> list[Entity]:
    """The current value of the default entries and meter cells that `desired` sets."""
    return await _read_each(client, index, _cell_reads(index, desired), None)


def _retier(entities: Sequence[Entity], tiers: dict[str, int]) -> list[Entity]:
    return [
        replace(e, tier=tiers[e.table])
        if isinstance(e, TableEntry) and tiers.get(e.table, e.tier) != e.tier
        else e
        for e in entities
    ]


def to_updates(batch: Sequence[Change], index: P4Index) -> list[p4r.Update]:
    updates = []
    for c in batch:
        u = p4r.Update(type=_OPS[c.op])
        if c.op == "delete":
            u.entity.CopyFrom(encode_key(c.entity, index))
        else:
            encode(c.entity, index, into=u.entity)
        updates.append(u)
    return updates


def _canonical(entities: Sequence[Entity], index: P4Index) -> list[Entity]:
    """canonical_names for each entity, resolving each (table, action) pair once."""
    names: dict[tuple[str, str], bool] = {}
    out: list[Entity] = []
    for e in entities:
        if isinstance(e, TableEntry):
            pair = (e.table, e.action)
            same = names.get(pair)
            if same is None:
                same = names[pair] = canonical_names(e, index) is e
            if same:
                out.append(e)
                continue
        out.append(canonical_names(e, index))
    return out


def canonical_desired(
    entities: Sequence[Entity], index: P4Index, tiers: dict[str, int]
) -> list[Entity]:
    """Compiled entities as the switch reports them (canonical names, the pipeline's
    tiers): what a reconcile diffs and what a controller remembers as written."""
    return _retier(_canonical(entities, index), tiers)


async def plan_for(target: Target) -> Plan:
    desired = canonical_desired(target.desired, target.index, target.tiers)
    target.canonical = desired
    installed = target.installed
    if installed is None:
        installed = await read_installed(target.client, target.index, target.tiers)
    installed = _retier(installed, target.tiers)
    if not target.trusted:
        installed += await read_cells(target.client, target.index, desired)
    plan = diff(desired, installed, target.is_local_attachment, target.keep)
    return fit(plan, installed, table_sizes(target.index))


# Updates per Write inside one tier. Chunks of a tier have no order among themselves (the
# switch may reorder a batch anyway), so while the switch applies one chunk the next is
# encoded and sent; every chunk is answered before the next tier starts.
WRITE_CHUNK = 5000
WRITES_IN_FLIGHT = 2


async def _write_tier(target: Target, batch: Sequence[Change]) -> WriteResult:
    """One dependency tier: encoded chunk by chunk, up to WRITES_IN_FLIGHT Writes outstanding."""
    return await target.client.write_chunked(
        batch,
        lambda chunk: to_updates(chunk, target.index),
        chunk=WRITE_CHUNK,
        in_flight=WRITES_IN_FLIGHT,
    )


async def _run_batches(
    target: Target,
    batches: list[list[Change]],
    phase: str,
    report: SwitchReport,
    journal: Journal,
    progress: Callable[[str], None] | None,
) -> None:
    for batch in batches:
        if not batch:
            continue
        result = await _write_tier(target, batch)
        failed = {e.index: e for e in result.errors}
        for i, err in failed.items():
            report.failures.append(Failure(target.name, batch[i], err.code_name, err.message))
        report.written += len(batch) - len(failed)
        rec = journal.add(target.name, phase, batch, len(failed))
        if progress:
            counts = ", ".join(f"{n} {op}" for op, n in rec.counts)
            progress(
                f"{target.name}: {phase} tier {rec.tier}: {counts}"
                + (f" ({len(failed)} failed)" if failed else "")
            )


async def reconcile(
    targets: Sequence[Target],
    *,
    dry_run: bool = False,
    journal: Journal | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReconcileReport:
    """Bring every target to its desired state; per-update failures are reported, not raised."""
    started = time.monotonic()
    journal = journal if journal is not None else Journal()
    report = ReconcileReport()
    plans = await asyncio.gather(*(plan_for(t) for t in targets))
    for t, plan in zip(targets, plans):
        report.switches[t.name] = SwitchReport(t.name, plan)
        for short in plan.short:
            if progress:
                progress(f"{t.name}: {short.describe()}")
            else:
                log.warning("%s: %s", t.name, short.describe())
        if not plan.empty and not t.client.is_primary:
            report.switches[t.name].skipped = f"read-only: {t.client.read_only_reason}"
    if dry_run:
        report.seconds = time.monotonic() - started
        return report

    async def phase(name: str, pick: Callable[[Plan], list[list[Change]]]) -> None:
        async def one(t: Target) -> None:
            rep = report.switches[t.name]
            if rep.skipped:
                return
            try:
                await _run_batches(t, pick(rep.plan), name, rep, journal, progress)
            except NotPrimaryError as exc:
                rep.skipped = f"read-only: {exc}"
            except SwitchError as exc:
                rep.skipped = str(exc)

        await asyncio.gather(*(one(t) for t in targets))

    await phase("make", lambda p: p.make)
    if report.failures or any(r.skipped for r in report.switches.values()):
        # Keep old locations until every new one is in place; the next run converges.
        for rep in report.switches.values():
            if rep.plan.break_ and not rep.skipped:
                rep.skipped = "break phase held back: the make phase did not complete everywhere"
    else:
        await phase("break", lambda p: p.break_)
    report.seconds = time.monotonic() - started
    return report
