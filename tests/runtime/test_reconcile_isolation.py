"""A switch that stops answering holds back no other switch's reconcile (nve.switch_locks),
against real p4sim switches over real gRPC."""

from __future__ import annotations

import asyncio
import os
import signal

from nve.controller import Controller
from nve.loader import load_overlay
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
