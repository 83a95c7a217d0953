"""A switch that stops answering (its connection open, nothing answered: SIGSTOP) does
not stop `nve run --store` from applying later endpoint changes to the other switches;
once it answers again it converges (docs/controller.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from nve.entities import Exact, TableEntry
from nve.loader import load_overlay
from nve.model import LocalAttachment, Overlay
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_installed
from nve.store.endpoints import move_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.reader import read_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.support.nve_run import NveRun
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay
from tests.support.planned import planned_changes

pytestmark = pytest.mark.slow


DB1 = 0x525400B20001


async def _port_of(address: str, pipeline: PipelineFiles, mac: int) -> int | None:
    """The access port a switch sends `mac` to (None: not to a port), as read by a
    separate read-only client."""
    index = P4Index(load_p4info(pipeline.p4info))
    async with SwitchClient(address, 0, 1) as client:
        entities = await read_installed(client, index)
    for e in entities:
        if (
            isinstance(e, TableEntry)
            and e.table == Table.L2_DMAC
            and dict(e.match)["mac"] == Exact(mac)
            and e.action == Action.L2_TO_PORT
        ):
            return int(dict(e.params)["port"])
    return None


def test_a_hung_switch_does_not_hold_back_changes_to_the_others(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(etcd.url + "/hung")
    path = write_overlay(tmp_path / "overlay.yaml", switches, pipeline)
    tor2 = switches[1].proc
    assert tor2 is not None

    async def move(name: str, att: LocalAttachment) -> None:
        async with Etcd(url) as client:
            await move_endpoint(client, url.prefix, name, att)

    async def stored() -> Overlay:
        async with Etcd(url) as client:
            return (await read_overlay(client, url.prefix)).loaded.overlay

    async def body() -> None:
        async with Etcd(url) as client:
            await import_overlay(client, url.prefix, load_overlay(path))
        run = NveRun(path, tmp_path / "nve.log").start(60, store=str(url))
        try:
            run.wait_log("reconciled tor1", 60)
            run.wait_log("reconciled tor2", 60)
            os.kill(tor2.pid, signal.SIGSTOP)
            try:
                # web1 to tor2: tor2's patch is never answered (its Write times out)
                await move("web1", LocalAttachment(switch="tor2", port=1))
                # then db1 (a VSID tor2 does not carry) to tor1's other port: tor1 only
                assert await _port_of(switches[0].address, pipeline, DB1) == 1
                await move("db1", LocalAttachment(switch="tor1", port=2, vlan=200))
                # written while tor2 is still stopped: the follower would otherwise wait
                # on tor2's Write for ever
                end = time.monotonic() + 60
                while await _port_of(switches[0].address, pipeline, DB1) != 2:
                    assert time.monotonic() < end, "db1's move never reached tor1"
                    await asyncio.sleep(0.2)
                assert tor2.poll() is None
            finally:
                os.kill(tor2.pid, signal.SIGCONT)
            # tor2 answers again: its reconcile, asked in the background, completes and
            # a fresh controller finds both switches as the store says
            end = time.monotonic() + 120
            while (counts := await planned_changes(path, await stored())) != {"tor1": 0, "tor2": 0}:
                assert time.monotonic() < end, f"not converged: {counts}"
                await asyncio.sleep(1.0)
        finally:
            run.stop()

    asyncio.run(body())
