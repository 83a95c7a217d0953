"""`nve run --store`: p4sim switches get the overlay held in etcd, and its changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nve.entities import Exact, TableEntry
from nve.loader import load_overlay
from nve.model import LocalAttachment
from nve.p4names import Table
from nve.store.endpoints import add_endpoint, move_endpoint, remove_endpoint
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.store_util import endpoint
from tests.runtime.test_integration import WEB1, installed_of
from tests.support.nve_run import NveRun
from tests.support.p4sim import P4simProcess, PipelineFiles, write_overlay

WEB3 = 0x525400B10003


def _l2_macs(entities: list[object]) -> set[int]:
    out = set()
    for e in entities:
        if isinstance(e, TableEntry) and e.table == Table.L2_DMAC:
            m = dict(e.match)["mac"]
            assert isinstance(m, Exact)
            out.add(m.value)
    return out


async def _until_l2(address: str, p4info: Path, mac: int, present: bool) -> bool:
    """Liveness, not speed: poll the switch until the MAC's l2 entry is there (or gone)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while loop.time() < end:
        if (mac in _l2_macs(await installed_of(address, p4info))) == present:
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.mark.slow
def test_run_from_the_store_installs_and_follows_changes(
    tmp_path: Path, etcd: EtcdServer, switches: list[P4simProcess], pipeline: PipelineFiles
) -> None:
    url = StoreUrl.parse(etcd.url + "/run")
    loaded = load_overlay(write_overlay(tmp_path / "overlay.yaml", switches, pipeline))
    tor1 = switches[0].address

    async def store(work: str) -> None:
        async with Etcd(url) as client:
            if work == "import":
                await import_overlay(client, url.prefix, loaded)
            elif work == "add":
                web3 = endpoint(
                    name="web3",
                    vsid=0x001001,
                    mac="52:54:00:b1:00:03",
                    ipv4="192.168.10.13",
                    attachment={"switch": "tor1", "port": 2, "vlan": 50},
                )
                await add_endpoint(client, url.prefix, web3)
            elif work == "move":
                att = LocalAttachment(switch="tor2", port=1)
                await move_endpoint(client, url.prefix, "web3", att)
            else:
                await remove_endpoint(client, url.prefix, "web3")

    asyncio.run(store("import"))
    run = NveRun(tmp_path / "unused.yaml", tmp_path / "nve.log").start(60, store=str(url))
    try:
        run.wait_log("reconciled tor1", 60)
        run.wait_log("reconciled tor2", 60)
        assert WEB1 in _l2_macs(asyncio.run(installed_of(tor1, pipeline.p4info)))
        assert WEB3 not in _l2_macs(asyncio.run(installed_of(tor1, pipeline.p4info)))
        asyncio.run(store("add"))
        assert asyncio.run(_until_l2(tor1, pipeline.p4info, WEB3, present=True))
        asyncio.run(store("move"))  # now behind tor2: tor1 reaches it through the tunnel
        assert asyncio.run(_until_l2(switches[1].address, pipeline.p4info, WEB3, present=True))
        asyncio.run(store("remove"))
        assert asyncio.run(_until_l2(tor1, pipeline.p4info, WEB3, present=False))
        assert asyncio.run(_until_l2(switches[1].address, pipeline.p4info, WEB3, present=False))
    finally:
        run.stop()
    # Each change was applied incrementally: no full read of the store after the first.
    assert run.text().count("endpoint change(s)") >= 3, run.text()
    assert "reading the overlay whole" not in run.text()
