"""The fleet when parts of it die: a three-member etcd cluster losing the member the
controller talks to, and a replica killed with -9 while endpoints keep moving.

- `nve run --store etcd://A,B,C` is connected to A; A is killed: writes continue through
  the other members and the controller follows them (it reconnects to the next member
  and reads the store whole, then goes on incrementally).
- Two replicas share two switches while a client moves an endpoint back and forth every
  50 ms; the owner of tor1 is killed with -9 mid-churn: the survivor takes tor1 over;
  once the churn stops, a fresh controller that reads both switches whole finds nothing
  to change (no entry lost, none stale). Timings are only "happens" here; the bench
  measures them.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import partial
from pathlib import Path

import pytest

from nve.controller import Controller
from nve.loader import LoadedOverlay, load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import add_endpoint, move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer, etcd_binary, running_etcd_cluster
from tests.fleet.fleet_util import ReplicaProcess, owners, until
from tests.fleet.store_util import endpoint
from tests.fleet.test_store_run import WEB3, _until_l2
from tests.support.nve_run import NveRun
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay

pytestmark = pytest.mark.slow
WEB3_EP = {
    "name": "web3",
    "vsid": 0x001001,
    "mac": "52:54:00:b1:00:03",
    "ipv4": "192.168.10.13",
    "attachment": {"switch": "tor1", "port": 2, "vlan": 50},
}
SIDES = (LocalAttachment(switch="tor1", port=2, vlan=50), LocalAttachment(switch="tor2", port=1))


def test_writes_and_the_controller_go_on_when_the_member_it_uses_dies(
    tmp_path: Path, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    if etcd_binary() is None:
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    loaded = load_overlay(write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    with running_etcd_cluster(3) as cluster:
        url = StoreUrl.parse(f"{cluster.url}/c{secrets.token_hex(4)}")
        asyncio.run(_import(url, loaded))
        run = NveRun(tmp_path / "unused.yaml", tmp_path / "nve.log").start(60, store=str(url))
        try:
            run.wait_log("reconciled tor1", 60)
            run.wait_log("reconciled tor2", 60)
            cluster.members[0].kill()  # the member nve (and everyone) connected to first
            # Writes continue: the client finds the next member.
            asyncio.run(_add(url))
            assert asyncio.run(_until_l2(switches[0].address, pipeline.p4info, WEB3, True))
        finally:
            run.stop()
        assert "following again" in run.text(), run.text()[-3000:]  # it did lose A


def test_a_replica_killed_mid_churn_leaves_both_switches_as_the_store_says(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    loaded = load_overlay(write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    url = StoreUrl.parse(f"{etcd.url}/k{secrets.token_hex(4)}")
    reps = {n: ReplicaProcess(None, str(url), n, tmp_path / f"{n}.log") for n in ("r1", "r2")}

    async def scenario() -> None:
        await _import(url, loaded)
        await _add(url)
        for r in reps.values():
            r.start()

        async def shared() -> bool:
            return sorted(o.replica for o in (await owners(url)).values()) == ["r1", "r2"]

        await until(shared, 60, "one switch each")
        for r in reps.values():
            await until(partial(_reconciling, r), 60, f"{r.name} reconciling")
        victim = (await owners(url))["tor1"].replica
        survivor = "r2" if victim == "r1" else "r1"
        stop = asyncio.Event()
        churn = asyncio.create_task(_churn(url, stop))
        await asyncio.sleep(1.0)
        reps[victim].kill()

        async def taken() -> bool:
            now = (await owners(url)).get("tor1")
            return now is not None and now.replica == survivor

        await until(taken, 30, f"{survivor} owning tor1")
        await asyncio.sleep(1.0)  # churn goes on under the new owner
        stop.set()
        moves = await churn
        assert moves > 10
        await asyncio.sleep(2.0)  # the last moves land

    try:
        asyncio.run(scenario())
        final = asyncio.run(_stored(url))
    finally:
        for r in reps.values():
            r.stop()
    assert asyncio.run(_fresh_plan(final, switches)) == {"tor1": 0, "tor2": 0}


def _reconciling(r: ReplicaProcess) -> bool:
    return "reconciled tor" in r.text()


async def _import(url: StoreUrl, loaded: LoadedOverlay) -> None:
    async with Etcd(url) as etcd:
        await import_overlay(etcd, url.prefix, loaded)


async def _add(url: StoreUrl) -> None:
    async with Etcd(url) as etcd:
        await add_endpoint(etcd, url.prefix, endpoint(**WEB3_EP))


async def _churn(url: StoreUrl, stop: asyncio.Event) -> int:
    moves = 0
    async with Etcd(url) as etcd:
        while not stop.is_set():
            await move_endpoint(etcd, url.prefix, "web3", SIDES[(moves + 1) % 2])
            moves += 1
            await asyncio.sleep(0.05)
    return moves


async def _stored(url: StoreUrl) -> LoadedOverlay:
    async with Etcd(url) as etcd:
        return (await read_overlay(etcd, url.prefix)).loaded


async def _fresh_plan(stored: LoadedOverlay, switches: list[P4simProcess]) -> dict[str, int]:
    """Changes a controller that reads both switches whole would make (none: converged)."""
    ctl = Controller(stored)
    ctl.load_pipelines()
    await ctl.connect()  # the replicas have stopped; reading needs no primary role anyway
    try:
        report = await ctl.reconcile(dry_run=True)
    finally:
        await ctl.close()
    return {n: len(r.plan.changes()) for n, r in report.switches.items()}
