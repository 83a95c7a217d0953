"""Fencing by election id on real p4sim switches, with real etcd: a replica cut off from
etcd keeps writing, yet once the new owner's first Write is applied no Write of a lower
election id is (p4sim's write log, in the switch's own order); a replica killed with -9
has its switches taken over and reconciled by the others with no entry lost."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import grpc
import pytest
from finsy.proto import p4r, p4r_grpc, rpc_code

from nve.controller import Controller
from nve.fleet.election import split
from nve.fleet.fenced import FencedClient
from nve.fleet.ownership import OwnershipManager
from nve.fleet.replica import FleetReplica
from nve.loader import load_overlay
from nve.p4rt_client import SwitchClient, _uint128
from nve.pipeline import PipelineArtifacts
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import (
    TcpProxy,
    fenced_after,
    owners,
    until,
    write_log,
)
from tests.support.p4sim import P4simProcess, write_overlay

pytestmark = pytest.mark.slow
SWITCHES = ["tor1", "tor2"]


def _log_of(switch: P4simProcess) -> Path:
    return Path(switch.target_args[1])


def _group(group_id: int) -> p4r.Update:
    entry = p4r.MulticastGroupEntry(
        multicast_group_id=group_id, replicas=[p4r.Replica(egress_port=1, instance=0)]
    )
    return p4r.Update(
        type=p4r.Update.INSERT,
        entity=p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=entry
            )
        ),
    )


async def _raw_write(address: str, eid: int, update: p4r.Update) -> grpc.StatusCode:
    """A Write sent whatever the sender believes (its own channel, no local check)."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await p4r_grpc.P4RuntimeStub(channel).Write(
                p4r.WriteRequest(device_id=0, election_id=_uint128(eid), updates=[update])
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def _refused_since(outcomes: list[grpc.StatusCode], n: int) -> bool:
    return grpc.StatusCode.PERMISSION_DENIED in outcomes[n:]


def _artifacts(ctl: Controller, name: str) -> PipelineArtifacts:
    if not ctl.pipelines:
        ctl.load_pipelines()
    return ctl.pipelines[name]


def _controller(path: Path) -> Controller:
    ctl = Controller(load_overlay(path))
    assert ctl.check() == []
    return ctl


def _url(etcd: EtcdServer, port: int | None = None) -> StoreUrl:
    return StoreUrl.parse(f"etcd://127.0.0.1:{port or etcd.port}/t{secrets.token_hex(4)}")


# -- the write log and the switch's check alone ------------------------------------------------
def test_the_write_log_keeps_each_write_with_its_id_and_the_old_primary_is_refused(
    switches, pipeline, tmp_path
) -> None:
    ctl = _controller(write_overlay(tmp_path / "o.yaml", switches, pipeline))
    art = _artifacts(ctl, "tor1")
    sw = switches[0]

    async def scenario() -> None:
        old = SwitchClient(sw.address, 0, 10, name="old")
        await old.open()
        await old.set_pipeline(art.p4info, art.device_config, art.cookie)
        assert (await old.write([_group(1)])).ok
        new = FencedClient(sw.address, 0, 20, name="new")
        await new.open()
        assert new.is_primary
        assert (await new.write([_group(2)])).ok
        assert await _raw_write(sw.address, 10, _group(3)) == grpc.StatusCode.PERMISSION_DENIED
        await new.close()
        await old.close()

    asyncio.run(scenario())
    log = write_log(_log_of(sw))
    assert [(r["kind"], r["election_id"], r["accepted"]) for r in log] == [
        ("pipeline", "10", True),
        ("write", "10", True),
        ("write", "20", True),
        ("write", "10", False),
    ]
    assert log[3]["refused"] == "PERMISSION_DENIED: not primary"
    assert [r["seq"] for r in log] == [1, 2, 3, 4] and log[1]["updates"] == 1
    assert fenced_after(log, 20) == (3, [])


def test_a_fenced_client_never_bids_above_a_newer_owner_but_retakes_a_restarted_switch(
    switches, pipeline, tmp_path
) -> None:
    """Where nve.takeover would bid above the highest id seen, an owner's client does not:
    a stale owner must not out-bid the newer one that came and went."""
    sw = switches[0]

    async def scenario() -> None:
        stale = FencedClient(sw.address, 0, 5, name="stale")
        await stale.open()
        assert stale.is_primary
        newer = FencedClient(sw.address, 0, 9, name="newer")
        await newer.open()
        await until(lambda: not stale.is_primary, what="the stale owner told it lost")
        await newer.close()  # no primary now; the highest id seen is 9
        await until(lambda: stale.arbitration_status == rpc_code.NOT_FOUND, what="no primary")
        await asyncio.sleep(1.5)  # longer than any nve.takeover turn
        assert not stale.is_primary and stale.arbitrations_sent == 1
        await stale.close()
        sw.stop()  # the switch restarts: it has seen no id, ours is the highest again
        sw.start(tmp_path)
        again = FencedClient(sw.address, 0, 5, name="owner")
        assert await again.open()
        await again.close()

    asyncio.run(scenario())


# -- a replica cut off from etcd keeps writing: the switch fences it ----------------------------
@dataclass
class StaleOwner:
    """A replica that never learns it lost its switches (paused, or its release never runs):
    on acquiring a switch it becomes primary and then writes forever with that id."""

    addresses: dict[str, str]
    art: PipelineArtifacts
    ids: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, list[grpc.StatusCode]] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    clients: list[SwitchClient] = field(default_factory=list)
    groups: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def acquire(self, switch: str, eid: int) -> None:
        self.ids[switch] = eid
        client = FencedClient(self.addresses[switch], 0, eid, name=f"stale-{switch}")
        await client.open()
        await client.set_pipeline(self.art.p4info, self.art.device_config, self.art.cookie)
        self.clients.append(client)
        self.outcomes[switch] = []
        self.tasks.append(asyncio.create_task(self._write_forever(switch, eid)))

    async def release(self, switch: str) -> None:
        return None  # never heard

    async def _write_forever(self, switch: str, eid: int) -> None:
        while True:
            code = await _raw_write(self.addresses[switch], eid, _group(next(self.groups)))
            self.outcomes[switch].append(code)
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for c in self.clients:
            await c.close()


def test_a_replica_cut_off_from_etcd_is_fenced_by_the_new_owners_election_id(
    etcd: EtcdServer, switches, pipeline, tmp_path
) -> None:
    ctl = _controller(write_overlay(tmp_path / "o.yaml", switches, pipeline))
    addresses = {"tor1": switches[0].address, "tor2": switches[1].address}

    async def scenario() -> None:
        proxy = await TcpProxy("127.0.0.1", etcd.port).start()
        direct = _url(etcd)
        via_proxy = StoreUrl(direct.host, proxy.port, direct.prefix)
        stale = StaleOwner(addresses, _artifacts(ctl, "tor1"))
        a = OwnershipManager(via_proxy, "a", SWITCHES, stale.acquire, stale.release, ttl_s=2)
        a_task = asyncio.create_task(a.run())
        b = FleetReplica(ctl, direct, "b", ttl_s=2)
        b_task: asyncio.Task[None] | None = None
        new_ids: dict[str, int] = {}
        try:
            await until(
                lambda: all(
                    stale.outcomes.get(s, [])[-1:] == [grpc.StatusCode.OK] for s in SWITCHES
                ),
                what="the first owner writing to both switches",
            )
            await proxy.cut()  # a still talks to its switches, no longer to etcd
            b_task = asyncio.create_task(b.run())
            await until(
                lambda: all(
                    s in b.manager.owned and ctl.sessions[s].state.primary and s in ctl.states
                    for s in SWITCHES
                ),
                what="b owning, primary on and reconciled both switches",
            )
            held = await owners(direct)
            for s in SWITCHES:  # b's ids: epoch 0, the revision its owner key was created at
                new_ids[s] = b.manager.election_id(s)
                assert held[s].replica == "b" and split(new_ids[s]) == (0, held[s].revision)
            for s in SWITCHES:  # the stale owner's writes go on, and are refused
                seen = stale.outcomes[s]
                n = len(seen)
                await until(partial(_refused_since, seen, n), what=f"a stale write refused on {s}")
                view = await ctl.show(s)
                assert not view.plan.changes(), f"{s} differs from the description"
            # a notices in the end (within a TTL and a check-in of its last refresh, which
            # can be later than b's takeover) and cannot rejoin
            await until(lambda: a.stats.leases_lost >= 1, what="a noticing its lease is lost")
        finally:
            await stale.close()
            if b_task is not None:
                b_task.cancel()
                await asyncio.gather(b_task, return_exceptions=True)
            a_task.cancel()
            await asyncio.gather(a_task, return_exceptions=True)
            await proxy.cut()
        for s, sw in zip(SWITCHES, switches):
            log = write_log(_log_of(sw))
            old_id, new_id = stale.ids[s], new_ids[s]
            assert new_id > old_id
            first, late = fenced_after(log, new_id)
            assert late == [], f"{s}: a lower election id was accepted after the new owner's first"
            refused = [r for r in log if int(str(r["seq"])) > first and not r["accepted"]]
            assert refused and {r["election_id"] for r in refused} == {str(old_id)}
            assert {r["election_id"] for r in log if r["accepted"]} == {str(old_id), str(new_id)}

    asyncio.run(scenario())
