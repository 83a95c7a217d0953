"""Endpoint moves through the store to the switches: etcd commit to the last affected switch's Write acknowledged.

A real etcd (one member on loopback), two p4sim switches (default profile, no ports, each
logging its Writes with their times: `--write-log`), `nve run --store` following the
overlay (incremental updates, docs/fleet.md). The overlay is the test description plus
ENDPOINTS MAC-only endpoints in one subnet, half on each switch; both switches carry the
subnet, so every move touches both (local entry on one side, `to_tunnel` on the other).
Moves go one at a time at a paced rate; a move's latency is from its transaction's
acknowledgement to the first Write that each switch logs after it (the later of the
two). At these rates every move has its own Writes; when they overlap (a rate above what
the controller sustains) a Write may carry several moves and the latency is that of the
Write that carried it. CPU seconds of `nve run`, of the switches and of the writers (this process) are reported
per rate. Then a search: 8 writers at 100, 200, 400, 800 and 1,600 moves/s (3 s of moves
each) up to the first rate whose p99 reaches 100 ms or whose moves cannot be committed at
90 % of the rate; the highest rate before it is reported.
`--quick`: 200 endpoints, 40 moves per rate (1 s per searched rate).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench._p4sim import proc_stats, quick
from bench._write_log import write_times
from lab.targets import P4simProcess, compile_pipeline
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import etcd_binary, running_etcd
from tests.support.nve_run import NVE
from tests.support.p4sim import overlay_text

RATES = (10, 50, 100, 200)
# Then the search: more writers at rising rates, up to the first that misses p99 < 100 ms
# or cannot be committed (the writers' own CPU shares the machine with nve and etcd).
SEARCH = (100, 200, 400, 800, 1600)
WRITERS = 8
SIDES = (LocalAttachment(switch="tor1", port=2, vlan=50), LocalAttachment(switch="tor2", port=1))


def _description(path: Path, tor1: str, tor2: str, pipeline: Any, endpoints: int) -> None:
    data = yaml.safe_load(overlay_text(tor1, tor2, pipeline))
    for i in range(endpoints):
        side = SIDES[i % 2]
        att: dict[str, object] = {"switch": side.switch, "port": side.port}
        if side.vlan is not None:
            att["vlan"] = side.vlan
        data["endpoints"].append(
            {"name": f"m{i}", "vsid": 0x001001, "mac": f"52:54:01:00:{i >> 8:02x}:{i & 255:02x}",
             "attachment": att}
        )  # fmt: skip
    path.write_text(yaml.safe_dump(data, sort_keys=False))


async def _moves(
    url: StoreUrl, rate: float, count: int, endpoints: int, first: int, writers: int = 1
) -> list[float]:
    """Pace `count` moves at `rate`/s over `writers` clients (move k goes to writer k mod
    writers, each its own etcd connection, as several orchestrator workers would); each
    move's acknowledgement time (Unix seconds)."""
    acks: list[float] = []
    start = time.monotonic()

    async def writer(w: int) -> None:
        async with Etcd(url) as etcd:
            for k in range(w, count, writers):
                await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
                i = (first + k) % endpoints
                # each endpoint to the other switch than where it is (it starts on SIDES[i % 2])
                moved = (first + k) // endpoints
                side = SIDES[(i + moved + 1) % 2]
                await move_endpoint(etcd, url.prefix, f"m{i}", side)
                acks.append(time.time())

    await asyncio.gather(*(writer(w) for w in range(writers)))
    return sorted(acks)


def _latencies(acks: list[float], logs: list[Path]) -> list[float]:
    writes = [write_times(p) for p in logs]
    out = []
    for t in acks:
        firsts = [next((w for w in ws if w >= t), None) for ws in writes]
        if any(f is None for f in firsts):
            continue  # not applied (reported as missing)
        out.append(max(f for f in firsts if f is not None) - t)
    return out


def main() -> None:
    if etcd_binary() is None:
        print("  skipped: etcd is not installed (Debian package etcd-server)")
        return
    endpoints = 200 if quick() else 10_000
    per_rate = 40 if quick() else 300
    with tempfile.TemporaryDirectory() as tmp_s, running_etcd() as server:
        tmp = Path(tmp_s)
        pipeline = compile_pipeline("p4sim", tmp / "build")
        logs = [tmp / "w1.jsonl", tmp / "w2.jsonl"]
        sws = [P4simProcess(target_args=["--write-log", str(p)]).start(tmp) for p in logs]
        run = None
        try:
            path = tmp / "overlay.yaml"
            _description(path, sws[0].address, sws[1].address, pipeline, endpoints)
            url = StoreUrl.parse(server.url + "/moves")

            async def imp() -> None:
                async with Etcd(url) as etcd:
                    await import_overlay(etcd, url.prefix, load_overlay(path))

            asyncio.run(imp())
            log = tmp / "nve.log"
            with open(log, "wb") as out:
                run = subprocess.Popen(
                    [NVE, "run", "--store", str(url), "--metrics-port", "0"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            end = time.monotonic() + 300
            while (
                "reconciled tor2" not in log.read_text() or "reconciled tor1" not in log.read_text()
            ):
                if time.monotonic() > end or run.poll() is not None:
                    raise RuntimeError(f"nve run did not reconcile: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            time.sleep(1.0)
            print(
                f"  etcd {server.url} (data in {server.data_dir.parent}), 2 p4sim switches,"
                f" {endpoints:,} endpoints in one subnet on both; {per_rate} moves per rate"
            )
            done = 0
            found = 0
            for rate, writers in [(r, 1) for r in RATES] + [(r, WRITERS) for r in SEARCH]:
                cpu0 = [
                    proc_stats(run.pid).cpu_s,
                    *(proc_stats(s.proc.pid).cpu_s for s in sws if s.proc),
                ]
                mine0 = proc_stats(os.getpid()).cpu_s
                t0 = time.monotonic()
                count = (
                    per_rate if writers == 1 else max(per_rate, int(rate * (1 if quick() else 3)))
                )
                acks = asyncio.run(_moves(url, rate, count, endpoints, done, writers))
                time.sleep(2.0)  # the last moves land
                wall = time.monotonic() - t0
                done += count
                lat = sorted(x * 1000 for x in _latencies(acks, logs))
                cpu1 = [
                    proc_stats(run.pid).cpu_s,
                    *(proc_stats(s.proc.pid).cpu_s for s in sws if s.proc),
                ]
                mine = proc_stats(os.getpid()).cpu_s - mine0
                if not lat:
                    print(f"  {rate:>4}/s: no move reached both switches")
                    continue
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                committed = len(acks) / max(1e-9, acks[-1] - acks[0] if len(acks) > 1 else 1)
                print(
                    f"  {rate:>4}/s offered by {writers} writer(s) ({committed:.0f}/s"
                    f" committed): commit -> both switches written: median {statistics.median(lat):.1f} ms,"
                    f" p99 {p99:.1f} ms, max {lat[-1]:.1f} ms ({count - len(lat)} missing);"
                    f" CPU over {wall:.1f} s: nve {cpu1[0] - cpu0[0]:.1f} s,"
                    f" switches {sum(cpu1[1:]) - sum(cpu0[1:]):.1f} s, writers {mine:.1f} s"
                )
                if writers > 1:
                    if p99 >= 100 or committed < 0.9 * rate:
                        break  # the search ends at the first rate that misses
                    found = rate
            print(
                f"  highest rate searched ({', '.join(map(str, SEARCH))}/s, {WRITERS} writers) with"
                f" p99 < 100 ms and at least 90 % committed: {found or 'none'}"
                + ("/s" if found else "")
            )
            full = log.read_text().count("reading the overlay whole")
            print(f"  full reads of the store during the moves: {full}")
        finally:
            if run is not None and run.poll() is None:
                run.terminate()
                try:
                    run.wait(10)
                except subprocess.TimeoutExpired:
                    run.kill()
            for s in sws:
                s.stop()


if __name__ == "__main__":
    main()
