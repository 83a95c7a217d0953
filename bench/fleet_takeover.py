"""Fleet takeover: kill -9 of a replica to the new owner primary on its switch (target: lease TTL + 1 s).

A real etcd (one member on loopback) and two p4sim switches; per round, two replica
processes (`nve run --store … --replica NAME`, lease TTL `TTL_S`) share the switches under a prefix of
their own. Once both own and reconciled a switch, the owner of tor1 is killed with -9. The
figures: time from the kill to the switch telling a watching backup (election id 1, it
never bids) that the survivor is primary, with the survivor's derived election id; and
to the survivor logging the reconcile of tor1. etcd expires a lease between 2/3 TTL and
TTL after its last keep-alive (they are sent every TTL/3), so the expected takeover is
in that span plus the watch, the owner-key transaction, the connection and arbitration.
`--quick` (or NVE_BENCH_QUICK=1): 3 rounds, else 8; median and worst, per TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from functools import partial
from pathlib import Path

from bench._p4sim import quick
from nve.fleet.election import election_id
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer, etcd_binary, running_etcd
from tests.fleet.fleet_util import ReplicaProcess, observer, owners, until
from tests.support.p4sim import P4simProcess, compile_pipeline, write_overlay

TTLS_S = (2, 5)


def _reconciled(r: ReplicaProcess) -> bool:
    return "reconciled tor" in r.text()


def _logged_at(text: str, needle: str, after: int) -> float | None:
    """Unix time of the first log line past `after` that holds `needle`."""
    for line in text[after:].splitlines():
        if needle in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone()
            return stamp.timestamp()
    return None


async def _round(
    etcd: EtcdServer, overlay: Path, address: str, ttl: int, tmp: Path
) -> tuple[float, float]:
    store = f"{etcd.url}/b{secrets.token_hex(4)}"
    url = StoreUrl.parse(store)
    reps = {
        n: ReplicaProcess(overlay, store, n, tmp / f"{url.prefix[1:]}-{n}.log", ttl=ttl).start()
        for n in ("r1", "r2")
    }
    try:
        for r in reps.values():
            try:
                await until(partial(_reconciled, r), 120, f"{r.name} reconciling")
            except AssertionError as exc:
                raise RuntimeError(f"{exc}; its log:\n{r.text()[-3000:]}") from None
        held = await owners(url)
        victim = held["tor1"].replica
        survivor = reps["r2" if victim == "r1" else "r1"]
        watcher = await observer(address)
        try:
            await until(
                lambda: watcher.primary_election_id == election_id(0, held["tor1"].revision),
                what="victim primary",
            )
            mark = len(survivor.text())
            killed_wall, killed = time.time(), time.perf_counter()
            reps[victim].kill()
            old_id = election_id(0, held["tor1"].revision)
            while watcher.primary_election_id in (None, old_id):  # the switch's word, as it comes
                watcher.arbitration_changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.arbitration_changed.wait(), 0.01)
                if time.perf_counter() - killed > 60:
                    raise RuntimeError("no takeover within 60 s")
            primary_s = time.perf_counter() - killed
            now = (await owners(url))["tor1"]
            if now.replica != survivor.name or watcher.primary_election_id != election_id(
                0, now.revision
            ):
                raise RuntimeError(f"tor1: primary {watcher.primary_election_id}, owner {now}")
            await until(lambda: _logged_at(survivor.text(), "reconciled tor1", mark) is not None)
            reconciled = _logged_at(survivor.text(), "reconciled tor1", mark)
            assert reconciled is not None
            return primary_s, reconciled - killed_wall
        finally:
            await watcher.close()
    finally:
        for r in reps.values():
            r.stop()


def main() -> None:
    if etcd_binary() is None:
        print("  skipped: etcd is not installed (Debian package etcd-server)")
        return
    rounds = 3 if quick() else 8
    logging.getLogger("nve.fleet").setLevel(logging.ERROR)  # the watching backup's notes
    with tempfile.TemporaryDirectory() as tmp_name, running_etcd() as etcd:
        tmp = Path(tmp_name)
        pipeline = compile_pipeline(tmp / "pipeline")
        switches = [P4simProcess().start(tmp) for _ in range(2)]
        try:
            overlay = write_overlay(tmp / "overlay.yaml", switches, pipeline)
            for ttl in TTLS_S:
                got = [
                    asyncio.run(_round(etcd, overlay, switches[0].address, ttl, tmp))
                    for _ in range(rounds)
                ]
                primary = [g[0] for g in got]
                recon = [g[1] for g in got]
                print(
                    f"  lease TTL {ttl} s ({rounds} rounds): kill -9 -> new owner primary"
                    f" median {statistics.median(primary):.2f} s, worst {max(primary):.2f} s"
                    f" (target <= {ttl + 1} s: {'met' if max(primary) <= ttl + 1 else 'MISSED'});"
                    f" -> reconciled median {statistics.median(recon):.2f} s,"
                    f" worst {max(recon):.2f} s"
                )
        finally:
            for s in switches:
                s.stop()


if __name__ == "__main__":
    main()
