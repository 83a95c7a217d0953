"""`nve run FILE` with a switch that stops answering (its connection open, nothing
answered): a change of the description still reaches the other switch, the hung one is
left out of that reconcile after its ping's deadline, and once it answers again it is
reconciled on its own (nve.retry) with no further change. Real p4sim switches, SIGSTOP."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

from tests.support.nve_run import NveRun
from tests.support.p4sim import write_overlay
from tests.support.planned import planned_changes

WEB3 = {
    "name": "web3",
    "vsid": 0x001001,
    "mac": "52:54:00:b1:00:03",
    "ipv4": "192.168.10.13",
    "attachment": {"switch": "tor1", "port": 1, "vlan": 100},
}
SUMMARY = re.compile(r"reconciled (\S+): (\d+) written, (\d+) failed(.*), [\d.]+s$")


def _summaries(run: NveRun, after: int) -> list[tuple[str, int, str]]:
    """(switches, written, the rest) of each reconcile summary logged past `after`."""
    out = []
    for line in run.text()[after:].splitlines():
        m = SUMMARY.search(line)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(4)))
    return out


def _wait_summary(run: NveRun, after: int, names: str, timeout: float) -> tuple[int, str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for got, written, rest in _summaries(run, after):
            if got == names and "cut short" not in rest:
                return written, rest
        time.sleep(0.1)
    raise AssertionError(f"no complete reconcile of {names} logged:\n{run.text()[-3000:]}")


def test_nve_run_leaves_a_hung_switch_out_and_reconciles_it_once_it_answers(
    tmp_path, switches, pipeline
):
    path = write_overlay(tmp_path / "o.yaml", switches, pipeline)
    tor2 = switches[1].proc
    assert tor2 is not None
    run = NveRun(path, tmp_path / "nve.log").start()
    try:
        for name in ("tor1", "tor2"):  # each is reconciled when its session is ready
            _wait_summary(run, 0, name, 60)
        os.kill(tor2.pid, signal.SIGSTOP)
        try:
            mark = len(run.text())
            write_overlay(path, switches, pipeline, edit=lambda d: d["endpoints"].append(WEB3))
            # Before the ping this reconcile waited for tor2's Read deadline (300 s).
            line = run.wait_log("tor2: left out of the reconcile", 60, after=mark)
            assert "tor2: Capabilities: DEADLINE_EXCEEDED" in line
            cut = run.wait_log("reconciled tor1,tor2:", 60, after=mark)
            assert "1 switch cut short" in cut
            written = [w for names, w, _ in _summaries(run, mark) if names == "tor1,tor2"]
            assert written[0] > 0  # web3's entries on tor1
        finally:
            os.kill(tor2.pid, signal.SIGCONT)
        # No further change: tor2 is tried again on its own and gets web3's entries.
        written2, _ = _wait_summary(run, mark, "tor2", 90)
        assert written2 > 0
    finally:
        run.stop()
    assert asyncio.run(planned_changes(path)) == {"tor1": 0, "tor2": 0}
