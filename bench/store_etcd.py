"""The overlay in etcd: import time and store size (the example, 100,000 endpoints), endpoint move latency.

A real etcd (Debian's etcd-server, one member on loopback, data on the temporary
directory's disk, fsync on) started for the run. For each description: load (YAML and
shape), validate, write (the import's transactions, 128 operations and at most 1.5 MiB
each, 4 in flight, then the switch of `current`), then read it back whole. Sizes: keys
and bytes written (keys plus values) and etcd's database size after compaction and
defragmentation. Then 1,000 endpoint moves, one after another, each a full
`move_endpoint` (read, check, one transaction): median and 99th percentile.
`--quick` (or NVE_BENCH_QUICK=1) uses 10,000 endpoints and 200 moves.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench._p4sim import quick
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
from nve.validate import validate_overlay
from tests.fleet.etcd_server import etcd_binary, running_etcd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "two-tor-two-tenants.yaml"
TENANTS, SUBNETS_PER_TENANT, REMOTE_NVES, SWITCHES, PORTS = 10, 10, 500, 4, 8


def write_description(path: Path, endpoints: int) -> None:
    """SWITCHES ToRs, 100 subnets of 10 tenants, 500 remote NVEs; endpoints with an IPv4 CA
    each, one in ten on a ToR (port by subnet, tagged), the rest behind remote NVEs."""
    subnets = TENANTS * SUBNETS_PER_TENANT
    with path.open("w") as f:
        f.write("switches:\n")
        for s in range(SWITCHES):
            f.write(
                f"  - name: tor{s}\n    address: 127.0.0.1:{50100 + s}\n"
                "    pipeline: {program: nvgre_nve.p4}\n"
                f'    nve_mac: "02:00:0a:ff:00:{s:02x}"\n    local_pas: [10.255.0.{s + 1}]\n'
                "    ports:\n"
            )
            for p in range(1, PORTS + 1):
                f.write(f"      - {{port: {p}, role: access}}\n")
            f.write("      - {port: 32, role: network, mtu: 9000}\n")
        f.write("tenants:\n")
        for t in range(TENANTS):
            f.write(f"  - name: t{t}\n    vrf: {t + 1}\n    subnets:\n")
            for k in range(SUBNETS_PER_TENANT):
                s = t * SUBNETS_PER_TENANT + k
                f.write(
                    f"      - {{name: s{s}, vsid: 0x{0x010000 + s:06x}, gateway:"
                    f' {{mac: "02:00:00:00:{s // 256:02x}:{s % 256:02x}", ipv4: 10.{s}.0.1/16}}}}\n'
                )
        f.write("remote_nves:\n")
        for n in range(REMOTE_NVES):
            vsids = ", ".join(f"0x{0x010000 + s:06x}" for s in range(n % 5, subnets, 5))
            f.write(f"  - {{name: nve{n}, pa: 10.1.{n // 250}.{n % 250 + 1}, vsids: [{vsids}]}}\n")
        f.write("endpoints:\n")
        for e in range(endpoints):
            s = e % subnets
            host = e // subnets + 2
            if e % 10 == 0:
                att = (
                    f"{{switch: tor{(e // 10) % SWITCHES}, port: {1 + s % PORTS}, vlan: {100 + s}}}"
                )
            else:
                att = f"{{remote_nve: nve{5 * ((e // subnets) % 100) + s % 5}}}"
            mac = f"52:54:{e >> 24 & 255:02x}:{e >> 16 & 255:02x}:{e >> 8 & 255:02x}:{e & 255:02x}"
            f.write(
                f'  - {{name: ep{e}, vsid: 0x{0x010000 + s:06x}, mac: "{mac}",'
                f" ipv4: 10.{s}.{host // 250}.{host % 250 + 1}, attachment: {att}}}\n"
            )


async def measure_import(url: StoreUrl, path: Path) -> None:
    t0 = time.perf_counter()
    loaded = load_overlay(path)
    t1 = time.perf_counter()
    problems = validate_overlay(loaded.overlay)
    t2 = time.perf_counter()
    if problems:
        raise SystemExit(f"{path}: {problems[0]}")
    async with Etcd(url) as etcd:
        before = await _compacted_size(etcd)
        result = await import_overlay(etcd, url.prefix, loaded, validated=True)
        t3 = time.perf_counter()
        stored = await read_overlay(etcd, url.prefix)
        t4 = time.perf_counter()
        if stored.loaded.overlay != loaded.overlay:
            raise SystemExit("read back differs from the description")
        after = await _compacted_size(etcd)
    n = len(loaded.overlay.endpoints)
    print(
        f"{n:>7,} endpoints: load {t1 - t0:6.2f} s, validate {t2 - t1:5.2f} s, write"
        f" {t3 - t2:6.2f} s ({result.transactions:,} transactions, {result.keys / (t3 - t2):,.0f}"
        f" keys/s), read back {t4 - t3:5.2f} s"
    )
    print(
        f"{'':>17} {result.keys:,} keys, {result.bytes / 1e6:.2f} MB written; etcd database"
        f" +{(after - before) / 1e6:.1f} MB after compaction and defragmentation"
    )


async def _compacted_size(etcd: Etcd) -> int:
    await etcd.compact_and_defragment()
    return await etcd.db_size()


async def measure_moves(url: StoreUrl, moves: int) -> None:
    async with Etcd(url) as etcd:
        stored = await read_overlay(etcd, url.prefix)
        local = [
            e for e in stored.loaded.overlay.endpoints if isinstance(e.attachment, LocalAttachment)
        ][:50]
        seconds = []
        for i in range(moves):
            ep = local[i % len(local)]
            att = ep.attachment
            assert isinstance(att, LocalAttachment)
            # to the next switch and back, same port and tag
            sw = f"tor{(int(att.switch[3:]) + (1 + i // len(local)) % 2) % SWITCHES}"
            t0 = time.perf_counter()
            await move_endpoint(etcd, url.prefix, ep.name, att.model_copy(update={"switch": sw}))
            seconds.append(time.perf_counter() - t0)
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{moves:,} endpoint moves, one at a time: median {statistics.median(ms):.2f} ms,"
        f" p99 {p99:.2f} ms, max {ms[-1]:.2f} ms"
    )


def main() -> None:
    if etcd_binary() is None:
        print("skipped: etcd is not installed (Debian package etcd-server)")
        return
    endpoints = 10_000 if quick() else 100_000
    moves = 200 if quick() else 1_000
    with tempfile.TemporaryDirectory() as tmp, running_etcd() as server:
        big = Path(tmp) / "overlay.yaml"
        write_description(big, endpoints)
        print(f"etcd {server.url}; generated description {big.stat().st_size / 1e6:.1f} MB of YAML")
        asyncio.run(measure_import(StoreUrl.parse(server.url + "/example"), EXAMPLE))
        url = StoreUrl.parse(server.url + "/big")
        asyncio.run(measure_import(url, big))
        asyncio.run(measure_moves(url, moves))


if __name__ == "__main__":
    main()
