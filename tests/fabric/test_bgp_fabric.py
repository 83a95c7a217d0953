"""A leaf-spine fabric with a BGP underlay (lab.fabric): two p4sim ToRs (AS 65101,
65102) whose control-plane hosts run FRR under `nve run`, two FRR spines (AS 65000),
eBGP between every ToR and every spine, a VM behind each ToR.

Sessions come up through the switches (BGP, ARP punted and relayed to the hosts); each
ToR learns the other's PA over both spines (an ECMP group of two on the switch, read
back over P4Runtime); NVGRE between the VMs crosses with no static neighbour or route
anywhere; a restart of `nve` leaves the sessions up; a spine that fails (its bgpd killed,
or its link silently black-holed: found by the hold timer, 9 s here, since P4Runtime
carries no port status and the hosts' TAPs never lose carrier; the hold time is also
what bridges the controller's restart, about 3 s here) moves traffic to the
other spine; after every change the switch's underlay tables equal its host kernel's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from lab.fabric import BgpFabric, Tor, addr
from lab.underlay_tables import Underlay, kernel_paths, read_underlay
from nve.underlay.frr import FrrError
from tests.fabric.rig import built_fabric, running_nve
from tests.support.nve_run import NVE, NveRun

pytestmark = pytest.mark.root


def until(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    end = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < end:
        try:
            last = check()
        except (KeyError, subprocess.CalledProcessError, FrrError) as exc:  # FRR starting
            last = f"{type(exc).__name__}: {exc}"
        if last is True or (last and not isinstance(last, str)):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BgpFabric]:
    with built_fabric(tmp_path_factory, "BGP fabric") as fab:
        yield fab


@pytest.fixture(scope="module")
def nve(fabric: BgpFabric) -> Iterator[NveRun]:
    with running_nve(fabric) as run:
        yield run


def tables(fabric: BgpFabric, tor: Tor) -> Underlay:
    return read_underlay(tor.switch.grpc_addr, fabric.pipeline.p4info)


def switch_v4(fabric: BgpFabric, tor: Tor) -> dict[str, set[tuple[int, str]]]:
    return {p: s for p, s in tables(fabric, tor).all_paths().items() if ":" not in p}


def same_as_kernel(fabric: BgpFabric, tor: Tor) -> object:
    """True when the switch's IPv4 underlay routes equal its host kernel's, else both."""
    switch, kernel = switch_v4(fabric, tor), kernel_paths(tor.host_ns)
    return True if switch == kernel else f"switch {switch} != kernel {kernel}"


def tables_follow_kernel(fabric: BgpFabric) -> None:
    """Each switch's tables equal its host's kernel (once the controller caught up)."""
    for tor in fabric.tors:
        until(f"{tor.plan.name}: switch tables = kernel", partial(same_as_kernel, fabric, tor))


def spine_mac(fabric: BgpFabric, spine: int, tor: Tor, port: int) -> str:
    sp = fabric.spines[spine]
    dev = sp.interfaces[(tor.plan.name, port)]
    shown = subprocess.run(
        ["ip", "-n", sp.namespace, "-j", "link", "show", dev],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(shown.stdout)[0]["address"]


def other(fabric: BgpFabric, tor: Tor) -> Tor:
    return next(t for t in fabric.tors if t is not tor)


def established(fabric: BgpFabric, tor: Tor) -> list[str]:
    peers = fabric.tor_frr(tor).peers()
    return sorted(p.address for p in peers if p.established)


def uplinks_up(fabric: BgpFabric) -> None:
    for tor in fabric.tors:
        want = sorted(addr(u.spine_addr) for u in tor.plan.uplinks)
        until(
            f"{tor.plan.name}: both sessions Established",
            partial(lambda t, w: established(fabric, t) == w, tor, want),
            60,
        )


def pa_paths(fabric: BgpFabric, tor: Tor) -> set[tuple[int, str]]:
    return tables(fabric, tor).paths(f"{other(fabric, tor).plan.pa}/32")


def both_spines(fabric: BgpFabric, tor: Tor) -> set[tuple[int, str]]:
    return {(u.port, spine_mac(fabric, u.spine, tor, u.port)) for u in tor.plan.uplinks}


def ping(
    fabric: BgpFabric, count: int = 5, interval: float = 0.2
) -> subprocess.CompletedProcess[str]:
    a, b = fabric.tors
    return subprocess.run(
        ["ip", "netns", "exec", a.vm_ns, "ping", "-c", str(count), "-i", str(interval), "-W", "2",
         b.plan.vm_ip],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def spine_rx(fabric: BgpFabric, spine: int) -> int:
    sp = fabric.spines[spine]
    total = 0
    for dev in sp.interfaces.values():
        out = subprocess.run(
            ["ip", "-n", sp.namespace, "-j", "-s", "link", "show", dev],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        total += json.loads(out.stdout)[0]["stats64"]["rx"]["packets"]
    return total


def test_sessions_establish_through_the_switches(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    for sp in fabric.spines:
        assert sum(p.established for p in sp.frr.peers()) == 2
    shown = subprocess.run(
        [NVE, "show", str(fabric.overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    for tor in fabric.tors:
        for u in tor.plan.uplinks:
            assert f"bgp: {addr(u.spine_addr)} AS 65000 (ipv4): Established" in shown.stdout


def test_each_tor_learns_the_others_pa_over_both_spines(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    for tor in fabric.tors:
        until(
            f"{tor.plan.name}: ECMP over both spines",
            partial(lambda t: pa_paths(fabric, t) == both_spines(fabric, t), tor),
        )
        assert tables(fabric, tor).group_size(f"{other(fabric, tor).plan.pa}/32") == 2
    tables_follow_kernel(fabric)


def test_nvgre_crosses_the_fabric(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    before = spine_rx(fabric, 0) + spine_rx(fabric, 1)
    out = until("VM to VM ping", lambda: (r := ping(fabric, 3)).returncode == 0 or r.stdout)
    assert out is True
    assert spine_rx(fabric, 0) + spine_rx(fabric, 1) - before >= 6  # requests and replies


def test_an_nve_restart_leaves_the_sessions_up(fabric: BgpFabric, nve: NveRun) -> None:
    uplinks_up(fabric)
    tor = fabric.tors[0]
    frr = fabric.tor_frr(tor)
    pids = {d: frr.pid(d) for d in frr.daemons}
    before = {p.address: p.uptime_ms for p in frr.peers()}
    nve.stop()
    nve.start()
    assert {d: frr.pid(d) for d in frr.daemons} == pids
    after = {p.address: p for p in frr.peers()}
    for address, uptime in before.items():
        assert after[address].established and after[address].uptime_ms >= uptime, address
    tables_follow_kernel(fabric)


def fail_over(fabric: BgpFabric, how: str) -> None:
    """Spine 1 is gone for the ToRs: traffic between the VMs crosses spine 2 only."""
    for tor in fabric.tors:
        spine2 = {
            (u.port, spine_mac(fabric, 1, tor, u.port)) for u in tor.plan.uplinks if u.spine == 1
        }
        until(f"{tor.plan.name}: PA of the other ToR via spine 2 only ({how})",
              partial(lambda t, w: pa_paths(fabric, t) == w, tor, spine2))  # fmt: skip
    tables_follow_kernel(fabric)
    s1, s2 = spine_rx(fabric, 0), spine_rx(fabric, 1)
    assert ping(fabric, 40, 0.05).returncode == 0  # 80 packets in 2 s
    assert spine_rx(fabric, 1) - s2 >= 80
    # Spine 1 still hears the ToRs' attempts to reach it (TCP SYNs, BFD, ARP): a few a second.
    assert spine_rx(fabric, 0) - s1 < 30


def recovered(fabric: BgpFabric) -> None:
    uplinks_up(fabric)
    for tor in fabric.tors:
        until(f"{tor.plan.name}: ECMP over both spines again",
              partial(lambda t: pa_paths(fabric, t) == both_spines(fabric, t), tor))  # fmt: skip
    tables_follow_kernel(fabric)


def test_a_killed_spine_bgpd_moves_traffic_to_the_other_spine(
    fabric: BgpFabric, nve: NveRun
) -> None:
    uplinks_up(fabric)
    spine = fabric.spines[0].frr
    pid = spine.pid("bgpd")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    fail_over(fabric, "bgpd killed")
    spine.start()
    recovered(fabric)


def test_a_silent_spine_link_is_found_by_the_hold_timer(fabric: BgpFabric, nve: NveRun) -> None:
    """Spine 1's frames toward both ToRs go to a MAC nobody has: the ToRs hear nothing
    from it, with no carrier change anywhere (P4Runtime reports no port status)."""
    uplinks_up(fabric)
    sp = fabric.spines[0]
    black = []
    for tor in fabric.tors:
        u = next(u for u in tor.plan.uplinks if u.spine == 0)
        dev = sp.interfaces[(tor.plan.name, u.port)]
        black.append((addr(u.tor_addr), dev))
    for ip, dev in black:
        subprocess.run(["ip", "-n", sp.namespace, "neigh", "replace", ip, "lladdr", "02:de:ad:00:00:01",
                        "dev", dev, "nud", "permanent"], check=True)  # fmt: skip
    try:
        fail_over(fabric, "silent link")
    finally:
        for ip, dev in black:
            subprocess.run(["ip", "-n", sp.namespace, "neigh", "del", ip, "dev", dev], check=False)
    recovered(fabric)
