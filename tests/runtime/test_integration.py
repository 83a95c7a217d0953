"""The controller against real p4sim switches over real gRPC (no mocked switch)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

from nve.compile import LearnedEndpoint
from nve.controller import Controller
from nve.entities import Exact, TableEntry
from nve.events import EventHandler
from nve.loader import load_overlay
from nve.mac import Mac
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Digest, Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_installed
from tests.support.p4sim import write_overlay

NVE = str(Path(sys.executable).with_name("nve"))
WEB1 = 0x525400B10001


async def apply(path: Path, **kw):
    ctl = Controller(load_overlay(path), **kw)
    assert ctl.check() == []
    await ctl.connect()
    try:
        return ctl, await ctl.reconcile()
    finally:
        await ctl.close()


async def installed_of(address: str, p4info_path: Path, election: int = 1) -> list:
    """Read a switch with a separate, low-priority client (what an operator's tool would see)."""
    index = P4Index(load_p4info(p4info_path))
    async with SwitchClient(address, 0, election) as client:
        return await read_installed(client, index)


def l2_entry(entities, mac: int):
    found = [
        e
        for e in entities
        if isinstance(e, TableEntry)
        and e.table == Table.L2_DMAC
        and dict(e.match)["mac"] == Exact(mac)
    ]
    assert len(found) == 1, found
    return found[0]


def test_apply_installs_and_reapply_writes_nothing(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    _ctl, first = asyncio.run(apply(path))
    assert first.ok, first.failures
    assert first.writes > 50
    _ctl2, second = asyncio.run(apply(path))
    assert second.ok and second.writes == 0
    assert all(r.plan.empty for r in second.switches.values())
    # What a separate reader sees on tor1: web1 delivered on port 1, web2 through a tunnel to tor2's PA.
    tor1 = asyncio.run(installed_of(switches[0].address, pipeline.p4info))
    assert dict(l2_entry(tor1, WEB1).params) == {"port": 1}
    web2 = l2_entry(tor1, 0x525400B10002)
    tunnel = [
        e
        for e in tor1
        if isinstance(e, TableEntry)
        and e.table == Table.TUNNEL_REMOTE
        and dict(e.match)["tunnel"] == Exact(dict(web2.params)["tunnel"])
    ]
    assert dict(tunnel[0].params)["dst_pa"] == int(ipaddress.ip_address("10.0.0.2"))


def test_edit_changes_exactly_what_changed(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    asyncio.run(apply(path))

    def add_web3(d):
        d["endpoints"].append(
            {
                "name": "web3",
                "vsid": 0x001001,
                "mac": "52:54:00:b1:00:03",
                "ipv4": "192.168.10.13",
                "attachment": {"switch": "tor2", "port": 1},
            }
        )

    write_overlay(path, switches, pipeline, edit=add_web3)
    _, rep = asyncio.run(apply(path))
    assert rep.ok
    got = {
        n: sorted((c.op, c.entity.table) for c in r.plan.changes()) for n, r in rep.switches.items()
    }
    # tor2 hosts it: bridging, learning (known), ARP proxy, host route. tor1 reaches it through tor2.
    assert got["tor2"] == sorted(
        [
            ("insert", Table.L2_DMAC),
            ("insert", Table.LEARN_SMAC),
            ("insert", Table.ARP_PROXY),
            ("insert", Table.ROUTING_ROUTES_V4),
        ]
    )
    assert got["tor1"] == sorted(
        [
            ("insert", Table.L2_DMAC),
            ("insert", Table.ARP_PROXY),
            ("insert", Table.ROUTING_ROUTES_V4),
        ]
    )


def test_migration_is_make_before_break(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    asyncio.run(apply(path))

    def move_web1(d):
        web1 = next(e for e in d["endpoints"] if e["name"] == "web1")
        web1["attachment"] = {"switch": "tor2", "port": 2, "vlan": 100}

    write_overlay(path, switches, pipeline, edit=move_web1)
    ctl, rep = asyncio.run(apply(path))
    assert rep.ok, rep.failures

    def seq_of(switch, phase):
        recs = [
            r
            for r in ctl.journal.records
            if r.switch == switch
            and r.phase == phase
            and any(
                key[0] in ("insert", "modify")
                and key[1][1] == Table.L2_DMAC
                and ("mac", Exact(WEB1)) in key[1][2]
                for key in r.keys
            )
        ]
        assert len(recs) == 1, ctl.journal.records
        return recs[0].seq

    # new location (tor2 delivers locally) written before the old one (tor1) stops delivering
    assert seq_of("tor2", "make") < seq_of("tor1", "break")
    tor1 = asyncio.run(installed_of(switches[0].address, pipeline.p4info))
    tor2 = asyncio.run(installed_of(switches[1].address, pipeline.p4info))
    assert l2_entry(tor1, WEB1).action == Action.L2_TO_TUNNEL
    assert (l2_entry(tor2, WEB1).action, dict(l2_entry(tor2, WEB1).params)) == (
        Action.L2_TO_PORT,
        {"port": 2},
    )


def test_switch_restart_restores_state(tmp_path, switches, pipeline):
    from nve.runner import run_forever

    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)

    async def scenario():
        ctl = Controller(load_overlay(path))
        assert ctl.check() == []
        task = asyncio.create_task(run_forever(ctl, Namespace(metrics_port=0)))
        try:
            # Upper bounds only (a loaded CI machine reconnects and recompiles slowly).
            await wait_for(lambda: ctl.stats.reconciles >= 2, 120)
            before = await installed_of(switches[0].address, pipeline.p4info)
            switches[0].stop()
            switches[0].start(tmp_path)  # same address, empty switch without a pipeline
            await wait_for(
                lambda: (
                    ctl.sessions["tor1"].state.connects >= 2 and ctl.sessions["tor1"].state.primary
                ),
                120,
            )
            await wait_for(lambda: ctl.stats.reconciles >= 3, 120)
            after = await installed_of(switches[0].address, pipeline.p4info)
            return before, after, ctl.sessions["tor1"].state.pipeline_pushed
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    before, after, pushed = asyncio.run(scenario())
    assert len(before) > 20
    assert sorted(map(repr, after)) == sorted(map(repr, before))
    assert pushed == 2


async def wait_for(cond, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def test_lower_election_id_is_read_only(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline, election=10)
    low = write_overlay(
        tmp_path / "low.yaml", switches, pipeline, election=5, edit=lambda d: d["endpoints"].pop(0)
    )

    async def scenario():
        primary = Controller(load_overlay(path))
        assert primary.check() == []
        await primary.connect()
        try:
            await primary.reconcile()
            second = Controller(load_overlay(low))
            assert second.check() == []
            await second.connect()
            try:
                states = {n: s.state.primary for n, s in second.sessions.items()}
                report = await second.reconcile()
            finally:
                await second.close()
            cli = await asyncio.to_thread(
                subprocess.run, [NVE, "apply", str(low)], capture_output=True, text=True
            )
            return states, report, cli
        finally:
            await primary.close()

    states, report, cli = asyncio.run(scenario())
    assert states == {"tor1": False, "tor2": False}
    assert report.writes == 0
    assert all("read-only" in r.skipped for r in report.switches.values())
    assert cli.returncode == 2 and "read-only" in cli.stderr
    # the primary's state is untouched: web1 is still there
    assert (
        l2_entry(asyncio.run(installed_of(switches[0].address, pipeline.p4info)), WEB1).action
        == Action.L2_TO_PORT
    )


def test_learned_endpoint_installed_then_aged_out(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    mac = 0x525400999999

    async def scenario():
        ctl = Controller(load_overlay(path))
        assert ctl.check() == []
        await ctl.connect()
        try:
            await ctl.reconcile()
            # The digest the pipeline sends for an unknown source MAC on an access port (pipeline.md).
            from finsy.proto import p4d, p4r

            session = ctl.sessions["tor1"]
            digest_id = session.index.digest(Digest.MAC_LEARN_DIGEST).id
            data = p4d.P4Data(
                struct=p4d.P4StructLike(
                    members=[
                        p4d.P4Data(bitstring=(0x001001).to_bytes(3, "big")),
                        p4d.P4Data(bitstring=mac.to_bytes(6, "big")),
                        p4d.P4Data(bitstring=(2).to_bytes(1, "big")),
                    ]
                )
            )
            learned_asks = []
            await EventHandler(ctl, lambda: learned_asks.append(1)).on_digest(
                session, p4r.DigestList(digest_id=digest_id, list_id=1, data=[data])
            )
            assert learned_asks == [1]
            assert list(ctl.learned.values()) == [
                LearnedEndpoint("tor1", 0x001001, Mac("52:54:00:99:99:99"), 2)
            ]
            rep = await ctl.reconcile()
            tor1 = await read_installed(ctl.sessions["tor1"].client, ctl.sessions["tor1"].index)
            smac = [
                e
                for e in tor1
                if isinstance(e, TableEntry)
                and e.table == Table.LEARN_SMAC
                and dict(e.match)["mac"] == Exact(mac)
            ]
            # The switch reports the entry idle: the controller forgets it and removes it everywhere.
            from finsy.proto import p4r

            from nve.codec import encode

            note = p4r.IdleTimeoutNotification(
                table_entry=[encode(smac[0], ctl.sessions["tor1"].index).table_entry]
            )
            asked = []
            EventHandler(ctl, lambda: asked.append(1)).on_idle_timeout(ctl.sessions["tor1"], note)
            rep2 = await ctl.reconcile()
            tor1_after = await read_installed(
                ctl.sessions["tor1"].client, ctl.sessions["tor1"].index
            )
            tor2_after = await read_installed(
                ctl.sessions["tor2"].client, ctl.sessions["tor2"].index
            )
            return rep, smac, tor1, asked, rep2, tor1_after, tor2_after
        finally:
            await ctl.close()

    rep, smac, tor1, asked, rep2, tor1_after, tor2_after = asyncio.run(scenario())
    assert rep.ok and len(smac) == 1
    assert smac[0].idle_timeout_ns == 300 * 10**9
    assert dict(l2_entry(tor1, mac).params) == {"port": 2}
    assert asked == [1]
    assert rep2.ok and rep2.switches["tor1"].plan.counts()["delete"] == 2  # dmac + smac
    assert not [
        e
        for e in tor1_after + tor2_after
        if isinstance(e, TableEntry) and dict(e.match).get("mac") == Exact(mac)
    ]


def test_invalid_description_writes_nothing(tmp_path, switches, pipeline):
    path = write_overlay(
        tmp_path / "o.yaml",
        switches,
        pipeline,
        edit=lambda d: d["tenants"][0]["subnets"][1].update(vsid=0x800),
    )
    cli = subprocess.run([NVE, "apply", str(path)], capture_output=True, check=False, text=True)
    assert cli.returncode == 1
    assert "tenants[0].subnets[1].vsid: 0x000800 is reserved (RFC 7637 §3.4)" in cli.stderr
    assert cli.stderr.startswith(f"{path}:")

    async def has_pipeline():
        async with SwitchClient(switches[0].address, 0, 1) as c:
            return await c.get_pipeline(with_p4info=False)

    assert asyncio.run(has_pipeline()) is None


def test_cli_apply_dry_run_and_show(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    dry = subprocess.run(
        [NVE, "apply", "--dry-run", str(path)], capture_output=True, check=False, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "insert" in dry.stdout and "NveIngress.l2.dmac" in dry.stdout
    real = subprocess.run([NVE, "apply", str(path)], capture_output=True, check=False, text=True)
    assert real.returncode == 0, real.stderr
    again = subprocess.run([NVE, "apply", str(path)], capture_output=True, check=False, text=True)
    assert "tor1: 0 insert, 0 modify, 0 delete; 0 written" in again.stdout
    show = subprocess.run([NVE, "show", str(path)], capture_output=True, check=False, text=True)
    assert show.returncode == 0 and "0 differences" in show.stdout
    stats = subprocess.run(
        [NVE, "stats", "--json", str(path)], capture_output=True, check=False, text=True
    )
    assert stats.returncode == 0, stats.stderr
    assert "0x001001" in stats.stdout
    assert json.loads(stats.stdout)["tor1"]["bytes"] == "customer frame"  # pipeline 3.7.0
