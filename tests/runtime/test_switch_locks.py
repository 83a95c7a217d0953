"""nve.switch_locks: holds on sets of switches, granted in arrival order among overlapping ones."""

from __future__ import annotations

import asyncio

import pytest

from nve.switch_locks import SwitchLocks


async def _holder(
    locks: SwitchLocks, names: list[str], log: list[str], tag: str, release: asyncio.Event
) -> None:
    async with locks.hold(names):
        log.append(f"{tag} in")
        await release.wait()
        log.append(f"{tag} out")


def test_disjoint_holds_run_together_and_overlapping_ones_wait() -> None:
    async def main() -> list[str]:
        locks = SwitchLocks()
        log: list[str] = []
        gate_a, gate_b, gate_c = asyncio.Event(), asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(_holder(locks, ["tor1"], log, "a", gate_a))
        await asyncio.sleep(0)
        b = asyncio.create_task(_holder(locks, ["tor2"], log, "b", gate_b))
        c = asyncio.create_task(_holder(locks, ["tor1", "tor3"], log, "c", gate_c))
        for _ in range(5):
            await asyncio.sleep(0)
        assert log == ["a in", "b in"]  # c wants tor1, which a holds
        gate_b.set()
        gate_c.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert "c in" not in log
        gate_a.set()
        await asyncio.gather(a, b, c)
        return log

    log = asyncio.run(main())
    assert log.index("a out") < log.index("c in")


def test_a_hold_on_every_switch_is_not_starved_by_later_small_ones() -> None:
    async def main() -> list[str]:
        locks = SwitchLocks()
        log: list[str] = []
        gates = {t: asyncio.Event() for t in ("a", "all", "b", "x")}
        a = asyncio.create_task(_holder(locks, ["tor1"], log, "a", gates["a"]))
        await asyncio.sleep(0)
        every = asyncio.create_task(_holder(locks, ["tor1", "tor2"], log, "all", gates["all"]))
        await asyncio.sleep(0)
        # tor2 is free, but the earlier request for every switch wants it: b queues behind it
        b = asyncio.create_task(_holder(locks, ["tor2"], log, "b", gates["b"]))
        # tor9 is wanted by nobody ahead: x goes straight in
        x = asyncio.create_task(_holder(locks, ["tor9"], log, "x", gates["x"]))
        for _ in range(5):
            await asyncio.sleep(0)
        assert log == ["a in", "x in"]
        for g in gates.values():
            g.set()
        await asyncio.gather(a, every, b, x)
        return log

    log = asyncio.run(main())
    assert log.index("all out") < log.index("b in")


def test_a_cancelled_waiter_lets_the_ones_behind_it_through_and_leaves_nothing_held() -> None:
    async def main() -> None:
        locks = SwitchLocks()
        log: list[str] = []
        gate_a, gate_w, gate_b = asyncio.Event(), asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(_holder(locks, ["tor1"], log, "a", gate_a))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(_holder(locks, ["tor1", "tor2"], log, "w", gate_w))
        await asyncio.sleep(0)
        b = asyncio.create_task(_holder(locks, ["tor2"], log, "b", gate_b))
        for _ in range(3):
            await asyncio.sleep(0)
        assert log == ["a in"]  # b waits behind the waiter on tor1+tor2
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)
        assert log == ["a in", "b in"]
        gate_a.set()
        gate_b.set()
        await asyncio.gather(a, b)
        # granted-then-cancelled: the hold is given back
        gate = asyncio.Event()
        holder = asyncio.create_task(_holder(locks, ["tor1"], log, "h", gate))
        await asyncio.sleep(0)
        late = asyncio.create_task(_holder(locks, ["tor1"], log, "late", asyncio.Event()))
        await asyncio.sleep(0)
        gate.set()
        await holder  # grants tor1 to `late`, which has not run yet
        late.cancel()
        await asyncio.gather(late, return_exceptions=True)
        async with asyncio.timeout(1):
            async with locks.hold(["tor1", "tor2"]):
                pass

    asyncio.run(main())


def test_an_error_inside_a_hold_releases_it() -> None:
    async def main() -> None:
        locks = SwitchLocks()
        with pytest.raises(RuntimeError):
            async with locks.hold(["tor1"]):
                raise RuntimeError("write failed")
        async with asyncio.timeout(1):
            async with locks.hold(["tor1"]):
                pass

    asyncio.run(main())


def test_busy_names_the_switches_held_or_waited_for() -> None:
    async def main() -> None:
        locks = SwitchLocks()
        log: list[str] = []
        gate, gate2 = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(_holder(locks, ["tor1"], log, "a", gate))
        await asyncio.sleep(0)
        b = asyncio.create_task(_holder(locks, ["tor1", "tor2"], log, "b", gate2))
        await asyncio.sleep(0)
        assert [locks.busy(n) for n in ("tor1", "tor2", "tor3")] == [True, True, False]
        gate.set()
        gate2.set()
        await asyncio.gather(a, b)
        assert not locks.busy("tor1") and not locks.busy("tor2")

    asyncio.run(main())
