"""A switch that stops answering holds back no other switch's reconcile (nve.switch_locks),
against real p4sim switches over real gRPC."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from nve.controller import Controller
from nve.diff import Change
from nve.entities import TableEntry
from nve.loader import load_overlay
from nve.p4rt_client import SwitchError
from nve.reconcile import to_updates
from tests.support.p4sim import write_overlay


def test_a_stalled_switch_does_not_hold_back_the_others_reconcile(tmp_path, switches, pipeline):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    tor1 = switches[0].proc
    assert tor1 is not None

    async def main() -> None:
        ctl = Controller(load_overlay(path))
        assert ctl.check() == []
        await ctl.connect()
        try:
            first = await ctl.reconcile()
            assert first.ok and set(first.switches) == {"tor1", "tor2"}
            client1 = ctl.sessions["tor1"].client
            assert client1 is not None
            client1.ping_timeout = 15.0  # tor1's reconcile waits that long for its ping
            os.kill(tor1.pid, signal.SIGSTOP)  # tor1 hangs: nothing it is sent is answered
            try:
                stuck = asyncio.create_task(ctl.reconcile(names=["tor1"]))
                await asyncio.sleep(0.5)
                assert not stuck.done()
                # Before per-switch holds this waited for tor1's reconcile, i.e. forever.
                other = await asyncio.wait_for(ctl.reconcile(names=["tor2"]), 60)
                assert other.ok and set(other.switches) == {"tor2"}
                assert other.switches["tor2"].plan.empty  # read and compared, nothing to do
                assert not stuck.done()
                # A reconcile of both waits for tor1's hold, then goes on without tor1.
                drift = _delete_one(ctl, "tor2")
                await asyncio.wait_for(ctl.sessions["tor2"].client.write(drift), 60)  # type: ignore[union-attr]
                both = asyncio.create_task(ctl.reconcile())
                await asyncio.sleep(0.5)
                assert not both.done()
                alone = await asyncio.wait_for(stuck, 60)
                assert not alone.ok and alone.switches["tor1"].left_out
                assert "tor1: Capabilities: DEADLINE_EXCEEDED" in alone.switches["tor1"].skipped
                # Before the ping this waited for tor1's Read deadline (minutes).
                everything = await asyncio.wait_for(both, 60)
                assert everything.switches["tor1"].left_out
                tor2 = everything.switches["tor2"]
                assert not tor2.skipped and tor2.written == 1  # the drift was put right
            finally:
                os.kill(tor1.pid, signal.SIGCONT)
            resumed = await asyncio.wait_for(ctl.reconcile(), 60)
            assert resumed.ok and set(resumed.switches) == {"tor1", "tor2"}
            assert all(r.plan.empty for r in resumed.switches.values())
        finally:
            await ctl.close()

    asyncio.run(main())


def _delete_one(ctl: Controller, name: str) -> list:
    """A Write that deletes one of switch `name`'s compiled table entries (a drift)."""
    entry = next(
        e for e in ctl.states[name].entities if isinstance(e, TableEntry) and not e.is_default
    )
    return to_updates([Change("delete", entry)], ctl.sessions[name].index)


def test_a_switch_that_stops_answering_fails_its_calls_at_the_deadline(
    tmp_path, switches, pipeline
):
    """A hung switch (its connection open, nothing answered) is unreachable after the RPC
    deadline, for a reconcile's Read and for a Write (not read back), not waited on for
    ever; once it answers again, the next reconcile succeeds."""
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    tor1 = switches[0].proc
    assert tor1 is not None

    async def main() -> None:
        ctl = Controller(load_overlay(path), rpc_timeout=60)  # the pipeline push: seconds
        await ctl.connect()
        try:
            assert (await ctl.reconcile()).ok
            client = ctl.sessions["tor1"].client
            assert client is not None
            client.rpc_timeout = 1.5
            update = to_updates(
                [Change("insert", e) for e in ctl.states["tor1"].entities[:1]],
                ctl.sessions["tor1"].index,
            )
            os.kill(tor1.pid, signal.SIGSTOP)
            try:
                # Without the ping (a single switch's compile, `nve stats`): the Read's deadline
                ctl.forget_installed("tor1")
                with pytest.raises(SwitchError, match="tor1: Read: DEADLINE_EXCEEDED"):
                    await asyncio.wait_for(ctl.targets(["tor1"]), 60)
                left = await asyncio.wait_for(ctl.reconcile(names=["tor1"]), 60)
                assert left.switches["tor1"].left_out and not left.ok
                with pytest.raises(SwitchError, match="tor1: Write: DEADLINE_EXCEEDED"):
                    await asyncio.wait_for(client.write(update), 60)
                # the other switch is reconciled meanwhile
                assert (await asyncio.wait_for(ctl.reconcile(names=["tor2"]), 60)).ok
            finally:
                os.kill(tor1.pid, signal.SIGCONT)
            again = await asyncio.wait_for(ctl.reconcile(names=["tor1"]), 60)
            assert again.ok and set(again.switches) == {"tor1"}
        finally:
            await ctl.close()

    asyncio.run(main())


def test_a_switch_that_hangs_in_a_read_is_given_up_once_it_has_sent_nothing_for_a_while(
    tmp_path, switches, pipeline
):
    """A switch that answered the ping and then sends nothing more of a Read fails it after
    `read_idle` seconds of silence, well inside the whole Read's deadline."""
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    tor1 = switches[0].proc
    assert tor1 is not None

    async def main() -> float:
        ctl = Controller(load_overlay(path))
        await ctl.connect()
        try:
            client = ctl.sessions["tor1"].client
            assert client is not None
            client.rpc_timeout = 120.0
            client.read_idle = 1.0
            await client.ping()  # it answers...
            os.kill(tor1.pid, signal.SIGSTOP)  # ...then hangs
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                with pytest.raises(
                    SwitchError,
                    match=r"tor1: Read: DEADLINE_EXCEEDED: nothing from the switch for 1 s",
                ):
                    await asyncio.wait_for(ctl.targets(["tor1"]), 60)
                took = loop.time() - start
            finally:
                os.kill(tor1.pid, signal.SIGCONT)
            installed = await asyncio.wait_for(ctl.targets(["tor1"]), 60)  # answers again
            assert installed
            return took
        finally:
            await ctl.close()

    # Given up by the silence (1 s), not by the Read's deadline (120 s; the test's 60 s).
    assert asyncio.run(main()) < 60


def test_a_switch_left_out_is_reconciled_again_on_its_own_once_it_answers(
    tmp_path, switches, pipeline, monkeypatch
):
    """Controller.retry_later (a session that became ready but did not answer, a store
    change's reconcile): the switch is reconciled again after a wait, the wait doubling
    while it is left out, until it answers; one asked while waiting is not asked twice."""
    monkeypatch.setattr("nve.controller.RETRY_FIRST_S", 0.2)
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    tor2 = switches[1].proc
    assert tor2 is not None

    async def main() -> None:
        ctl = Controller(load_overlay(path))
        await ctl.connect()
        calls: list[tuple[float, bool]] = []  # (when, left out)
        three = asyncio.Event()

        async def on_change(names: list[str]) -> list[str]:
            report = await ctl.reconcile(names=names)
            calls.append((loop.time(), any(r.left_out for r in report.switches.values())))
            if len(calls) >= 3:
                three.set()
            return [n for n, r in report.switches.items() if r.skipped]

        loop = asyncio.get_running_loop()
        ctl.on_change = on_change
        client2 = ctl.sessions["tor2"].client
        assert client2 is not None
        client2.ping_timeout = 0.5
        try:
            os.kill(tor2.pid, signal.SIGSTOP)
            try:
                start = loop.time()
                ctl.retry_later(["tor2"])
                ctl.retry_later(["tor2"])  # already asked: one task
                await ctl.apply_incremental({"tor2"})  # likewise
                assert len(ctl._asking) == 1
                (task,) = ctl._asking
                await asyncio.wait_for(three.wait(), 60)
            finally:
                os.kill(tor2.pid, signal.SIGCONT)
            await asyncio.wait_for(task, 60)  # it ends once tor2 is reconciled
            assert [left for _, left in calls][:3] == [True, True, True]
            assert calls[-1][1] is False and len(calls) >= 4
            # waits of 0.2, 0.4, 0.8 s before each try, each try a 0.5 s ping
            assert calls[0][0] - start >= 0.2
            assert calls[1][0] - calls[0][0] >= 0.4
            assert calls[2][0] - calls[1][0] >= 0.8
            # the try that worked wrote tor2's whole state (never reconciled before)
            again = await ctl.reconcile(dry_run=True, names=["tor2"])
            assert again.switches["tor2"].plan.empty and not again.switches["tor2"].skipped
        finally:
            await ctl.close()

    asyncio.run(main())
