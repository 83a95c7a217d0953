"""A gRPC call ended by its channel closing is a lost connection, not a cancellation."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nve.p4rt_client import SwitchError, _channel_closed_is_an_error


def test_a_cancelled_call_becomes_a_switch_error() -> None:
    async def call() -> None:
        with _channel_closed_is_an_error("tor1", "Read"):
            raise asyncio.CancelledError  # what grpc.aio raises when the channel closes

    with pytest.raises(SwitchError, match="tor1: Read: the connection was closed") as info:
        asyncio.run(call())
    assert info.value.code == grpc.StatusCode.CANCELLED


def test_cancelling_the_task_still_cancels_it() -> None:
    async def main() -> bool:
        started = asyncio.Event()

        async def call() -> None:
            with _channel_closed_is_an_error("tor1", "Read"):
                started.set()
                await asyncio.sleep(60)

        task = asyncio.create_task(call())
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return task.cancelled()

    assert asyncio.run(main())
