"""A switch that stops answering holds back no other switch's reconcile (nve.switch_locks),
against real p4sim switches over real gRPC."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from nve.controller import Controller
from nve.diff import Change
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
            os.kill(tor1.pid, signal.SIGSTOP)  # tor1 hangs: its Read is never answered
            try:
                stuck = asyncio.create_task(ctl.reconcile(names=["tor1"]))
                await asyncio.sleep(0.5)
                assert not stuck.done()
                # Before per-switch holds this waited for tor1's reconcile, i.e. forever.
                other = await asyncio.wait_for(ctl.reconcile(names=["tor2"]), 60)
                assert other.ok and set(other.switches) == {"tor2"}
                assert other.switches["tor2"].plan.empty  # read and compared, nothing to do
                assert not stuck.done()
                # ... and a reconcile of both waits for tor1, as it must
                both = asyncio.create_task(ctl.reconcile())
                await asyncio.sleep(0.5)
                assert not both.done()
            finally:
                os.kill(tor1.pid, signal.SIGCONT)
            resumed = await asyncio.wait_for(stuck, 60)
            assert resumed.ok and set(resumed.switches) == {"tor1"}
            everything = await asyncio.wait_for(both, 60)
            assert everything.ok and set(everything.switches) == {"tor1", "tor2"}
        finally:
            await ctl.close()

    asyncio.run(main())


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
                with pytest.raises(SwitchError, match="tor1: Read: DEADLINE_EXCEEDED"):
                    await asyncio.wait_for(ctl.reconcile(names=["tor1"]), 60)
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
