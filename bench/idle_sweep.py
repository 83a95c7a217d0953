"""p4sim idle-timeout sweep: cost of one server tick with 65,536 learned MACs installed.

The NVGRE program in the large profile, in-process, with `NveIngress.learn.smac` (a
support_timeout table, 65,536 entries in that profile) filled through the runtime-state API.
Three cases: every entry has a (long) idle timeout and none has expired, the steady state of
a switch full of learned MACs; the same table filled with entries without an idle timeout,
which the sweep should not need to look at; and every entry expired at once, where the figure
is how many ticks and how much sweep time it takes until each entry has been notified, which
must be exactly once (a benchmark that miscounted notifications would be worthless).
The server's tick is called directly (no gRPC), so the figure is the sweep itself.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from finsy.proto import p4r

from bench._p4sim import quick
from nve import p4names
from p4sim.compiler import compile_file
from p4sim.pipeline_api import DropPipeline
from p4sim.server.arbitration import Controller
from p4sim.server.service import P4RuntimeService
from p4sim.state import Table, TableEntry, build_state
from p4sim.switch import PipelineConfig, Switch

ROOT = Path(__file__).resolve().parent.parent
TABLE = p4names.Table.LEARN_SMAC
HOUR_NS = 3600 * 10**9


class _Sink:
    """Stands in for a primary controller's stream: counts the idle-timeout entries sent."""

    def __init__(self) -> None:
        self.notified: dict[tuple[bytes, ...], int] = {}

    def send(self, msg: p4r.StreamMessageResponse) -> None:
        for te in msg.idle_timeout_notification.table_entry:
            key = tuple(m.exact.value for m in te.match)
            self.notified[key] = self.notified.get(key, 0) + 1


def _service(program: Any) -> tuple[P4RuntimeService, Table, _Sink]:
    st = build_state(program.p4info())
    switch = Switch(device_id=0)
    switch.config = PipelineConfig(program.p4info(), b"", None, program, st, DropPipeline())
    service = P4RuntimeService(switch)
    sink = _Sink()
    # the sink arbitrates as the primary (the arbitration response it gets counts nothing)
    service.arbiter.join(Controller(switch.device_id, "", 1, sink.send))
    return service, st.table(TABLE), sink


def _fill(table: Table, timeout_ns: int, now_ns: int) -> None:
    """Fill the table with distinct keys (the sweep never looks at the action)."""
    for i in range(table.size):
        values = {
            p4names.Key.VSI: i % 4096,
            p4names.Key.MAC: 0x020000000000 + i,
            p4names.Key.PORT: i % 512,
        }
        key = tuple(values[f.name] for f in table.fields)
        table.insert(TableEntry(key, 0, (), idle_timeout_ns=timeout_ns, now_ns=now_ns))


def _tick_ms(service: P4RuntimeService, ticks: int) -> float:
    times: list[float] = []
    for _ in range(ticks):
        t0 = time.perf_counter()
        service.tick()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    program = compile_file(
        ROOT / "p4src/v1model/nvgre_nve.p4",
        include_dirs=[ROOT / "p4src/include"],
        defines={"NVE_PROFILE_LARGE": 1},
    )
    ticks = 20 if quick() else 60
    now = time.monotonic_ns()

    service, table, sink = _service(program)
    _fill(table, HOUR_NS, now)
    print(
        f"  {len(table)} entries with idle timeouts, none expired: "
        f"{_tick_ms(service, ticks):.2f} ms per tick (median of {ticks})"
    )
    if sink.notified:
        raise SystemExit("entries that had not expired were notified")

    service, table, sink = _service(program)
    _fill(table, 0, now)
    print(
        f"  {len(table)} entries without idle timeouts: "
        f"{_tick_ms(service, ticks):.2f} ms per tick (median of {ticks})"
    )

    service, table, sink = _service(program)
    _fill(table, 1, now - 1)
    total, n = 0.0, 0
    while len(sink.notified) < len(table) and n < 10_000:
        t0 = time.perf_counter()
        service.tick()
        total += time.perf_counter() - t0
        n += 1
    if len(sink.notified) != len(table) or any(c != 1 for c in sink.notified.values()):
        raise SystemExit(
            f"expected each of {len(table)} entries notified once, got {len(sink.notified)} "
            f"entries, max {max(sink.notified.values(), default=0)} times"
        )
    print(
        f"  {len(table)} entries all expired: each notified once after {n} ticks, "
        f"{total * 1000:.1f} ms sweep time in all ({total * 1000 / n:.2f} ms per tick)"
    )
