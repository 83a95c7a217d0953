"""A switch released while its session is still connecting is released (tests/fleet's
churn test once saw it stay with the old owner).

Python 3.11's `asyncio.wait_for` swallows a cancellation that arrives in the loop turn in
which the awaited thing completes: a replica that gave a switch up 3 ms after taking it
cancelled the session just as the switch answered the arbitration; the session went on,
pushed the pipeline, reconciled, and the release waited for it forever. Here the same
turn is made on purpose, on a real p4sim: the client's stream reader cancels the opening
task as it records the arbitration answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from finsy.proto import p4r

from nve.p4rt_client import SwitchClient
from nve.tasks import cancel_and_wait
from tests.support.p4sim import P4simProcess


@pytest.fixture
def switch(tmp_path: Path):
    proc = P4simProcess().start(tmp_path)
    yield proc
    proc.stop()


class _CancelledOnAnswer(SwitchClient):
    opener: asyncio.Task[bool] | None = None

    async def _on_arbitration(self, arb: p4r.MasterArbitrationUpdate) -> None:
        await super()._on_arbitration(arb)
        if self.opener is not None:  # the answer and the cancellation in one loop turn
            self._arbitrated.set()
            self.opener.cancel()
            self.opener = None


def test_a_cancellation_as_the_switch_answers_ends_the_open(switch: P4simProcess) -> None:
    async def scenario() -> str:
        client = _CancelledOnAnswer(switch.address, 0, 10, name="tor1")
        opener = asyncio.create_task(client.open(5.0))
        client.opener = opener
        try:
            await opener
            return "opened"
        except asyncio.CancelledError:
            return "cancelled"
        finally:
            await client.close()

    assert asyncio.run(scenario()) == "cancelled"


def test_a_task_that_swallows_a_cancellation_is_cancelled_again() -> None:
    ran_on: list[str] = []

    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            ran_on.append("first cancel swallowed")
        await asyncio.sleep(10)
        ran_on.append("never")

    async def scenario() -> None:
        task = asyncio.create_task(stubborn(), name="stubborn")
        await asyncio.sleep(0)
        await cancel_and_wait([task], again_s=0.1)
        assert task.cancelled()  # by the second cancellation, not at the end of its sleep

    asyncio.run(scenario())
    assert ran_on == ["first cancel swallowed"]


def test_cancel_and_wait_retrieves_the_tasks_exceptions() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    async def scenario() -> None:
        task = asyncio.create_task(fails())
        await asyncio.sleep(0)
        await cancel_and_wait([task])
        assert isinstance(task.exception(), ValueError)

    asyncio.run(scenario())
