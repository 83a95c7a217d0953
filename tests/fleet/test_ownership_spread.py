"""Spreading switches over replicas: the assignment alone, then replicas on a real etcd
joining and leaving (even to within one switch, and no switch moves twice)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from nve.fleet.election import ElectionIdError, election_id, split
from nve.fleet.etcd_leases import LeaseEtcd
from nve.fleet.keeper import LeaseKeeper
from nve.fleet.ownership import FleetError, OwnershipManager
from nve.fleet.spread import assign
from nve.store.etcd import Etcd, Put
from nve.store.url import StoreUrl
from tests.fleet.etcd_server import EtcdServer
from tests.fleet.fleet_util import owners

SWITCHES = [f"tor{i}" for i in range(1, 8)]


def _counts(assignment: dict[str, str], members: list[str]) -> list[int]:
    return [sum(1 for m in assignment.values() if m == r) for r in members]


# -- the assignment alone ---------------------------------------------------------------------
@pytest.mark.parametrize("n,r", [(n, r) for n in range(12) for r in range(1, 6)])
def test_every_switch_is_assigned_and_counts_differ_by_at_most_one(n: int, r: int) -> None:
    switches = [f"s{i}" for i in range(n)]
    members = [f"r{i}" for i in range(r)]
    out = assign(switches, members, {})
    assert sorted(out) == sorted(switches)
    counts = _counts(out, members)
    assert max(counts) - min(counts) <= 1


def test_a_joining_replica_moves_only_the_switches_it_gets() -> None:
    members = ["a", "b", "c"]
    before = assign(SWITCHES, members, {})
    after = assign(SWITCHES, [*members, "d"], before)
    moved = {s for s in SWITCHES if before[s] != after[s]}
    assert moved == {s for s, m in after.items() if m == "d"}
    assert (
        max(_counts(after, ["a", "b", "c", "d"])) - min(_counts(after, ["a", "b", "c", "d"])) <= 1
    )


def test_a_leaving_replica_moves_only_its_switches_and_owners_outside_are_ignored() -> None:
    before = assign(SWITCHES, ["a", "b", "c"], {})
    after = assign(SWITCHES, ["a", "b"], before)
    assert {s for s in SWITCHES if before[s] != after[s]} == {
        s for s, m in before.items() if m == "c"
    }
    assert assign(["x"], [], {"x": "a"}) == {}


def test_neighbours_in_name_order_go_to_different_replicas() -> None:
    """16 live ToRs after 1,000 placeholders in name order: dealt out in turn, and kept
    spread when one replica that held them all shares with two newcomers."""
    names = [f"rec{i}" for i in range(1000)] + [f"tor{i}" for i in range(16)]
    members = ["r1", "r2", "r3"]

    def tors(out: dict[str, str]) -> list[int]:
        return [sum(1 for s, m in out.items() if m == r and s.startswith("tor")) for r in members]

    fresh = assign(names, members, {})
    assert sorted(tors(fresh)) == [5, 5, 6]
    alone = assign(names, ["r1"], {})
    shared = assign(names, members, alone)
    assert min(tors(shared)) >= 4, tors(shared)
    assert sorted(_counts(shared, members)) == [338, 339, 339]
    assert all(shared[s] == "r1" for s in names if alone[s] == shared[s])


def test_same_view_same_answer_whatever_the_order() -> None:
    owners = {"tor1": "b", "tor2": "b", "tor3": "b", "tor4": "gone"}
    results = {
        tuple(sorted(assign(sw, m, owners).items()))
        for sw in itertools.permutations(SWITCHES[:5])
        for m in itertools.permutations(["a", "b", "c"])
    }
    assert len(results) == 1


def test_election_ids_grow_with_the_revision_and_the_epoch() -> None:
    assert election_id(0, 7) < election_id(0, 8) < election_id(1, 1)
    assert split(election_id(3, 99)) == (3, 99)
    with pytest.raises(ElectionIdError, match="etcd revision 0 is outside"):
        election_id(0, 0)
    with pytest.raises(ElectionIdError, match="epoch -1 is outside"):
        election_id(-1, 5)


def test_bad_replica_names_and_ttls_are_refused_by_name() -> None:
    url = StoreUrl.parse("etcd://127.0.0.1:2379")

    async def hook(*_: object) -> None:
        return None

    with pytest.raises(FleetError, match=r"replica name 'a/b' may hold only"):
        OwnershipManager(url, "a/b", [], hook, hook)
    with pytest.raises(FleetError, match=r"lease TTL 1 s is too short"):
        OwnershipManager(url, "a", [], hook, hook, ttl_s=1)


# -- replicas on a real etcd ------------------------------------------------------------------
@dataclass
class Fleet:
    """In-process replicas, each with its own etcd connection; records every callback."""

    url: StoreUrl
    switches: list[str]
    managers: dict[str, OwnershipManager] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # switch -> replica, by the callbacks
    moves: dict[str, int] = field(default_factory=dict)  # acquisitions per switch
    ids: dict[str, list[int]] = field(default_factory=dict)  # election ids per switch, in order
    overlaps: int = 0  # acquisitions while another replica still believed it owned the switch

    def start(self, name: str) -> None:
        async def acquire(switch: str, eid: int) -> None:
            # A replica whose lease lapsed may not have noticed yet when another takes its
            # switch (a loaded machine): the keys never overlap, beliefs may for a moment,
            # and fencing keeps the old one off the switch. Counted, not refused.
            if self.owner.get(switch) not in (None, name):
                self.overlaps += 1
            self.owner[switch] = name
            self.moves[switch] = self.moves.get(switch, 0) + 1
            self.ids.setdefault(switch, []).append(eid)

        async def release(switch: str) -> None:
            if self.owner.get(switch) == name:  # else a newer owner has it already
                del self.owner[switch]

        m = OwnershipManager(self.url, name, self.switches, acquire, release, ttl_s=2)
        self.managers[name] = m
        self.tasks[name] = asyncio.create_task(m.run())

    async def stop(self, name: str) -> None:
        self.tasks[name].cancel()
        await asyncio.gather(self.tasks.pop(name), return_exceptions=True)
        del self.managers[name]

    def balanced(self) -> bool:
        live = list(self.managers)
        if sorted(self.owner) != sorted(self.switches) or set(self.owner.values()) - set(live):
            return False
        counts = _counts(self.owner, live)
        return max(counts) - min(counts) <= 1

    async def until(self, cond: Callable[[], bool], timeout: float = 30.0) -> None:
        """Liveness, not speed: a generous deadline."""
        end = asyncio.get_running_loop().time() + timeout
        while not cond():
            assert asyncio.get_running_loop().time() < end, f"not reached: {self.owner}"
            await asyncio.sleep(0.05)

    async def settled(self) -> None:
        """Balanced, and still so after two more lease periods (no flapping)."""
        await self.until(self.balanced)
        before = dict(self.moves)
        await asyncio.sleep(2 * 2)
        assert self.balanced() and self.moves == before

    async def close(self) -> None:
        for name in list(self.tasks):
            await self.stop(name)


def _url(etcd: EtcdServer) -> StoreUrl:
    return StoreUrl.parse(f"{etcd.url}/t{secrets.token_hex(4)}")


def test_replicas_share_the_switches_and_re_spread_on_join_and_leave(etcd: EtcdServer) -> None:
    async def scenario() -> None:
        fleet = Fleet(_url(etcd), SWITCHES)
        try:
            for name in ("r1", "r2", "r3"):
                fleet.start(name)
            await fleet.settled()
            assert sorted(_counts(fleet.owner, ["r1", "r2", "r3"])) == [2, 2, 3]
            before = dict(fleet.owner)
            moves = dict(fleet.moves)

            fleet.start("r4")  # a replica joins: it takes one switch from the fullest
            await fleet.settled()
            moved = {s for s in SWITCHES if fleet.owner[s] != before[s]}
            assert moved == {s for s, r in fleet.owner.items() if r == "r4"}
            assert len(moved) == 1
            assert all(fleet.moves[s] == moves[s] + (s in moved) for s in SWITCHES)

            before = dict(fleet.owner)
            moves = dict(fleet.moves)
            await fleet.stop("r2")  # a replica leaves: only its switches move, once each
            await fleet.settled()
            gone = {s for s, r in before.items() if r == "r2"}
            assert {s for s in SWITCHES if fleet.owner[s] != before[s]} == gone
            assert all(fleet.moves[s] == moves[s] + (s in gone) for s in SWITCHES)
            # every new owner's election id is above every earlier one of that switch
            assert all(ids == sorted(set(ids)) for ids in fleet.ids.values())
        finally:
            await fleet.close()

    asyncio.run(scenario())


def test_a_revoked_lease_gives_the_switches_to_the_others_and_the_replica_rejoins(
    etcd: EtcdServer,
) -> None:
    async def scenario() -> None:
        fleet = Fleet(_url(etcd), SWITCHES[:4])
        try:
            fleet.start("r1")
            fleet.start("r2")
            await fleet.settled()
            r1 = fleet.managers["r1"]
            lease = r1._lease
            assert lease is not None and r1.etcd is not None
            ids = {s: list(v) for s, v in fleet.ids.items()}
            await r1.etcd.revoke(lease)  # as if etcd had expired it
            await fleet.until(lambda: r1.stats.leases_lost == 1)
            await fleet.settled()
            assert r1._lease != lease  # joined again with a new lease
            for s, v in fleet.ids.items():
                assert v[: len(ids[s])] == ids[s] and v == sorted(set(v))
        finally:
            await fleet.close()

    asyncio.run(scenario())


def test_the_epoch_in_the_store_is_the_high_word_and_a_bad_one_is_named(
    etcd: EtcdServer,
) -> None:
    async def scenario() -> None:
        url = _url(etcd)
        async with Etcd(url) as client:
            await client.txn([], [Put(f"{url.prefix}/epoch".encode(), b"3")])
            fleet = Fleet(url, SWITCHES[:2])
            fleet.start("r1")
            try:
                await fleet.until(fleet.balanced)
                assert {split(ids[0])[0] for ids in fleet.ids.values()} == {3}
            finally:
                await fleet.close()
            await client.txn([], [Put(f"{url.prefix}/epoch".encode(), b"three")])

            async def hook(*_: object) -> None:
                return None

            bad = OwnershipManager(url, "r9", [], hook, hook, ttl_s=2)
            with pytest.raises(FleetError, match=rf"{url.prefix}/epoch = b'three' is not an epoch"):
                await bad.run()

    asyncio.run(scenario())


def test_a_new_set_of_switches_is_spread_and_removed_switches_are_given_up(
    etcd: EtcdServer,
) -> None:
    async def scenario() -> None:
        fleet = Fleet(_url(etcd), SWITCHES[:2])
        try:
            fleet.start("r1")
            fleet.start("r2")
            await fleet.settled()
            fleet.switches = SWITCHES[:5]
            for m in fleet.managers.values():
                m.set_switches(fleet.switches)
            await fleet.settled()
            fleet.switches = SWITCHES[3:5]
            for m in fleet.managers.values():
                m.set_switches(fleet.switches)
            await fleet.settled()
            assert sorted(fleet.owner) == SWITCHES[3:5]
            assert sorted(await owners(fleet.url)) == SWITCHES[3:5]  # the others' keys gone
        finally:
            await fleet.close()

    asyncio.run(scenario())


def test_a_dead_replicas_many_switches_are_taken_a_batch_per_round_trip(
    etcd: EtcdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 switches: r1 takes them all, r2 joins and gets half; r1 dies without leaving (its
    lease runs out), and r2 takes r1's 150 in round trips of 64 switches: one revision per
    round trip, not one per switch. Every id is still above that switch's earlier ones."""
    many = [f"rec{i:03d}" for i in range(300)]

    async def scenario() -> None:
        fleet = Fleet(_url(etcd), many)
        try:
            fleet.start("r1")
            await fleet.until(lambda: len(fleet.owner) == 300, 60)
            assert len({split(ids[0])[1] for ids in fleet.ids.values()}) == 5  # 300 / 64
            fleet.start("r2")
            await fleet.until(fleet.balanced, 60)
            theirs = {s for s, r in fleet.owner.items() if r == "r1"}
            assert len(theirs) == 150
            monkeypatch.setattr(fleet.managers["r1"], "_leave", _noop)  # killed: no goodbye
            await fleet.stop("r1")
            for s in theirs:
                del fleet.owner[s]
            await fleet.until(lambda: theirs <= set(fleet.owner), 60)  # after the lease TTL
            assert len({split(fleet.ids[s][-1])[1] for s in theirs}) <= 3  # 150 / 64
            assert all(ids == sorted(set(ids)) for ids in fleet.ids.values())
        finally:
            await fleet.close()

    asyncio.run(scenario())


async def _noop(*_: object) -> None:
    return None


def test_a_busy_loop_keeps_its_lease_and_switches(etcd: EtcdServer) -> None:
    """The loop blocked for longer than the TTL (a large compile, a protobuf decode holding
    the interpreter lock) does not lose the lease: the keep-alives go from the keeper's
    process."""

    async def scenario() -> None:
        fleet = Fleet(_url(etcd), SWITCHES[:3])
        try:
            fleet.start("r1")
            await fleet.until(fleet.balanced)
            r1 = fleet.managers["r1"]
            held = await owners(fleet.url)
            # The loop busy for TTL x 2 + 1 s holding the interpreter lock throughout, as a
            # long protobuf decode does (no other thread of this process runs meanwhile).
            interval = sys.getswitchinterval()
            sys.setswitchinterval(30)
            try:
                end = time.monotonic() + 2 * 2 + 1
                while time.monotonic() < end:
                    pass
            finally:
                sys.setswitchinterval(interval)
            await asyncio.sleep(1.0)
            assert r1.stats.leases_lost == 0
            assert await owners(fleet.url) == held
            assert r1.keeper is not None and r1.keeper.state.answered >= 5
        finally:
            await fleet.close()

    asyncio.run(scenario())


def test_a_hung_loop_lets_its_lease_go(etcd: EtcdServer) -> None:
    """The keeper stops refreshing once the loop has not checked in for `max_stall_s`
    (at least two TTLs), and etcd expires the lease."""

    async def scenario() -> None:
        url = _url(etcd)
        conn = LeaseEtcd(url)
        await conn.open()
        try:
            lease = await conn.grant(2)
            keeper = LeaseKeeper(url, conn.endpoint, lease, 2, time.monotonic(), max_stall_s=0)
            keeper.start()
            await asyncio.sleep(3.0)  # a TTL and more: kept alive without any check-in
            assert await conn.keep_alive(lease) > 0
            keeper._read_reports()
            assert keeper.state.answered >= 2
            assert keeper.proc is not None
            assert await asyncio.to_thread(keeper.proc.wait, 10) == 1  # stalled 4 s: gave up
            await asyncio.sleep(2.5)
            assert await conn.keep_alive(lease) <= 0  # expired
            assert keeper.check() is not None
            keeper.stop()
        finally:
            await conn.close()

    asyncio.run(scenario())
