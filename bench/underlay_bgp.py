"""BGP underlay (lab.fabric): convergence at start, kernel route to switch table, loss windows when a spine fails.

The fabric of tests/fabric (two p4sim ToRs under one `nve run`, two FRR spines, eBGP,
timers 1 s / 3 s), built twice: without BFD, and with BFD at 100 ms x 3. Figures:

- start: from `nve run` starting (the daemons not yet running) to every ToR session
  Established, and to each switch holding the other ToR's PA as an ECMP group of two
  (read over P4Runtime);
- kernel -> switch: a static route added in a ToR's host namespace (`ip route add`) until
  the switch's LPM table holds it, and removed until it is gone (polled every 2 ms over
  P4Runtime: the figure includes the watcher's 50 ms settle and the reconcile);
- loss windows: a VM-to-VM ping every 10 ms (NVGRE across the fabric); the spine that
  carries it fails, silently (a bogus permanent neighbour entry on the spine for each
  ToR's address: its frames go nowhere, nothing changes for anyone's carrier) or with its
  bgpd killed (SIGKILL: the kernel closes its TCP sessions). The window is the longest
  interval between two consecutive echo replies. Targets: hold + 200 ms without BFD,
  1 s with it.

`python -m bench underlay_bgp [--rounds N] [--quick]` (3 rounds, --quick 1). Needs root
and FRR (Debian package frr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from finsy.proto import p4r

from bench._p4sim import quick
from lab.fabric import BgpFabric, Tor, addr
from lab.netns import LabNetwork, can_create_interfaces, install_termination_handler
from lab.targets import PipelineFiles, compile_pipeline
from lab.underlay_tables import read_underlay
from nve.p4info import P4Index, load_p4info
from nve.p4names import Table
from nve.p4rt_client import SwitchClient
from nve.underlay.frr import frr_missing

NVE = str(Path(sys.executable).with_name("nve"))
TIMERS = (1, 3)
PING_INTERVAL = 0.01
BOGUS_MAC = "02:de:ad:00:00:01"


class NveProcess:
    def __init__(self, overlay: Path, log: Path):
        self.overlay, self.log = overlay, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [NVE, "run", str(self.overlay), "--metrics-port", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait(
    what: str, check: Callable[[], object], timeout: float = 60.0, step: float = 0.01
) -> float:
    """Poll `check()` until true; returns the monotonic time it first was."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic()
        time.sleep(step)
    raise TimeoutError(f"{what}: not within {timeout} s")


def sessions_up(fab: BgpFabric) -> bool:
    return all(
        sum(p.established for p in fab.tor_frr(t).peers()) == len(t.plan.uplinks) for t in fab.tors
    )


def ecmp_both(fab: BgpFabric) -> bool:
    for t in fab.tors:
        other = next(o for o in fab.tors if o is not t)
        if read_underlay(t.switch.grpc_addr, fab.pipeline.p4info).group_size(
            f"{other.plan.pa}/32"
        ) != len(t.plan.uplinks):
            return False
    return True


# -- kernel route -> switch table ----------------------------------------------------------


async def _ip(cmd: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd)
    if await proc.wait() != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")


async def _route_latency(tor: Tor, p4info: Path, rounds: int) -> tuple[list[float], list[float]]:
    index = P4Index(load_p4info(p4info))
    table_id = index.table(Table.UNDERLAY_ROUTES_V4).id
    request = [p4r.Entity(table_entry=p4r.TableEntry(table_id=table_id))]
    gateway = addr(tor.plan.uplinks[0].spine_addr)
    dev = f"port{tor.plan.uplinks[0].port}"
    adds, dels = [], []
    async with SwitchClient(tor.switch.grpc_addr, 0, 1) as client:

        async def present(prefix: ipaddress.IPv4Network) -> bool:
            for e in await client.read_all(request):
                m = e.table_entry.match
                if (
                    m
                    and m[0].lpm.prefix_len == prefix.prefixlen
                    and int.from_bytes(m[0].lpm.value, "big") == int(prefix.network_address)
                ):
                    return True
            return False

        async def until(prefix: ipaddress.IPv4Network, want: bool, start: float) -> float:
            while time.monotonic() - start < 30:
                if await present(prefix) == want:
                    return time.monotonic() - start
                await asyncio.sleep(0.002)
            raise TimeoutError(f"{prefix} {'in' if want else 'out of'} the switch")

        for i in range(rounds):
            prefix = ipaddress.IPv4Network(f"10.99.{i}.0/24")
            cmd = ["ip", "-n", tor.host_ns, "route", "add", str(prefix), "via", gateway, "dev", dev]
            t0 = time.monotonic()
            await _ip(cmd)
            adds.append(await until(prefix, True, t0))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            await _ip(["ip", "-n", tor.host_ns, "route", "del", str(prefix)])
            dels.append(await until(prefix, False, t0))
            await asyncio.sleep(0.3)
    return adds, dels


# -- loss windows ----------------------------------------------------------------------------

REPLY = re.compile(r"^\[(\d+\.\d+)\] .*icmp_seq=(\d+)")


@contextlib.contextmanager
def pinging(fab: BgpFabric) -> Iterator[list[float]]:
    """VM1 pings VM2 every 10 ms for the body; yields the reply times, filled at the end."""
    a, b = fab.tors
    proc = subprocess.Popen(
        ["ip", "netns", "exec", a.vm_ns, "ping", "-D", "-n", "-i", str(PING_INTERVAL), "-W", "1",
         b.plan.vm_ip],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    times: list[float] = []
    try:
        yield times
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        times += [float(m.group(1)) for line in out.splitlines() if (m := REPLY.match(line))]


def carrying_spine(fab: BgpFabric) -> int:
    """The spine that carries more of the ping (ECMP hashes the flow onto one per direction)."""

    def rx(i: int) -> int:
        sp = fab.spines[i]
        total = 0
        for dev in sp.interfaces.values():
            out = subprocess.run(
                ["ip", "-n", sp.namespace, "-s", "-j", "link", "show", dev],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            total += json.loads(out.stdout)[0]["stats64"]["rx"]["packets"]
        return total

    before = [rx(0), rx(1)]
    with pinging(fab):
        time.sleep(1.0)
    delta = [rx(0) - before[0], rx(1) - before[1]]
    return 0 if delta[0] >= delta[1] else 1


def fail(fab: BgpFabric, spine: int, how: str) -> None:
    sp = fab.spines[spine]
    if how == "bgpd killed":
        pid = sp.frr.pid("bgpd")
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        return
    for tor in fab.tors:
        u = next(u for u in tor.plan.uplinks if u.spine == spine)
        dev = sp.interfaces[(tor.plan.name, u.port)]
        subprocess.run(
            ["ip", "-n", sp.namespace, "neigh", "replace", addr(u.tor_addr), "lladdr", BOGUS_MAC,
             "dev", dev, "nud", "permanent"], check=True,
        )  # fmt: skip


def repair(fab: BgpFabric, spine: int, how: str) -> None:
    sp = fab.spines[spine]
    if how == "bgpd killed":
        sp.frr.start()
    else:
        for tor in fab.tors:
            u = next(u for u in tor.plan.uplinks if u.spine == spine)
            dev = sp.interfaces[(tor.plan.name, u.port)]
            subprocess.run(
                ["ip", "-n", sp.namespace, "neigh", "del", addr(u.tor_addr), "dev", dev],
                check=False,
            )
    wait("sessions back", lambda: sessions_up(fab), 60, 0.1)
    wait("ECMP over both spines", lambda: ecmp_both(fab), 60, 0.1)


def loss_window(fab: BgpFabric, how: str) -> float:
    spine = carrying_spine(fab)
    with pinging(fab) as times:
        time.sleep(1.0)
        fail(fab, spine, how)
        time.sleep(TIMERS[1] + 3.0)
    repair(fab, spine, how)
    if len(times) < 2:
        raise RuntimeError("the ping got no replies")
    return max(b - a for a, b in itertools.pairwise(times))


FRR_STARTED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*: FRR \(.*\) started in ")


def frr_started(log: Path) -> float:
    """When (epoch) nve run logged the last of its FRR instances started."""
    times = [
        time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
        for line in log.read_text(errors="replace").splitlines()
        if (m := FRR_STARTED.match(line))
    ]
    if not times:
        raise RuntimeError(f"no 'FRR started' line in {log}")
    return max(times)


# -- the run ---------------------------------------------------------------------------------


def one_fabric(
    pipe: PipelineFiles, work: Path, bfd_ms: int | None, rounds: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with LabNetwork() as net:
        fab = BgpFabric.build(net, pipe, work, timers=TIMERS, bfd_ms=bfd_ms)
        nve = NveProcess(fab.overlay, work / "nve-run.log")
        try:
            t0, wall0 = time.monotonic(), time.time()
            nve.start()
            up = wait("sessions", lambda: sessions_up(fab), 60, 0.02)
            frr_at = frr_started(nve.log) - wall0
            out["start: nve run to the last FRR started (s)"] = [frr_at]
            out["start: sessions Established (s)"] = [up - t0]
            out["start: FRR started to sessions Established (s)"] = [up - t0 - frr_at]
            out["start: ECMP of 2 on both switches (s)"] = [
                wait("ECMP", lambda: ecmp_both(fab), 60, 0.02) - t0
            ]
            if bfd_ms is None:
                adds, dels = asyncio.run(
                    _route_latency(fab.tors[0], fab.pipeline.p4info, rounds * 3)
                )
                out["kernel route added -> switch (ms)"] = [a * 1000 for a in adds]
                out["kernel route removed -> switch (ms)"] = [d * 1000 for d in dels]
            for how in ("silent link", "bgpd killed"):
                out[f"loss window, spine {how} (ms)"] = [
                    loss_window(fab, how) * 1000 for _ in range(rounds)
                ]
        finally:
            nve.stop()
            fab.close()
    return out


def main() -> None:
    why = can_create_interfaces() or frr_missing()
    if why is not None:
        print(f"  skipped: {why}")
        return
    p = argparse.ArgumentParser(prog="bench underlay_bgp")
    p.add_argument("--rounds", type=int, default=1 if quick() else 3)
    p.add_argument("--quick", action="store_true")
    opts, _ = p.parse_known_args(sys.argv[1:])
    install_termination_handler()
    print(f"  timers {TIMERS[0]} s / {TIMERS[1]} s, ping every {PING_INTERVAL * 1000:.0f} ms,"
          f" {opts.rounds} rounds; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pipe = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
        for bfd_ms in (None, 100):
            sub = work / f"bfd{bfd_ms or 0}"
            sub.mkdir()
            label = f"BFD {bfd_ms} ms x 3" if bfd_ms else "no BFD (hold 3 s)"
            for name, values in one_fabric(pipe, sub, bfd_ms, opts.rounds).items():
                med = statistics.median(values)
                print(
                    f"  {label:<20} {name:<42} median {med:8.1f}  worst {max(values):8.1f}  (n={len(values)})"
                )
