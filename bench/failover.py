"""Controller failover: time for a backup to become primary after the primary leaves, and the
arbitration messages the backups send meanwhile.

A p4sim switch runs as its own process on loopback; the controllers are `nve`'s own P4Runtime
clients (`nve.p4rt_client.SwitchClient`). Two cases, each on a fresh switch per round:

- the issue's: election ids 20 (primary) and 10 (backup, default priority 10, whose turn
  comes after ~0.98 s);
- three controllers: a primary and two backups with priorities 255 (a 4 ms turn) and 100.

The primary's stream is closed; the figures are the time until the switch tells the backup
that takes over that it is primary, that time less the backup's own turn (what the protocol
costs: timer, one message each way), and the arbitration messages all backups sent in the
WINDOW_S seconds after the primary left (the re-arbitration storm this replaced sent ~1,500
a second for as long as it lasted). `--quick`: 3 rounds, else 10; median and worst.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._p4sim import P4simProcess, quick
from nve.p4rt_client import SwitchClient
from nve.takeover import PRIORITY_MAX, STEP_S

WINDOW_S = 2.0


@dataclass
class Case:
    name: str
    primary: int  # election id
    backups: list[tuple[int, int | None]]  # (election id, priority) each; the first takes over


CASES = [
    Case("two controllers, ids 20 and 10", 20, [(10, None)]),
    Case("three controllers, priorities 255 and 100", 100, [(50, 255), (40, 100)]),
]


@dataclass
class Round:
    takeover_s: float
    turn_s: float
    messages: int


async def _wait_primary(client: SwitchClient, timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not client.is_primary:
        client.arbitration_changed.clear()
        left = end - time.perf_counter()
        if left <= 0:
            raise RuntimeError(f"{client.name}: no takeover within {timeout} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.arbitration_changed.wait(), left)


async def _one(address: str, case: Case) -> Round:
    primary = SwitchClient(address, 0, case.primary, name=f"c{case.primary}")
    backups = [SwitchClient(address, 0, e, name=f"c{e}", priority=p) for e, p in case.backups]
    for c in (primary, *backups):
        await c.open()
    if not primary.is_primary:
        raise RuntimeError(f"{primary.name} is not primary")
    sent = sum(c.arbitrations_sent for c in backups)
    start = time.perf_counter()
    await primary.close()
    await _wait_primary(backups[0])
    took = time.perf_counter() - start
    await asyncio.sleep(max(0.0, WINDOW_S - took))
    messages = sum(c.arbitrations_sent for c in backups) - sent
    others = [c.name for c in backups[1:] if c.is_primary]
    if others:
        raise RuntimeError(f"{others} became primary too")
    for c in backups:
        await c.close()
    turn = (PRIORITY_MAX + 1 - backups[0].takeover.priority) * STEP_S
    return Round(took, turn, messages)


def main() -> None:
    rounds = 3 if quick() else 10
    results: dict[str, list[Round]] = {c.name: [] for c in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for case in CASES:
                switch = P4simProcess().start(Path(tmp))
                try:
                    results[case.name].append(asyncio.run(_one(switch.address, case)))
                finally:
                    switch.stop()
    for name, got in results.items():
        took = [r.takeover_s * 1000 for r in got]
        over = [(r.takeover_s - r.turn_s) * 1000 for r in got]
        msgs = [r.messages for r in got]
        print(f"  {name} ({rounds} rounds):")
        print(
            f"    takeover after the primary left: median {statistics.median(took):.0f} ms,"
            f" worst {max(took):.0f} ms (the backup's turn: {got[0].turn_s * 1000:.0f} ms + jitter)"
        )
        print(
            f"    beyond the turn: median {statistics.median(over):.1f} ms, worst {max(over):.1f} ms"
        )
        print(
            f"    arbitration messages from all backups in the {WINDOW_S:.0f} s after: "
            f"median {statistics.median(msgs):.0f}, worst {max(msgs)}"
            f" ({max(msgs) / WINDOW_S:.1f}/s)"
        )


if __name__ == "__main__":
    main()
