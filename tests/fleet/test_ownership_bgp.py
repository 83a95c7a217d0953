"""BGP underlays follow ownership: the FRR of a switch's control-plane host runs under the
replica that owns the switch, moves with it when the spread gives the switch to another
replica, and is taken over (left running, followed) when its owner is killed.

The lab's leaf-spine fabric (lab.fabric: two p4sim ToRs whose hosts run FRR, two FRR
spines, eBGP from every ToR to every spine, a VM behind each ToR), driven by replica
processes on a real etcd instead of `nve run`:

1. r1 alone owns both ToRs: every session is Established through the switches and the
   VMs reach each other over NVGRE (the PAs learnt over BGP, nothing static).
2. r2 joins and the spread gives it one ToR: r1 stops that ToR's host and its FRR (the
   bgpd it started is gone), r2 starts both (a new bgpd); the ToR's sessions come back,
   its tables equal its host's kernel again and the VMs reach each other. Through the
   handover (BGP graceful restart, RFC 4724) both spines keep the moved ToR's PA route
   and the other ToR's switch keeps its paths to that PA: sampled over and over, none
   ever missing.
3. r1 is killed with -9: r2 takes the other ToR, finds its FRR still running (a replica
   killed on this machine cannot stop it) and follows it rather than restarting it (the
   same bgpd); the sessions are Established and the VMs reach each other.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.fabric import BgpFabric
from nve.loader import load_overlay
from nve.store.etcd import Etcd
from nve.store.importer import import_overlay
from nve.store.url import StoreUrl
from tests.fabric.rig import built_fabric
from tests.fabric.test_bgp_fabric import (
    other,
    ping,
    tables,
    tables_follow_kernel,
    until,
    uplinks_up,
)
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import ReplicaProcess, owners

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BgpFabric]:
    with built_fabric(tmp_path_factory, "BGP ownership") as fab:
        yield fab


def _held(url: StoreUrl) -> dict[str, str]:
    return {s: o.replica for s, o in asyncio.run(owners(url)).items()}


def _bgpd(fabric: BgpFabric, name: str) -> int | None:
    tor = next(t for t in fabric.tors if t.plan.name == name)
    return fabric.tor_frr(tor).pid("bgpd")


def _spine_has(fabric: BgpFabric, spine: int, prefix: str) -> bool:
    shown = fabric.spines[spine].frr.vtysh(f"show bgp ipv4 unicast {prefix} json")
    return bool(json.loads(shown or "{}").get("paths"))


class _Watch:
    """Samples, every 0.1 s until stopped, whether each spine holds each ToR's PA route
    and whether the other ToR's switch has a path to it; keeps the samples where not."""

    def __init__(self, fabric: BgpFabric) -> None:
        self.fabric = fabric
        self.samples = 0
        self.missing: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.samples += 1
            for tor in self.fabric.tors:
                prefix = f"{tor.plan.pa}/32"
                for i in range(len(self.fabric.spines)):
                    if not _spine_has(self.fabric, i, prefix):
                        self.missing.append(f"spine{i + 1} without {prefix}")
                seen = tables(self.fabric, other(self.fabric, tor))
                if prefix not in seen.routes or not seen.paths(prefix):
                    self.missing.append(f"the other switch without a path to {prefix}")

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def _reachable(fabric: BgpFabric) -> None:
    until("the VMs reach each other", lambda: ping(fabric, count=2).returncode == 0, 60)


def test_frr_moves_with_its_switch_between_replicas_and_survives_its_owners_kill(
    tmp_path: Path, etcd: EtcdServer, fabric: BgpFabric
) -> None:
    url = StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")
    names = sorted(t.plan.name for t in fabric.tors)

    async def imported() -> None:
        async with Etcd(url) as client:
            await import_overlay(client, url.prefix, load_overlay(fabric.overlay))

    asyncio.run(imported())
    r1 = ReplicaProcess(None, str(url), "r1", tmp_path / "r1.log")
    r2 = ReplicaProcess(None, str(url), "r2", tmp_path / "r2.log")
    try:
        r1.start()
        until("r1 owning both ToRs", lambda: _held(url) == dict.fromkeys(names, "r1"), 60)
        uplinks_up(fabric)
        _reachable(fabric)
        first = {n: _bgpd(fabric, n) for n in names}
        assert all(first.values()), first

        with _Watch(fabric) as watch:
            r2.start()
            until("one ToR each", lambda: sorted(_held(url).values()) == ["r1", "r2"], 60)
            held = _held(url)
            moved = next(n for n in names if held[n] == "r2")
            stays = next(n for n in names if n != moved)
            until(
                f"r2 running {moved}'s FRR",
                lambda: _bgpd(fabric, moved) not in (None, first[moved]),
                60,
            )
            uplinks_up(fabric)
        assert watch.samples >= 3 and not watch.missing, (watch.samples, watch.missing[:10])
        uplinks_up(fabric)
        tables_follow_kernel(fabric)
        _reachable(fabric)
        assert _bgpd(fabric, stays) == first[stays]  # r1 kept the one it still owns

        r1.kill()
        until("r2 owning both ToRs", lambda: _held(url) == dict.fromkeys(names, "r2"), 60)
        until(
            f"r2 following {stays}'s host",
            lambda: r2.text().count("control-plane host started") == 2,
            60,
        )
        assert _bgpd(fabric, stays) == first[stays]  # left running, followed, not restarted
        uplinks_up(fabric)
        tables_follow_kernel(fabric)
        _reachable(fabric)
    finally:
        r1.stop()
        assert r2.stop() == 0, r2.text()[-3000:]
