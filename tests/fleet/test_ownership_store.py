"""Replicas that read the overlay from the store and follow it: each owner applies a
stored endpoint change to the switch it owns; a reload re-spreads the switches."""

from __future__ import annotations

import asyncio
import secrets
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from lab.targets import free_tcp_port
from nve.controller import Controller
from nve.fleet.replica import FleetReplica
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.store.endpoints import add_endpoint, move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import ReplicaProcess, owners, until
from tests.fleet.store_util import endpoint
from tests.fleet.test_store_run import WEB3, _until_l2
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay

pytestmark = pytest.mark.slow


def _reconciled(r: ReplicaProcess) -> bool:
    return "reconciled tor" in r.text()


def test_replicas_follow_the_store_and_each_owner_applies_changes(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")
    loaded = load_overlay(write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    reps = [ReplicaProcess(None, str(url), n, tmp_path / f"{n}.log") for n in ("r1", "r2")]

    async def scenario() -> None:
        async with Etcd(url) as client:
            await import_overlay(client, url.prefix, loaded)
        for r in reps:
            r.start()

        async def shared() -> bool:
            return sorted(o.replica for o in (await owners(url)).values()) == ["r1", "r2"]

        await until(shared, 60, "one switch each")
        for r in reps:
            await until(partial(_reconciled, r), 60, f"{r.name} reconciling")
        async with Etcd(url) as client:
            web3 = endpoint(
                name="web3",
                vsid=0x001001,
                mac="52:54:00:b1:00:03",
                ipv4="192.168.10.13",
                attachment={"switch": "tor1", "port": 2, "vlan": 50},
            )
            await add_endpoint(client, url.prefix, web3)
            assert await _until_l2(switches[0].address, pipeline.p4info, WEB3, present=True)
            await move_endpoint(client, url.prefix, "web3", LocalAttachment(switch="tor2", port=1))
            assert await _until_l2(switches[1].address, pipeline.p4info, WEB3, present=True)

    try:
        asyncio.run(scenario())
    finally:
        for r in reps:
            assert r.stop() == 0, r.text()[-2000:]


def test_a_reload_without_a_switch_gives_it_up_and_keeps_the_others(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")
    both = write_overlay(tmp_path / "both.yaml", switches, pipeline)

    def without_tor2(data: dict[str, Any]) -> None:
        data["switches"] = [s for s in data["switches"] if s["name"] != "tor2"]
        data["endpoints"] = [
            e for e in data["endpoints"] if e["attachment"].get("switch") != "tor2"
        ]

    one = write_overlay(tmp_path / "one.yaml", switches, pipeline, edit=without_tor2)
    ctl = Controller(load_overlay(both))
    assert ctl.check() == []
    replica = FleetReplica(ctl, url, "r1", ttl_s=2)
    reload = asyncio.Event()

    async def follow(c: Controller, dirty: asyncio.Event) -> None:
        await reload.wait()
        c.reload(load_overlay(one))
        dirty.set()

    async def scenario() -> None:
        task = asyncio.create_task(replica.run(follow))
        try:
            await until(
                lambda: all(s in ctl.states for s in ("tor1", "tor2")), 60, "both reconciled"
            )
            reload.set()
            await until(lambda: set(ctl.sessions) == {"tor1"}, 30, "tor2 given up")
            assert set(replica.manager.owned) == {"tor1"}
            assert set(await owners(url)) == {"tor1"}
            assert ctl.sessions["tor1"].state.primary
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())


def test_a_replica_serves_its_metrics_ownership_and_the_switches_counters(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")
    loaded = load_overlay(write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    port = free_tcp_port()
    rep = ReplicaProcess(None, str(url), "r1", tmp_path / "r1.log", metrics_port=port)

    def scrape() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                return str(r.read().decode())
        except OSError:
            return ""

    async def scenario() -> None:
        async with Etcd(url) as client:
            await import_overlay(client, url.prefix, loaded)
        rep.start()
        await until(partial(_reconciled, rep), 60, "r1 reconciling")
        owned = {f'nve_fleet_owned{{replica="r1",switch="{s}"}} 1.0' for s in ("tor1", "tor2")}
        await until(lambda: owned <= set(scrape().splitlines()), 30, "ownership in the metrics")
        primary = {f'nve_switch_primary{{switch="{s}"}} 1.0' for s in ("tor1", "tor2")}
        await until(lambda: primary <= set(scrape().splitlines()), 30, "primary on both")
        # The counter poll (every 5 s) reads the owned switches' counters: a sample per
        # configured VSID of each switch.
        await until(
            lambda: (
                'nve_vsid_packets_total{direction="encap",switch="tor1",vsid="0x001001"}'
                in scrape()
            ),
            30,
            "tor1's VSID counters in the metrics",
        )

    try:
        asyncio.run(scenario())
    finally:
        assert rep.stop() == 0, rep.text()[-2000:]
