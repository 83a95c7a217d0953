"""The fleet: a 3-member etcd cluster, 3 replicas, live p4sim switches and store-only switch records, endpoint moves at rising rates, one replica killed during the churn.

Everything on loopback; etcd's data on tmpfs (/dev/shm; `--etcd-data disk` for a temporary
directory on disk, whose pages the kernel may reclaim). The description: LIVE p4sim
switches (default profile, no ports) and STORE_ONLY switch records whose addresses answer
nothing (they are owned and spread like the others; their sessions keep retrying), 10
tenants of 10 subnets (both access ports of a switch bound to its subnets, as a ToR's are),
ENDPOINTS endpoints: each subnet has a home switch that holds its endpoints (so every live
switch stays within its table sizes), the live switches in pairs (tor0 and tor1, ...) of
one tenant that also bind each other's subnets. Moves: between a live switch and its
partner, each endpoint back and forth (the issue's move: the two switches' local entries,
and a `to_tunnel` change on every live switch that carries the tenant); `--port-moves`:
to the other access port of the endpoint's switch, which only that switch sees.
Reported: import time and store size; per offered rate (5, 20, 50/s, then up 100, 200,
400, 600, 800, 1,000, 1,200, 1,600/s to the first that misses p99 < 100 ms or 90 %
committed; at least 3 s of moves each; the rate committed is reported too), commit ->
the last affected live switch's first Write after it (from p4sim's write logs; when moves
overlap, a Write may carry several and each is counted at the first Write after its
commit), median / p99, CPU seconds per process kind over the window and the 3 s after it
(from the moment the spread has settled and every live switch has had its full reconcile
by its owner), the cores that kept busy and the CPU per committed move; then, at the
lowest rate, the owner of one live switch is killed with -9: kill -> the switch says the
new owner is primary (an observer with election id 1), and kill -> the new owner's first
reconcile of it logged. Moves are offered at the rate and committed by writers as an
orchestrator's workers would: by default two, each pair's (or switch's) moves going to
one of them, each committing what waits for it up to `--batch` (64) moves per
`change_endpoints` call; `--batch 1`: one transaction per move, one writer per 50/s.
Offered -> committed is reported beside the latency. Defaults are small enough for a
2-core machine (2 live, 20 store-only, 20,000 endpoints); `--live N --store-only N
--endpoints N` scale it (the issue's scale: 16, 1000, 1,000,000); `--quick`: 2, 10, 2,000.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench._p4sim import proc_stats, quick
from bench._traffic import percentile
from bench._write_log import write_times
from lab.targets import P4simProcess, compile_pipeline
from nve.fleet.election import election_id
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import ChangeRefused, EndpointChange, Move, change_endpoints
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import etcd_binary, running_etcd_cluster
from tests.fleet.fleet_util import ReplicaProcess, observer, owners

RATES = (5, 20, 50)
SEARCH = (100, 200, 400, 600, 800, 1000, 1200, 1600)  # up to the first that misses the target
PER_WRITER = 50  # moves/s one writer is asked for (a transaction is 5 etcd round trips)
BATCH_WRITERS = 2  # with --batch above 1: at most this many writers (--writers)
SUBNETS = 100
TAKEOVER_S = 40  # how long the churn around the takeover lasts, seconds


def _options() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench fleet")
    ap.add_argument("--live", type=int, default=2)
    ap.add_argument("--store-only", type=int, default=20)
    ap.add_argument("--endpoints", type=int, default=20_000)
    ap.add_argument("--moves", type=int, default=100, help="moves per rate")
    ap.add_argument("--ttl", type=int, default=5, help="the replicas' lease TTL, seconds")
    ap.add_argument(
        "--batch",
        type=int,
        default=64,
        metavar="N",
        help="a writer commits up to N waiting moves in one change_endpoints call (1: one"
        " transaction per move)",
    )
    ap.add_argument(
        "--writers",
        type=int,
        default=BATCH_WRITERS,
        metavar="N",
        help="with batches, at most N writers",
    )
    ap.add_argument(
        "--shared",
        action="store_true",
        help="with batches, every writer takes moves of every switch (default: each"
        " switch's moves go to one writer)",
    )
    ap.add_argument(
        "--port-moves",
        action="store_true",
        help="move endpoints to the other port of their switch (default: between a live"
        " switch and its partner, which every switch carrying the tenant sees)",
    )
    ap.add_argument(
        "--rates",
        type=lambda text: [int(r) for r in text.split(",")],
        metavar="R,R,...",
        help="run these rates (moves/s) only, instead of the warm-up and the search (for"
        " profiling one rate)",
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep-logs", type=Path, metavar="DIR", help="copy the replicas' logs here")
    ap.add_argument(
        "--etcd-data",
        choices=("tmpfs", "disk"),
        default="tmpfs",
        help="where the members keep their data (disk: a million endpoints need the memory)",
    )
    opts, _ = ap.parse_known_args(sys.argv[1:])
    if quick():
        opts.live, opts.store_only, opts.endpoints, opts.moves = 2, 10, 2_000, 30
    return opts


def partner(i: int, live: int) -> int | None:
    """The live switch that also binds live switch i's subnets (tor0 and tor1, tor2 and
    tor3, ...): endpoints move between the two."""
    return i ^ 1 if (i ^ 1) < live else None


def _subnets(i: int, switches: int, live: int) -> list[int]:
    """The subnets switch i binds: its own (each subnet has one home switch), and a live
    switch those of its partner."""
    own = list(range(i, SUBNETS, switches))
    p = partner(i, live) if i < live else None
    return own + (list(range(p, SUBNETS, switches)) if p is not None else [])


def _description(
    path: Path, addresses: list[str], store_only: int, endpoints: int, pipeline: object
) -> list[tuple[str, str, int]]:
    """Write the description; (endpoint, switch, VLAN) of those that sit on live switches."""
    p4info, config = pipeline.p4info, pipeline.device_config  # type: ignore[attr-defined]
    names = [f"tor{i}" for i in range(len(addresses))] + [f"rec{i}" for i in range(store_only)]

    def binds(i: int) -> str:  # both access ports carry the switch's subnets, as a ToR's do
        own = _subnets(i, len(names), len(addresses))
        return ", ".join(f"{{vsid: 0x{0x010000 + s:06x}, vlan: {100 + s}}}" for s in own)

    lines = ["switches:"]
    for i, name in enumerate(names):
        address = addresses[i] if i < len(addresses) else f"127.0.0.1:{1 + i}"  # answers nothing
        lines += [
            f"  - name: {name}", f"    address: {address}", "    election_id: 10",
            f"    pipeline: {{p4info: {p4info}, device_config: {config}}}",
            f'    nve_mac: "02:00:0a:{i >> 8:02x}:{i & 255:02x}:01"',
            f"    local_pas: [10.0.{i >> 7}.{((i & 127) << 1) + 1}]",  # unique up to 32,768
            "    ports:", f"      - {{port: 1, role: access, bindings: [{binds(i)}]}}",
            f"      - {{port: 2, role: access, bindings: [{binds(i)}]}}",
            "      - {port: 3, role: network, mtu: 9000}",
            f'    next_hops: [{{name: spine, port: 3, mac: "02:00:0b:00:{i >> 8:02x}:{i & 255:02x}"}}]',
            "    underlay_routes: [{prefix: 10.0.0.0/16, via: spine}]",
        ]  # fmt: skip
    lines.append("tenants:")
    for t in range(10):
        lines.append(f"  - {{name: t{t}, vrf: {t + 1}, subnets: [")
        for k in range(10):
            s = t * 10 + k
            lines.append(f"      {{name: s{s}, vsid: 0x{0x010000 + s:06x}}},")
        lines.append("    ]}")
    lines.append("endpoints:")
    live: list[tuple[str, str, int]] = []
    for e in range(endpoints):
        s = e % SUBNETS
        owner = s % len(names)  # each subnet on one switch, tagged with its own VLAN
        at = owner
        if owner < len(addresses):
            # The first two endpoints of a subnet stay, one at its partner: neither switch
            # of a pair ever holds a VSID's first or last endpoint, which would change
            # what the VSID's tunnels and flood lists are (a full compilation each).
            other = partner(owner, len(addresses))
            if e >= 2 * SUBNETS or other is None:
                live.append((f"ep{e}", names[owner], 100 + s))
            elif e < SUBNETS:
                at = other
        mac = f"52:54:{e >> 24 & 255:02x}:{e >> 16 & 255:02x}:{e >> 8 & 255:02x}:{e & 255:02x}"
        lines.append(
            f'  - {{name: ep{e}, vsid: 0x{0x010000 + s:06x}, mac: "{mac}",'
            f" attachment: {{switch: {names[at]}, port: 1, vlan: {100 + s}}}}}"
        )
    path.write_text("\n".join(lines) + "\n")
    return live


def _settled(url: StoreUrl, reps: dict[str, ReplicaProcess], switches: int, live: int) -> bool:
    """The spread has settled (every switch owned, every replica within one of the others)
    and each live switch's owner has logged its full reconcile: the replicas that joined
    first own everything for a moment, then hand switches over, and each hand-over is a
    full read and compilation by the new owner."""
    held = asyncio.run(owners(url))
    counts = [sum(1 for o in held.values() if o.replica == r) for r in reps]
    if len(held) < switches or max(counts) - min(counts) > 1:
        return False
    for i in range(live):
        owner = held.get(f"tor{i}")
        if owner is None or f"reconciled tor{i}:" not in reps[owner.replica].text():
            return False
    return True


@dataclass
class _Mover:
    """Where each moved endpoint is, where its next move takes it, and the live switches
    that move changes. `across` (the default): between a live switch and its partner,
    both ways in turn; the endpoint's old and new switch and every other live switch
    that carries its tenant (a `to_tunnel` entry toward it) are written. Otherwise: to
    the other access port of its switch, which only that switch sees."""

    across: bool
    live: int
    switches: int  # live and store-only
    at: dict[str, tuple[str, int]] = field(default_factory=dict)  # endpoint: switch, port
    by_tenant: dict[int, tuple[str, ...]] = field(default_factory=dict)  # carriers' cache

    def carriers(self, subnet: int) -> tuple[str, ...]:
        """The live switches that carry the subnet's tenant (worked out once per tenant:
        the writers' CPU is measured)."""
        tenant = subnet // 10
        if tenant not in self.by_tenant:
            self.by_tenant[tenant] = tuple(
                f"tor{j}"
                for j in range(self.live)
                if any(s // 10 == tenant for s in _subnets(j, self.switches, self.live))
            )
        return self.by_tenant[tenant]

    def move(self, name: str, home: str, vlan: int) -> tuple[LocalAttachment, tuple[str, ...]]:
        sw, port = self.at.get(name, (home, 1))
        other = partner(int(home[3:]), self.live)
        if self.across and other is not None:
            now = (f"tor{other}" if sw == home else home, 1)
            affected = self.carriers(vlan - 100)
        else:
            now, affected = (sw, 3 - port), (sw,)
        self.at[name] = now
        return LocalAttachment(switch=now[0], port=now[1], vlan=vlan), affected

    def shard(self, home: str) -> str:
        """The writer key of a move: a pair's moves go to one writer (they change both
        switches' counters and tags)."""
        other = partner(int(home[3:]), self.live)
        return f"pair{int(home[3:]) >> 1}" if self.across and other is not None else home


@dataclass(frozen=True)
class _Ack:
    switches: tuple[str, ...]  # the live switches the move writes
    asked: float  # when the move was offered (Unix seconds)
    committed: float  # when its transaction was acknowledged
    attempts: int = 1  # reads of its batch until it committed (above 1: conflicts)


async def _churn(
    url: StoreUrl,
    rate: float,
    picks: list[tuple[str, str, int]],
    mover: _Mover,
    writers: int = 1,
    batch: int = 1,
    shared: bool = False,
) -> list[_Ack]:
    """Offer a move of each picked endpoint (`mover`: where to) at
    `rate`/s; `writers` concurrent writers (each its own etcd client) take what is
    offered, each up to `batch` moves at a time in one `change_endpoints` call (one
    transaction while etcd's limits allow), as an orchestrator's workers would. With
    batches, the switches are shared out among the writers (a switch's moves go to one
    writer) unless `shared`: then the moves go round the writers, whose batches share
    switches and port tags (what conflicts then is docs/fleet.md's "Endpoint changes")."""
    out: list[_Ack] = []
    queues: list[asyncio.Queue[tuple[str, str, int, float] | None]] = [
        asyncio.Queue() for _ in range(writers)
    ]
    start = time.monotonic()

    async def offer() -> None:
        for k, (name, sw, vlan) in enumerate(picks):
            await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
            key = mover.shard(sw).encode()
            w = zlib.crc32(key) % writers if batch > 1 and not shared else k % writers
            queues[w].put_nowait((name, sw, vlan, time.time()))
        for q in queues:
            q.put_nowait(None)

    async def writer(queue: asyncio.Queue[tuple[str, str, int, float] | None]) -> None:
        async with Etcd(url) as etcd:
            held: list[tuple[str, str, int, float] | None] = []  # taken, for the next batch
            while True:
                item = held.pop() if held else await queue.get()
                if item is None:
                    return
                taken = [item]
                while len(taken) < batch and not queue.empty():
                    nxt = queue.get_nowait()
                    if nxt is None or nxt[0] in {t[0] for t in taken}:
                        held.append(nxt)  # the end, or an endpoint once per batch
                        break
                    taken.append(nxt)
                changes: list[EndpointChange] = []
                affected: list[tuple[str, ...]] = []
                for name, sw, vlan, _ in taken:
                    att, written = mover.move(name, sw, vlan)
                    changes.append(Move(name, att))
                    affected.append(written)
                results = await change_endpoints(etcd, url.prefix, changes)
                now = time.time()
                for (name, _, _, asked), r, written in zip(taken, results, affected, strict=True):
                    if isinstance(r, ChangeRefused):
                        raise RuntimeError(f"move of {name} refused: {r}")
                    out.append(_Ack(written, asked, now, r.attempts))

    await asyncio.gather(offer(), *(writer(q) for q in queues))
    return out


@dataclass
class _Result:
    rate: int
    writers: int
    committed: float  # moves/s
    acks: int
    lat: list[float]  # ms, sorted
    spent: dict[str, float]  # CPU seconds by process kind over the window (writers too)
    elapsed: float  # the window's seconds, the moves and the 3 s after them
    waited: list[float]  # ms from offered to committed, sorted
    batch: int
    retried: int = 0  # moves whose batch was read again (another writer conflicted)

    @property
    def median(self) -> float:
        return statistics.median(self.lat) if self.lat else math.inf

    @property
    def p99(self) -> float:
        return percentile(self.lat, 0.99) if self.lat else math.inf

    def sustained(self) -> bool:
        return self.p99 < 100 and self.committed >= 0.9 * self.rate and len(self.lat) == self.acks

    def line(self) -> str:
        if not self.lat:
            return f"  {self.rate:>4}/s: no move reached its switch"
        return (
            f"  {self.rate:>4}/s offered, {self.committed:.0f}/s committed by {self.writers}"
            f" writer(s), up to {self.batch} a transaction: commit -> last switch written: median"
            f" {self.median:.0f} ms, p99 {self.p99:.0f} ms ({self.acks - len(self.lat)} of"
            f" {self.acks} not seen); offered -> committed: median"
            f" {statistics.median(self.waited) if self.waited else math.nan:.0f} ms, p99"
            f" {percentile(self.waited, 0.99) if self.waited else math.nan:.0f} ms;"
            f" CPU: {', '.join(f'{k} {s:.1f} s' for k, s in self.spent.items())}"
            f" ({sum(self.spent.values()) / self.elapsed:.2f} of {os.cpu_count()} cores busy"
            f" over {self.elapsed:.1f} s), per move:"
            f" {', '.join(f'{k} {1000 * s / self.acks:.2f} ms' for k, s in self.spent.items())};"
            f" read again after a conflict: {self.retried} of {self.acks}"
        )


@dataclass
class _Window:
    """Moves at one offered rate, measured: at least 3 s of them, one writer per 50/s."""

    url: StoreUrl
    reps: dict[str, ReplicaProcess]
    sws: list[P4simProcess]
    cluster: object
    logs: list[Path]
    picks_all: list[tuple[str, str, int]]
    mover: _Mover
    moves: int
    batch: int
    most_writers: int = BATCH_WRITERS
    shared: bool = False
    done: int = 0

    def run(self, rate: int) -> _Result:
        count = max(self.moves, 3 * rate)
        picks = [self.picks_all[(self.done + k) % len(self.picks_all)] for k in range(count)]
        self.done += count
        writers = -(-rate // PER_WRITER)
        if self.batch > 1:
            writers = min(writers, self.most_writers)
        cpu0 = _cpu(self.reps, self.sws, self.cluster)
        t0, w0 = time.monotonic(), time.process_time()
        acks = asyncio.run(
            _churn(self.url, rate, picks, self.mover, writers, self.batch, self.shared)
        )
        committed = len(acks) / (time.monotonic() - t0)
        writer_cpu = time.process_time() - w0
        time.sleep(3.0)
        cpu1 = _cpu(self.reps, self.sws, self.cluster)
        elapsed = time.monotonic() - t0
        writes = {f"tor{i}": write_times(p) for i, p in enumerate(self.logs)}
        last = (max(_first_write(writes[s], a.committed) for s in a.switches) for a in acks)
        lat = sorted(s * 1000 for s in last if s < math.inf)  # inf: a switch not written yet
        waited = sorted((a.committed - a.asked) * 1000 for a in acks)
        spent = {k: cpu1[k] - cpu0[k] for k in cpu0} | {"writers": writer_cpu}
        return _Result(
            rate,
            writers,
            committed,
            len(acks),
            lat,
            spent,
            elapsed,
            waited,
            self.batch,
            sum(a.attempts > 1 for a in acks),
        )


def _first_write(times: list[float], after: float) -> float:
    """Seconds from `after` to the first of `times` (sorted) at or after it (inf: none)."""
    k = bisect.bisect_left(times, after)
    return times[k] - after if k < len(times) else math.inf


def main() -> None:
    if etcd_binary() is None:
        print("  skipped: etcd is not installed (Debian package etcd-server)")
        return
    opts = _options()
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    base = shm if opts.etcd_data == "tmpfs" else None
    with tempfile.TemporaryDirectory() as tmp_s, running_etcd_cluster(3, base=base) as cluster:
        tmp = Path(tmp_s)
        pipeline = compile_pipeline("p4sim", tmp / "build")
        logs = [tmp / f"w{i}.jsonl" for i in range(opts.live)]
        sws = [P4simProcess(target_args=["--write-log", str(p)]).start(tmp) for p in logs]
        reps: dict[str, ReplicaProcess] = {}
        try:
            path = tmp / "fleet.yaml"
            picks_all = _description(
                path, [s.address for s in sws], opts.store_only, opts.endpoints, pipeline
            )
            url = StoreUrl.parse(f"{cluster.url}/fleet")
            # In a process of its own: a million loaded endpoints hold gigabytes that
            # Python would keep from the replicas after the import.
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                t_load, t_import, keys, size = pool.submit(_import, path, str(url)).result()
            print(
                f"  etcd: 3 members on loopback, data in {base or 'a temporary directory'};"
                f" {opts.live} live switches, {opts.store_only} store-only, {opts.endpoints:,}"
                f" endpoints: load + validate {t_load:.1f} s, import {t_import:.1f} s,"
                f" {keys:,} keys, {size / 1e6:.1f} MB (one member, compacted)"
            )
            for n in ("r1", "r2", "r3"):
                reps[n] = ReplicaProcess(None, str(url), n, tmp / f"{n}.log", ttl=opts.ttl).start()
            end = time.monotonic() + 900
            while not _settled(url, reps, opts.live + opts.store_only, opts.live):
                if time.monotonic() > end:
                    raise RuntimeError("the spread never settled with every live switch reconciled")
                time.sleep(1.0)
            time.sleep(3.0)
            mover = _Mover(not opts.port_moves, opts.live, opts.live + opts.store_only)
            window = _Window(
                url,
                reps,
                sws,
                cluster,
                logs,
                picks_all,
                mover,
                opts.moves,
                opts.batch,
                opts.writers,
                opts.shared,
            )
            for rate in RATES if opts.rates is None else ():
                print(window.run(rate).line())
            found: _Result | None = None
            ladder = SEARCH if opts.rates is None else opts.rates
            for rate in ladder:  # up the ladder to the first rate that misses (--rates: all)
                result = window.run(rate)
                print(result.line())
                if result.sustained():
                    found = result if found is None or rate > found.rate else found
                elif opts.rates is None:
                    break
            best = (
                f"{found.rate}/s (median {found.median:.0f} ms, p99 {found.p99:.0f} ms)"
                if found
                else "none"
            )
            print(
                f"  highest rate of {', '.join(map(str, ladder))}/s with p99 < 100 ms and at"
                f" least 90 % committed: {best}"
            )
            done = window.done
            # enough moves to last past the reconcile (the churn is awaited to its end)
            picks = [picks_all[(done + k) % len(picks_all)] for k in range(RATES[0] * TAKEOVER_S)]
            print(_takeover(url, reps, sws, picks, mover, opts.ttl))
            rejoins = sum(r.text().count("giving up every switch") for r in reps.values())
            print(f"  leases lost by the replicas over the run (each a rejoin): {rejoins}")
        finally:
            for r in reps.values():
                with contextlib.suppress(Exception):
                    r.stop()
            for s in sws:
                s.stop()
            if opts.keep_logs is not None:  # the replicas' logs, for a look afterwards
                opts.keep_logs.mkdir(parents=True, exist_ok=True)
                for r in reps.values():
                    with contextlib.suppress(OSError):
                        shutil.copy(r.log, opts.keep_logs / r.log.name)


def _import(path: Path, url_text: str) -> tuple[float, float, int, int]:
    """Load, validate and import the description (in a child process): seconds for the
    first two and for the import, keys written, one member's compacted size."""
    url = StoreUrl.parse(url_text)
    t0 = time.perf_counter()
    loaded = load_overlay(path)
    t_load = time.perf_counter() - t0

    async def imp() -> tuple[int, int]:
        async with Etcd(url) as etcd:
            r = await import_overlay(etcd, url.prefix, loaded)
            await etcd.compact_and_defragment()
            return r.keys, await etcd.db_size()

    t0 = time.perf_counter()
    keys, size = asyncio.run(imp())
    return t_load, time.perf_counter() - t0, keys, size


def _cpu(
    reps: dict[str, ReplicaProcess], sws: list[P4simProcess], cluster: object
) -> dict[str, float]:
    def total(pids: list[int]) -> float:
        out = 0.0
        for pid in pids:
            with contextlib.suppress(OSError, ValueError, IndexError):
                out += proc_stats(pid).cpu_s
        return out

    members = cluster.members  # type: ignore[attr-defined]
    return {
        "replicas": total([r.proc.pid for r in reps.values() if r.proc is not None]),
        "switches": total([s.proc.pid for s in sws if s.proc is not None]),
        "etcd": total([m.proc.pid for m in members]),
    }


def _takeover(
    url: StoreUrl,
    reps: dict[str, ReplicaProcess],
    sws: list[P4simProcess],
    picks: list[tuple[str, str, int]],
    mover: _Mover,
    ttl: int,
) -> str:
    async def go() -> str:
        churn = asyncio.create_task(_churn(url, RATES[0], picks, mover))
        await asyncio.sleep(1.0)  # the kill comes during the churn
        end = time.monotonic() + 30
        held = await owners(url)
        while "tor0" not in held and time.monotonic() < end:
            await asyncio.sleep(0.5)
            held = await owners(url)
        if "tor0" not in held:
            churn.cancel()
            return "  takeover not measured: tor0 had no owner for 30 s (leases lapsing under load)"
        victim = held["tor0"].replica
        old_id = election_id(0, held["tor0"].revision)
        watcher = await observer(sws[0].address)
        try:
            marks = {n: len(r.text()) for n, r in reps.items()}
            killed_wall, killed = time.time(), time.perf_counter()
            reps[victim].kill()
            deadline = time.perf_counter() + 60
            while watcher.primary_election_id in (None, old_id) and time.perf_counter() < deadline:
                watcher.arbitration_changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.arbitration_changed.wait(), 0.5)
            primary = time.perf_counter() - killed
            new = (await owners(url)).get("tor0")
            survivor = reps[new.replica] if new else None
            reconciled = None
            while survivor is not None and time.perf_counter() < deadline:
                text = survivor.text()[marks[survivor.name] :]
                if "reconciled tor0:" in text:
                    reconciled = time.time() - killed_wall
                    break
                await asyncio.sleep(0.1)
            moved = len(await churn)
            return (
                f"  replica {victim} (owner of tor0) killed with -9 during {RATES[0]} moves/s"
                f" ({moved} moves in all; lease TTL {ttl} s): tor0's new owner primary after"
                f" {primary:.2f} s (target TTL + 1 s), its reconcile of tor0 logged after"
                f" {reconciled if reconciled is not None else float('nan'):.2f} s"
            )
        finally:
            churn.cancel()
            await watcher.close()

    return asyncio.run(go())


if __name__ == "__main__":
    main()
