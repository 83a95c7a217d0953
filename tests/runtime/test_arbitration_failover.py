"""Controller failover against real p4sim switches (P4Runtime spec section 5).

When the primary leaves, p4sim promotes nobody: every backup is told NOT_FOUND with the
highest election id seen. nve's backups take over in turn (`nve.takeover`): the one with
the highest priority re-arbitrates with an id above that, once; the others see a primary
again and stay backups. The counts asserted are arbitration messages each client sent
(`SwitchClient.arbitrations_sent`); a storm would be thousands.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections.abc import Callable

import pytest
from finsy.proto import p4r, rpc_code

from nve.controller import Controller
from nve.entities import Exact, TableEntry
from nve.loader import load_overlay
from nve.p4info import load_p4info
from nve.p4names import Table
from nve.p4rt_client import INSERT, NotPrimaryError, SwitchClient
from nve.takeover import PRIORITY_MAX, Takeover, default_priority
from tests.runtime.test_integration import WEB1, installed_of, l2_entry
from tests.support.nve_run import NVE, NveRun
from tests.support.p4sim import P4simProcess, write_overlay


@pytest.fixture
def switch(tmp_path):
    proc = P4simProcess().start(tmp_path)
    yield proc
    proc.stop()


@pytest.fixture
def switches(tmp_path):
    procs = [P4simProcess().start(tmp_path), P4simProcess().start(tmp_path)]
    yield procs
    for p in procs:
        p.stop()


async def _until(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Liveness, not speed: poll until cond() holds or a generous deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if cond():
            return True
        await asyncio.sleep(0.02)
    return cond()


def _settled(*clients: SwitchClient) -> bool:
    """One primary, every client told so, no takeover pending: no message can follow."""
    primaries = [c for c in clients if c.is_primary]
    return (
        len(primaries) == 1
        and all(c.arbitration_status in (rpc_code.OK, rpc_code.ALREADY_EXISTS) for c in clients)
        and not any(c.takeover_pending for c in clients)
    )


def _group(group_id: int) -> p4r.Update:
    replica = p4r.Replica(egress_port=1, instance=0)
    entry = p4r.MulticastGroupEntry(multicast_group_id=group_id, replicas=[replica])
    return p4r.Update(
        type=INSERT,
        entity=p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=entry
            )
        ),
    )


# -- the policy alone ------------------------------------------------------------------------
def test_turns_follow_priorities_whatever_the_jitter():
    rng = random.Random(7)
    for _ in range(200):
        delays = [Takeover(p, rng=rng).next_delay() for p in (PRIORITY_MAX, 200, 199, 2, 1)]
        assert delays == sorted(delays)


def test_backoff_doubles_on_unsettled_takeovers_and_stays_bounded():
    t = Takeover(1, rng=random.Random(1))
    delays = [t.next_delay() for _ in range(10)]
    assert delays[1] > 1.9 * delays[0] and delays[2] > 1.9 * delays[1]
    assert max(delays) < 17 * delays[0]  # at most 2**4 times the first wait, plus jitter
    t.settled()
    assert t.next_delay() < 1.1 * delays[0]


def test_takeover_ids_are_above_the_highest_and_distinct_per_priority():
    ids = {Takeover(p).election_id(1000) for p in range(1, PRIORITY_MAX + 1)}
    assert len(ids) == PRIORITY_MAX and min(ids) == 1001
    assert Takeover(5).election_id(2**128 - 3) is None
    assert default_priority(10) == 10 and default_priority(10**6) == PRIORITY_MAX
    with pytest.raises(ValueError, match=r"priority 0 is outside 1\.\.255"):
        Takeover(0)


# -- clients against a real switch -------------------------------------------------------------
def test_the_issue_two_controllers_stop_the_primary_the_backup_takes_over_once(switch):
    """election ids 10 and 20; stop 20: 10 becomes primary with one more message (was: a
    re-arbitration storm, ~15,000 messages in 10 s, and never primary)."""

    async def scenario():
        low = SwitchClient(switch.address, 0, 10, name="c10")
        high = SwitchClient(switch.address, 0, 20, name="c20")
        await high.open()
        await low.open()
        await high.close()
        settled = await _until(lambda: _settled(low))
        result = (settled, low.is_primary, low.election_id, low.arbitrations_sent)
        await low.close()
        return result

    settled, primary, election_id, sent = asyncio.run(scenario())
    assert settled and primary
    assert election_id == 20 + 10, "the highest id seen plus its priority (the election id)"
    assert sent == 2, "the first arbitration and one takeover"


def test_three_controllers_the_higher_priority_backup_takes_over_and_writes(switch, pipeline):
    """Priority, not election id, orders the takeover; the other backup never collides."""

    async def scenario():
        c30 = SwitchClient(switch.address, 0, 30, name="c30")
        c20 = SwitchClient(switch.address, 0, 20, name="c20", priority=100)
        c10 = SwitchClient(switch.address, 0, 10, name="c10", priority=200)
        for c in (c30, c20, c10):
            await c.open()
        assert c30.is_primary and not c20.is_primary and not c10.is_primary
        await c30.set_pipeline(
            load_p4info(pipeline.p4info), pipeline.device_config.read_bytes(), cookie=1
        )
        await c30.close()
        settled = await _until(lambda: _settled(c10, c20))
        written = await c10.write([_group(1)])
        refused = None
        try:
            await c20.write([_group(2)])
        except NotPrimaryError as exc:
            refused = str(exc)
        out = {
            "settled": settled,
            "c10": (c10.is_primary, c10.election_id, c10.arbitrations_sent, c10.connected),
            "c20": (c20.is_primary, c20.primary_election_id, c20.arbitrations_sent, c20.connected),
            "written": written.ok and written.attempted == 1,
            "refused": refused,
        }
        for c in (c10, c20):
            await c.close()
        return out

    out = asyncio.run(scenario())
    assert out["settled"]
    assert out["c10"] == (True, 30 + 200, 2, True)
    assert out["c20"] == (False, 30 + 200, 1, True), "stayed backup: no takeover, no clash"
    assert out["written"]
    assert (
        out["refused"] is not None
        and "controller with election id 230 is primary" in (out["refused"])
    )


def test_a_new_controller_with_a_higher_id_still_preempts_as_the_spec_says(switch):
    """Takeover does not change the spec's rule for a live primary: a higher id wins."""

    async def scenario():
        a = SwitchClient(switch.address, 0, 10)
        await a.open()
        b = SwitchClient(switch.address, 0, 11)
        await b.open()
        settled = await _until(lambda: _settled(a, b))
        result = (settled, a.is_primary, b.is_primary, a.arbitrations_sent, b.arbitrations_sent)
        for c in (a, b):
            await c.close()
        return result

    assert asyncio.run(scenario()) == (True, False, True, 1, 1)


def test_a_backup_joining_a_switch_without_primary_takes_over(switch):
    """The primary left before this controller (re)connected: it is told NOT_FOUND on its
    first arbitration and takes over all the same."""

    async def scenario():
        gone = SwitchClient(switch.address, 0, 50)
        await gone.open()
        await gone.close()
        late = SwitchClient(switch.address, 0, 5, priority=40)
        first = await late.open()
        reason = late.read_only_reason
        settled = await _until(lambda: _settled(late))
        result = (first, reason, settled, late.election_id, late.arbitrations_sent)
        await late.close()
        return result

    first, reason, settled, election_id, sent = asyncio.run(scenario())
    assert not first and "no controller is primary (highest election id seen 50)" in reason
    assert settled and election_id == 90 and sent == 2


# -- sessions and `nve run` ---------------------------------------------------------------------
def test_a_session_whose_id_is_held_reconnects_as_backup_with_backoff(tmp_path, switches, pipeline):
    """INVALID_ARGUMENT (the election id is held by a live client): reconnect, backing off
    while it repeats, and serve once the id is free."""
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline, election=10)

    async def scenario():
        holders = [SwitchClient(s.address, 0, 10) for s in switches]
        for h in holders:
            await h.open()
            await h.set_pipeline(
                load_p4info(pipeline.p4info), pipeline.device_config.read_bytes(), cookie=1
            )

        async def nothing(*_: object) -> None:
            return None

        ctl = Controller(load_overlay(path))
        assert ctl.check() == []
        sessions = ctl.start_sessions(nothing, nothing)
        tasks = [asyncio.create_task(s.run()) for s in sessions.values()]
        try:
            initial = min(s.backoff.initial for s in sessions.values())
            backed_off = await _until(
                lambda: all(s.backoff.current >= 4 * initial for s in sessions.values())
            )
            for h in holders:
                await h.close()
            served = await _until(lambda: all(s.state.primary for s in sessions.values()))
            return backed_off, served
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ctl.close()

    assert asyncio.run(scenario()) == (True, True)


def _start_backup(run: NveRun) -> NveRun:
    """`nve run` as a backup: it logs that it is read-only instead of a first reconcile."""
    with open(run.log, "wb") as out:
        run.proc = subprocess.Popen(
            [NVE, "run", str(run.overlay), "--metrics-port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    run.wait_log("read-only", 30)
    return run


def _is_web1(entity: object) -> bool:
    return (
        isinstance(entity, TableEntry)
        and entity.table == Table.L2_DMAC
        and dict(entity.match).get("mac") == Exact(WEB1)
    )


@pytest.mark.slow
def test_nve_run_backup_is_promoted_and_reconciles_its_own_description(
    tmp_path, switches, pipeline
):
    """Two `nve run` on the same switches, election ids 20 and 10; stop 20: 10 takes over
    each switch with one arbitration and reconciles at once (its description lacks web1)."""
    high = write_overlay(tmp_path / "high.yaml", switches, pipeline, election=20)
    low = write_overlay(
        tmp_path / "low.yaml", switches, pipeline, 10, edit=lambda d: d["endpoints"].pop(0)
    )
    primary = NveRun(high, tmp_path / "high.log").start()
    backup = NveRun(low, tmp_path / "low.log")
    try:
        _start_backup(backup)
        before = asyncio.run(installed_of(switches[0].address, pipeline.p4info))
        assert l2_entry(before, WEB1)  # the primary's description
        primary.stop()
        for name in ("tor1", "tor2"):
            backup.wait_log(f"{name}: now primary", 30)
            backup.wait_log(f"reconciled {name}: ", 30)  # at once, not at the next edit

        async def web1_gone() -> bool:
            loop = asyncio.get_running_loop()
            end = loop.time() + 30
            while loop.time() < end:
                got = await installed_of(switches[0].address, pipeline.p4info)
                if not any(_is_web1(e) for e in got):
                    return True
                await asyncio.sleep(0.2)
            return False

        assert asyncio.run(web1_gone()), "the promoted controller reconciled its description"
        text = backup.text()
    finally:
        backup.stop()
        primary.stop()
    takeovers = [line for line in text.splitlines() if "taking over with election id" in line]
    assert len(takeovers) == 2, takeovers  # one per switch
    assert all("election id 30 (priority 10)" in line for line in takeovers)
    assert "re-arbitrating" not in text
