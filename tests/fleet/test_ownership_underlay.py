"""Control-plane hosts follow ownership: the replica that owns a switch with `underlay:`
runs its host (the kernel that answers ARP and ICMP for the switch's addresses through
the switch), the one that gives it up stops it, and a replica killed with -9 has its
hosts taken over with its switches.

Two p4sim switches, each with a network port (a veth) to a "spine" namespace of its own;
replica processes on a real etcd. A spine reaches its switch's port address only through
the owner's host: its ARP request and echo request are punted by the switch, relayed to
the host's TAP by the owner, and the kernel's answers sent back by packet-out. The TAP
takes one reader at a time, so a new owner on this machine starts the host only if the
old owner stopped it.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from lab.targets import RunningSwitch, compile_pipeline, start_switch
from nve.loader import load_overlay
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import ReplicaProcess, owners, until
from tests.support.shell import sh

pytestmark = [pytest.mark.root, pytest.mark.slow]

NET_PORT = 3


@dataclass
class Tor:
    name: str
    switch: RunningSwitch
    spine: str  # the spine's namespace
    port_address: str  # the switch's network-port address, as the spine reaches it
    host_ns: str


@pytest.fixture
def tors(tmp_path: Path) -> Iterator[list[Tor]]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    pipeline = compile_pipeline("p4sim", tmp_path / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net1, LabNetwork() as net2:
        out: list[Tor] = []
        try:
            for i, net in enumerate((net1, net2), start=1):
                spine = net.namespace("spine")
                host = net.namespace("host")  # the lab removes it; the replicas reuse it
                pair = net.veth_pair(NET_PORT, test_ns=spine)
                sh("ip", "addr", "add", f"10.1.{i}.2/29", "dev", pair.test_if, ns=spine)
                switch = start_switch("p4sim", [pair], pipeline, tmp_path / f"logs{i}")
                out.append(Tor(f"tor{i}", switch, spine, f"10.1.{i}.1", host))
            overlay = {
                "switches": [
                    {
                        "name": t.name,
                        "address": t.switch.grpc_addr,
                        "pipeline": {
                            "p4info": str(pipeline.p4info),
                            "device_config": str(pipeline.device_config),
                        },
                        "election_id": 10,
                        "nve_mac": f"02:00:0a:00:00:0{i}",
                        "local_pas": [f"10.0.0.{i}"],
                        "underlay": {"namespace": t.host_ns},
                        "ports": [
                            {"port": 1, "role": "access"},
                            {
                                "port": NET_PORT,
                                "role": "network",
                                "addresses": [f"{t.port_address}/29"],
                            },
                        ],
                    }
                    for i, t in enumerate(out, start=1)
                ]
            }
            (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
            yield out
        finally:
            for t in out:
                t.switch.stop()


def answers(tor: Tor) -> bool:
    """The spine's ping to the port address is answered (ARP resolved afresh first)."""
    sh("ip", "neigh", "flush", "all", ns=tor.spine, check=False)
    done = subprocess.run(
        ["ip", "netns", "exec", tor.spine, "ping", "-c", "1", "-W", "1", tor.port_address],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


async def answered(tor: Tor, what: str) -> None:
    await until(lambda: answers(tor), 60, what)


def test_the_owner_runs_the_host_gives_it_up_with_the_switch_and_a_survivor_takes_it(
    tmp_path: Path, etcd: EtcdServer, tors: list[Tor]
) -> None:
    url = StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")
    loaded = load_overlay(tmp_path / "overlay.yaml")
    r1 = ReplicaProcess(None, str(url), "r1", tmp_path / "r1.log")
    r2 = ReplicaProcess(None, str(url), "r2", tmp_path / "r2.log")

    async def held() -> dict[str, str]:
        return {s: o.replica for s, o in (await owners(url)).items()}

    async def scenario() -> None:
        async with Etcd(url) as client:
            await import_overlay(client, url.prefix, loaded)
        r1.start()

        async def r1_has_both() -> bool:
            return await held() == {"tor1": "r1", "tor2": "r1"}

        await until(r1_has_both, 60, "r1 owning both switches")
        for t in tors:
            await answered(t, f"{t.name}'s port address answered through r1")

        r2.start()  # the spread gives r2 one switch: r1 stops that host, r2 starts it

        async def shared() -> bool:
            return sorted((await held()).values()) == ["r1", "r2"]

        await until(shared, 60, "one switch each")
        now = await held()
        moved = next(t for t in tors if now[t.name] == "r2")
        await until(
            lambda: f"{moved.name}: control-plane host started" in r2.text(), 60, "r2's host"
        )
        await answered(moved, f"{moved.name} answered through r2")
        assert "driving the switch without it" not in r2.text(), r2.text()[-3000:]

        stays = next(t for t in tors if t is not moved)
        r1.kill()  # -9: no goodbye; r2 takes the other switch after the lease

        async def r2_has_both() -> bool:
            return await held() == {"tor1": "r2", "tor2": "r2"}

        await until(r2_has_both, 60, "r2 owning both switches")
        await answered(stays, f"{stays.name} answered through r2 after r1 was killed")
        assert "driving the switch without it" not in r2.text(), r2.text()[-3000:]
        assert r2.text().count("control-plane host started") == 2

    try:
        asyncio.run(scenario())
    finally:
        r1.stop()
        assert r2.stop() == 0, r2.text()[-2000:]
