"""Replica processes (`nve run --store … --replica NAME`) on real etcd and real p4sim switches: a
second replica takes its share, a replica killed with -9 has its switch taken over and
reconciled by the other with no entry lost, and a replica asked to stop frees its keys."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from nve import contract as C
from nve.controller import Controller
from nve.fleet.election import election_id
from nve.loader import load_overlay
from nve.p4info import P4Index
from nve.reconcile import read_installed
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import ReplicaProcess, observer, owners, until
from tests.support.p4sim import write_overlay

pytestmark = pytest.mark.slow


def test_a_killed_replicas_switch_is_taken_over_and_reconciled_with_no_entry_lost(
    etcd: EtcdServer, switches, pipeline, tmp_path
) -> None:
    overlay = write_overlay(tmp_path / "overlay.yaml", switches, pipeline)
    ctl = Controller(load_overlay(overlay))
    ctl.load_pipelines()
    index = P4Index(ctl.pipelines["tor1"].p4info)
    address = {"tor1": switches[0].address, "tor2": switches[1].address}
    store = f"{etcd.url}/t{secrets.token_hex(4)}"
    url = StoreUrl.parse(store)
    replicas = {
        n: ReplicaProcess(overlay, store, n, tmp_path / f"{n}.log", ttl=2) for n in ("r1", "r2")
    }

    async def scenario() -> None:
        replicas["r1"].start()
        await until(
            lambda: (
                "reconciled tor1,tor2" in replicas["r1"].text()
                or replicas["r1"].text().count("reconciled tor") >= 2
            ),
            what="r1 reconciling both switches",
        )
        replicas["r2"].start()  # joins: takes one switch from r1

        async def shared() -> bool:
            held = await owners(url)
            return sorted(o.replica for o in held.values()) == ["r1", "r2"]

        await until(shared, what="one switch each")
        await until(lambda: "reconciled tor" in replicas["r2"].text(), what="r2 reconciling")
        held = await owners(url)
        victim = held["tor1"].replica
        survivor = "r2" if victim == "r1" else "r1"
        watcher = await observer(address["tor1"])
        try:
            await until(
                lambda: watcher.primary_election_id == election_id(0, held["tor1"].revision),
                what="the victim primary on tor1",
            )
            before = sorted(map(repr, await read_installed(watcher, index, C.TIERS)))
            assert before  # the description's entries are there
            mark = len(replicas[survivor].text())

            replicas[victim].kill()

            async def taken() -> bool:
                now = (await owners(url)).get("tor1")
                return now is not None and now.replica == survivor

            await until(taken, what=f"{survivor} owning tor1")
            new = (await owners(url))["tor1"]
            new_id = election_id(0, new.revision)
            assert new.revision > held["tor1"].revision
            await until(lambda: watcher.primary_election_id == new_id, what="new owner primary")
            await until(
                lambda: (
                    "tor1"
                    in "".join(
                        line
                        for line in replicas[survivor].text()[mark:].splitlines()
                        if "reconciled " in line
                    )
                ),
                what=f"{survivor} reconciling tor1",
            )
            after = sorted(map(repr, await read_installed(watcher, index, C.TIERS)))
            assert after == before
        finally:
            await watcher.close()
        assert replicas[survivor].stop() == 0  # asked to stop: leaves, frees its keys at once
        assert await owners(url) == {}

    try:
        asyncio.run(scenario())
    finally:
        for r in replicas.values():
            r.stop()
