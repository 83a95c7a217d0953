"""RFC 2544 throughput and latency between veths, encap and decap: p4sim beside simple_switch_grpc.

Throughput here is RFC 2544's (§26.1): the highest offered rate at which the switch loses
no frame at all, found by searching the offered rate (:mod:`bench._rate_search`).  Each
target runs the NVGRE program (small profile) on the same two veth pairs, one after the
other: port 1 is an access port with a local customer endpoint, port 2 a network port
toward a remote NVE, and ``nve apply`` installs the overlay.  Paths:

* encap: a customer frame offered on the access port must come out of the network port in
  NVGRE toward the remote PA;
* decap: an NVGRE frame offered on the network port must come out of the access port as
  the bare customer frame.

Frame size is the frame offered to the switch, as written to the veth (veths carry no FCS):
the customer frame for encap, the whole NVGRE frame for decap.  Sizes 64, 512 and 1,400
bytes; decap cannot offer 64 bytes (42 bytes of outer Ethernet, IPv4 and GRE headers plus a
customer frame of at least 60), so its smallest is 102 bytes, reported as such.  Rates in
Mb/s count those frame bytes only (no preamble, gap or FCS).

The traffic (:mod:`bench._traffic`) is one process pinned to one CPU that paces frames at
the offered rate and receives and checks every frame out; the switch process and all its
threads are pinned to the other CPU; this process stays on the traffic's CPU.  A search
starts from a short unpaced probe (what the switch forwards when overloaded is the first
guess; 90 % of what the generator offered unpaced is the ceiling).  A trial offers the rate
for ``--duration`` seconds (10 s by default: our choice, RFC 2544 asks 60 s), then waits
``--drain`` seconds (2 s, RFC 2544 §23) for the last frames; loss is offered minus
received, and zero loss means exactly zero.  A trial with zero loss still fails ("behind")
if the switch did not keep up: when the offer ended, more than ``--max-backlog-ms`` worth
of frames were still inside it (by default the search's resolution times the trial's
duration, 200 ms), so a deep socket buffer cannot hide an overload larger than the search
can resolve.  The generator is checked too.  Held up (its CPU taken by another task), it
catches up at most ``--max-catchup-ms`` worth of frames at once and gives up the rest of the
lost time, so it never offers more than the nominal rate beyond a 5-ms burst; a trial whose
achieved rate (frames offered over the time taken) is short of the nominal rate by more
than 0.5 %, or in which the receiver dropped frames, is invalid, repeated (``--retries``),
and not counted as a result of the switch; a rate the generator cannot offer bounds the
search like a ceiling.

Latency (RFC 2544 §26.2) is measured at the throughput rate: every frame carries its send
time, and the median and 99th percentile of receive minus send time are those of all the
frames of the passing trial at that rate: wall-clock time through both veths and the
switch, with the receiver's granularity (its wake-up, or a burst it was sending) included.

``python -m bench switch_pps [--target p4sim|bmv2] [--quick] [--sizes 64,1400]
[--duration S] [--drain S] [--resolution F] [--max-catchup-ms MS] [--max-backlog-ms MS]
[--gen-cpu N] [--switch-cpu N] [--nice N]``.  ``--nice -10`` runs the traffic and the
switch at that nice value, for a machine where other work would take their CPUs.
``--quick`` (or NVE_BENCH_QUICK=1) is for development and tests: 2-s trials, 0.5-s drain,
4 % resolution, 64-byte frames only.  A full run takes about 25 minutes (2 targets x 2
paths x 3 sizes, ~9 trials of 10-12 s each).  Needs root and two CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import GRE, Ether

from bench._build_info import bmv2_build, p4sim_build
from bench._p4sim import quick
from bench._rate_search import Outcome, RateSearch, judge_trial
from bench._traffic import MARKER, MARKER_LEN, TrialResult, TrialSpec, rx_socket, tx_socket
from lab.netns import (
    LabNetwork,
    VethPair,
    can_create_interfaces,
    install_termination_handler,
)
from lab.targets import (
    RunningSwitch,
    TargetUnavailable,
    bmv2_missing,
    compile_pipeline,
    p4sim_executable,
    start_switch,
)

REPO = Path(__file__).resolve().parents[1]
VSID = 0x001001
NVE_MAC, SPINE_MAC = "02:00:0a:00:00:01", "02:00:0b:00:00:01"
LOCAL_MAC, FAR_MAC = "52:54:00:00:00:01", "52:54:00:00:00:02"
LOCAL_PA, FAR_PA = "10.0.0.1", "10.0.0.2"
NVGRE_OVERHEAD = 42  # outer Ethernet 14 + IPv4 20 + GRE with key 8
MIN_CUSTOMER = 60  # Ethernet's minimum frame, without FCS
TARGET_NAMES = {"p4sim": "p4sim", "bmv2": "simple_switch_grpc"}
RATIO_GOAL = 5.0

OVERLAY = """
switches:
  - name: s1
    address: {address}
    device_id: 0
    election_id: 1
    pipeline: {{p4info: {p4info}, device_config: {device_config}}}
    nve_mac: "{nve_mac}"
    local_pas: [{local_pa}]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: network}}
    next_hops: [{{name: spine, port: 2, mac: "{spine_mac}"}}]
    underlay_routes: [{{prefix: 10.0.0.0/16, via: spine}}]
tenants:
  - name: t
    vrf: 1
    subnets: [{{name: s, vsid: {vsid}}}]
endpoints:
  - {{name: near, vsid: {vsid}, mac: "{local_mac}", ipv4: 192.168.1.1, attachment: {{switch: s1, port: 1}}}}
  - {{name: far, vsid: {vsid}, mac: "{far_mac}", ipv4: 192.168.1.2, attachment: {{remote_nve: hv}}}}
remote_nves:
  - {{name: hv, pa: {far_pa}, vsids: [{vsid}]}}
"""


@dataclass
class Options:
    targets: list[str]
    sizes: list[int]
    duration: float
    drain: float
    resolution: float
    max_trials: int
    max_catchup_ms: float
    max_backlog_ms: float
    retries: int
    probe: float
    gen_cpu: int
    switch_cpu: int
    nice: int
    quick: bool


def parse_options(argv: list[str]) -> Options:
    """Options from the command line; words that are not options (the benchmark names given
    to ``python -m bench``) are ignored."""
    fast = quick()
    cpus = sorted(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(
        prog="python -m bench switch_pps", add_help=False, allow_abbrev=False
    )
    p.add_argument("--target", choices=["all", "p4sim", "bmv2", "simple_switch_grpc"])
    p.add_argument("--sizes", default="64" if fast else "64,512,1400")
    p.add_argument("--duration", type=float, default=2.0 if fast else 10.0)
    p.add_argument("--drain", type=float, default=0.5 if fast else 2.0)
    p.add_argument("--resolution", type=float, default=0.04 if fast else 0.02)
    p.add_argument("--max-trials", type=int, default=10 if fast else 14)
    p.add_argument("--max-catchup-ms", type=float, default=5.0)
    p.add_argument("--max-backlog-ms", type=float, default=None)
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--probe", type=float, default=0.5 if fast else 1.0)
    p.add_argument("--gen-cpu", type=int, default=cpus[0])
    p.add_argument("--switch-cpu", type=int, default=cpus[1] if len(cpus) > 1 else cpus[0])
    p.add_argument("--nice", type=int, default=0)
    p.add_argument("--quick", action="store_true")
    args, rest = p.parse_known_args(argv)
    unknown = [a for a in rest if a.startswith("-")]
    if unknown:
        p.error(f"unknown options {' '.join(unknown)} (see the module's docstring)")
    target = {"simple_switch_grpc": "bmv2", None: "all"}.get(args.target, args.target)
    return Options(
        targets=["p4sim", "bmv2"] if target == "all" else [target],
        sizes=[int(s) for s in args.sizes.split(",") if s.strip()],
        duration=args.duration,
        drain=args.drain,
        resolution=args.resolution,
        max_trials=args.max_trials,
        max_catchup_ms=args.max_catchup_ms,
        # A switch that falls behind hides at most the search's resolution in its buffers.
        max_backlog_ms=(
            args.max_backlog_ms
            if args.max_backlog_ms is not None
            else args.resolution * args.duration * 1e3
        ),
        retries=max(0, args.retries),
        probe=args.probe,
        gen_cpu=args.gen_cpu,
        switch_cpu=args.switch_cpu,
        nice=args.nice,
        quick=fast,
    )


# -- frames ------------------------------------------------------------------------------------


def customer_frame(size: int, *, reverse: bool = False) -> bytes:
    """A UDP customer frame of exactly ``size`` bytes, near -> far (far -> near if reverse).
    The UDP checksum is 0 (none), so the marker the generator writes at the end keeps the
    frame valid."""
    src, dst = (FAR_MAC, LOCAL_MAC) if reverse else (LOCAL_MAC, FAR_MAC)
    sip, dip = ("192.168.1.2", "192.168.1.1") if reverse else ("192.168.1.1", "192.168.1.2")
    sport, dport = (5001, 40000) if reverse else (40000, 5001)
    pad = size - 42
    if pad < MARKER_LEN:
        raise ValueError(f"a {size}-byte customer frame has no room for the marker")
    return bytes(
        Ether(src=src, dst=dst)
        / IP(src=sip, dst=dip)
        / UDP(sport=sport, dport=dport, chksum=0)
        / bytes(pad)
    )


def nvgre_frame(size: int) -> bytes:
    """An NVGRE frame of exactly ``size`` bytes from the remote NVE to the local endpoint."""
    inner = customer_frame(size - NVGRE_OVERHEAD, reverse=True)
    return bytes(
        Ether(src=SPINE_MAC, dst=NVE_MAC)
        / IP(src=FAR_PA, dst=LOCAL_PA, flags="DF", ttl=63)
        / GRE(key_present=1, proto=0x6558, key=VSID << 8)
        / inner
    )


def offered_size(path: str, size: int) -> int:
    """The frame size actually offered: decap's smallest is 102 bytes."""
    return max(size, NVGRE_OVERHEAD + MIN_CUSTOMER) if path == "decap" else size


def mark(frame: bytes, trial_id: int, seq: int) -> bytes:
    out = bytearray(frame)
    MARKER.pack_into(out, len(out) - MARKER_LEN, trial_id, seq, time.perf_counter_ns())
    return bytes(out)


def check_output(path: str, offered: bytes, out: bytes) -> str | None:
    """Why ``out`` is not what ``path`` must make of ``offered`` (None: it is)."""
    if path == "decap":
        inner = bytes(Ether(offered)[GRE].payload)
        return None if out == inner else "the frame out is not the inner customer frame"
    p = Ether(out)
    if GRE not in p or IP not in p:
        return "the frame out is not IPv4/GRE"
    problems = [
        what
        for what, ok in (
            ("outer destination MAC", p.dst == SPINE_MAC),
            ("outer source MAC", p.src == NVE_MAC),
            ("outer source IP", p[IP].src == LOCAL_PA),
            ("outer destination IP", p[IP].dst == FAR_PA),
            ("GRE protocol", p[GRE].proto == 0x6558),
            ("VSID", p[GRE].key is not None and p[GRE].key >> 8 == VSID),
            ("inner frame", bytes(p[GRE].payload) == offered),
        )
        if not ok
    ]
    return "wrong " + ", ".join(problems) if problems else None


def expected_output(tx_if: str, rx_if: str, path: str, frame: bytes) -> bytes:
    """Offer two marked frames and check what comes out; return the frame out without its
    marker, which every frame out of a trial must match byte for byte."""
    rx, tx = rx_socket(rx_if), tx_socket(tx_if)
    rx.settimeout(2.0)
    try:
        outs: list[bytes] = []
        for seq in (1, 2):
            sent = mark(frame, 0, seq)
            for _attempt in range(3):
                tx.send(sent)
                out = _receive_marked(rx, 0, seq)
                if out is not None:
                    break
            else:
                raise RuntimeError(f"{path}: no frame came out of {rx_if}")
            why = check_output(path, sent, out)
            if why:
                raise RuntimeError(f"{path}: {why}: {out.hex()}")
            outs.append(out)
        if outs[0][:-MARKER_LEN] != outs[1][:-MARKER_LEN]:
            raise RuntimeError(f"{path}: frames out differ beyond the marker")
        return outs[0][:-MARKER_LEN]
    finally:
        rx.close()
        tx.close()


def _receive_marked(rx: socket.socket, trial_id: int, seq: int) -> bytes | None:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            data = rx.recv(4096)
        except (TimeoutError, BlockingIOError):
            return None
        if len(data) >= MARKER_LEN:
            tid, got, _ts = MARKER.unpack_from(data, len(data) - MARKER_LEN)
            if (tid, got) == (trial_id, seq):
                return data
    return None


# -- CPUs ----------------------------------------------------------------------------------------


def pin_process(pid: int, cpu: int, nice: int = 0) -> int:
    """Pin every thread of ``pid`` to ``cpu`` (and set its nice value); return how many
    threads it has."""
    tasks = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    for tid in tasks:
        try:
            os.sched_setaffinity(tid, {cpu})
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except ProcessLookupError:
            continue
    return len(tasks)


def thread_cpus(pid: int) -> set[int]:
    cpus: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            cpus |= os.sched_getaffinity(int(task.name))
        except ProcessLookupError:
            continue
    return cpus


def start_pinned(
    target: str, pairs: list[VethPair], pipeline_dir: Path, opts: Options
) -> RunningSwitch:
    """Start the switch with this process's affinity (and nice value) set to the switch's
    for the fork, so that the switch and every thread it ever starts inherit them; then
    set them again on every thread that exists."""
    pipeline = compile_pipeline(target, pipeline_dir, {"NVE_PROFILE_SMALL": ""})
    os.sched_setaffinity(0, {opts.switch_cpu})
    os.setpriority(os.PRIO_PROCESS, 0, opts.nice)
    try:
        switch = start_switch(target, pairs, pipeline, pipeline_dir)
    finally:
        os.sched_setaffinity(0, {opts.gen_cpu})
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    pin_process(switch.proc.pid, opts.switch_cpu, opts.nice)
    return switch


def apply_overlay(switch: RunningSwitch, work: Path) -> None:
    overlay = work / "overlay.yaml"
    overlay.write_text(
        OVERLAY.format(
            address=switch.grpc_addr,
            p4info=switch.pipeline.p4info,
            device_config=switch.pipeline.device_config,
            nve_mac=NVE_MAC,
            spine_mac=SPINE_MAC,
            local_pa=LOCAL_PA,
            far_pa=FAR_PA,
            vsid=VSID,
            local_mac=LOCAL_MAC,
            far_mac=FAR_MAC,
        )
    )
    nve = str(Path(sys.executable).with_name("nve"))
    applied = subprocess.run(
        [nve, "apply", str(overlay)], check=False, capture_output=True, text=True
    )
    if applied.returncode != 0:
        raise RuntimeError(f"nve apply failed: {applied.stderr or applied.stdout}")


# -- trials and the search ------------------------------------------------------------------------


def run_traffic(spec: TrialSpec) -> TrialResult:
    """One trial in the traffic process (see bench._traffic)."""
    timeout = spec.duration + spec.drain + 60
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench._traffic"],
            input=json.dumps(asdict(spec)),
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the traffic process took more than {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"traffic process failed: {proc.stderr.strip()[-2000:]}")
    return TrialResult(**json.loads(proc.stdout))


@dataclass
class Cell:
    """One target x path x size: the search and its result."""

    target: str
    path: str
    size: int
    out_size: int = 0
    search: RateSearch | None = None
    best: TrialResult | None = None  # the passing trial at the throughput rate
    trials: int = 0
    invalid: int = 0
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.search.throughput if self.search else 0.0


class Runner:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.trial_id = secrets.randbits(31) | 1

    def spec(
        self, tx: str, rx: str, frame: bytes, prefix: bytes, rate: float, duration: float
    ) -> TrialSpec:
        self.trial_id = (self.trial_id + 1) & 0xFFFFFFFF or 1
        return TrialSpec(
            tx_if=tx,
            rx_if=rx,
            frame_hex=frame.hex(),
            out_prefix_hex=prefix.hex(),
            rate=rate,
            duration=duration,
            drain=self.opts.drain,
            trial_id=self.trial_id,
            cpu=self.opts.gen_cpu,
            max_catchup=self.opts.max_catchup_ms / 1e3,
            nice=self.opts.nice,
        )

    def measure(self, target: str, path: str, size: int, pairs: list[VethPair]) -> Cell:
        """Validate the path, probe, and search the rate for one target x path x size."""
        access, network = pairs[0].test_if, pairs[1].test_if
        tx, rx = (access, network) if path == "encap" else (network, access)
        size = offered_size(path, size)
        frame = customer_frame(size) if path == "encap" else nvgre_frame(size)
        cell = Cell(target, path, size)
        label = f"{TARGET_NAMES[target]} {path} {size} B"
        try:
            self._search(cell, label, tx, rx, frame)
        except RuntimeError as exc:  # wrong frames out, or the traffic process failed
            cell.error = str(exc)
            print(f"    {label}: no rate: {exc}")
        return cell

    def _search(self, cell: Cell, label: str, tx: str, rx: str, frame: bytes) -> None:
        opts = self.opts
        prefix = expected_output(tx, rx, cell.path, frame)
        cell.out_size = len(prefix) + MARKER_LEN
        probe = self._trial(self.spec(tx, rx, frame, prefix, 0, opts.probe), label)
        # What came out while the offer lasted (not what a deep buffer let out afterwards).
        out = probe.offered - probe.send_errors - probe.backlog
        forwarded = out / max(probe.send_span_s, 1e-3)
        ceiling = max(round(0.9 * probe.achieved_rate), 200)
        print(
            f"    {label}: probe offered {probe.achieved_rate:,.0f} frames/s unpaced, "
            f"{forwarded:,.0f} frames/s out; search up to {ceiling:,} frames/s"
        )
        search = cell.search = RateSearch(
            start=min(max(forwarded, 100.0), ceiling),
            ceiling=ceiling,
            resolution=opts.resolution,
            max_trials=opts.max_trials,
        )
        passed: dict[float, TrialResult] = {}
        while (rate := search.next_rate()) is not None:
            for _attempt in range(opts.retries + 1):  # an invalid trial is repeated
                res = self._trial(self.spec(tx, rx, frame, prefix, rate, opts.duration), label)
                cell.trials += 1
                verdict = judge_trial(
                    rate,
                    offered=res.offered,
                    send_errors=res.send_errors,
                    received=res.received,
                    achieved_rate=res.achieved_rate,
                    rx_drops=res.rx_drops,
                    backlog=res.backlog,
                    max_backlog_s=opts.max_backlog_ms / 1e3,
                )
                latency = f", p50 {res.lat_median_us:,.0f} µs" if res.lat_samples else ""
                if res.duplicates or res.reordered:
                    latency += f"; {res.duplicates:,} duplicated, {res.reordered:,} reordered"
                print(
                    f"      {rate:>9,.0f} frames/s (achieved {res.achieved_rate:,.0f}, "
                    f"max lag {res.max_lag_ns / 1e6:.1f} ms, {res.skipped_s * 1e3:.0f} ms "
                    f"given up): {verdict.outcome.value}: {verdict.why}{latency}"
                )
                if verdict.outcome is not Outcome.INVALID:
                    break
                cell.invalid += 1
            search.record(rate, verdict.outcome)
            if verdict.outcome is Outcome.PASS:
                passed[rate] = res
        cell.best = passed.get(search.throughput)
        if all(t.outcome is Outcome.INVALID for t in search.trials):
            cell.notes.append("no valid trial: the generator could not offer any rate tried")
        elif search.at_generator_limit:
            cell.notes.append("generator limit: at least this")
        elif not search.converged:
            cell.notes.append(f"not converged in {search.max_trials} trials")

    @staticmethod
    def _trial(spec: TrialSpec, label: str) -> TrialResult:
        res = run_traffic(spec)
        if res.wrong:
            raise RuntimeError(
                f"{label}: {res.wrong:,} frames out were wrong, e.g. {res.wrong_example_hex}"
            )
        return res


def run_target(runner: Runner, target: str, pairs: list[VethPair], work: Path) -> list[Cell]:
    opts = runner.opts
    name = TARGET_NAMES[target]
    build = p4sim_build(p4sim_executable()) if target == "p4sim" else bmv2_build()
    print(f"  {name}:")
    for line in build:
        print(f"    {line}")
    switch = start_pinned(target, pairs, work / target, opts)
    cells: list[Cell] = []
    try:
        apply_overlay(switch, work / target)
        threads = pin_process(switch.proc.pid, opts.switch_cpu, opts.nice)
        print(
            f"    switch pid {switch.proc.pid}: {threads} threads on CPU "
            f"{sorted(thread_cpus(switch.proc.pid))}; traffic on CPU {opts.gen_cpu}"
        )
        cells.extend(
            runner.measure(target, path, size, pairs)
            for path in ("encap", "decap")
            for size in opts.sizes
        )
        stray = thread_cpus(switch.proc.pid) - {opts.switch_cpu}
        if stray:
            print(f"    WARNING: switch threads ran on CPUs {sorted(stray)} as well")
    finally:
        switch.stop()
    return cells


# -- report --------------------------------------------------------------------------------------


def table(cells: list[Cell]) -> list[str]:
    head = (
        f"  {'target':<18} {'path':<5} {'frame':>6} {'out':>6} {'throughput':>12} "
        f"{'Mb/s':>7} {'achieved':>10} {'p50 µs':>7} {'p99 µs':>7} {'trials':>6} "
        f"{'invalid':>7}  note"
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for c in cells:
        if c.error:
            lines.append(
                f"  {TARGET_NAMES[c.target]:<18} {c.path:<5} {c.size:>6}  ERROR: {c.error}"
            )
            continue
        fps = c.throughput
        best = c.best
        lines.append(
            f"  {TARGET_NAMES[c.target]:<18} {c.path:<5} {c.size:>6} {c.out_size:>6} "
            f"{fps:>12,.0f} {fps * c.size * 8 / 1e6:>7,.1f} "
            f"{best.achieved_rate if best else 0:>10,.0f} "
            f"{best.lat_median_us if best else 0:>7,.0f} {best.lat_p99_us if best else 0:>7,.0f} "
            f"{c.trials:>6} {c.invalid:>7}  {'; '.join(c.notes)}"
        )
    return lines


def ratios(cells: list[Cell]) -> list[str]:
    """p4sim's throughput over simple_switch_grpc's, per path and size, and the goal."""
    by = {(c.target, c.path, c.size): c for c in cells}
    lines: list[str] = []
    worst: dict[str, float] = {}
    unsure = False
    for (target, path, size), c in by.items():
        other = by.get(("bmv2", path, size))
        if target != "p4sim" or other is None or c.error or other.error:
            continue
        no_valid = [x for x in (c, other) if any(n.startswith("no valid") for n in x.notes)]
        if no_valid:
            names = " and ".join(TARGET_NAMES[x.target] for x in no_valid)
            lines.append(f"  {path} {size:>5} B: no ratio, no valid trial for {names}")
            unsure = True
            continue
        if other.throughput <= 0:
            lines.append(
                f"  {path} {size:>5} B: simple_switch_grpc lost frames at every rate tried"
            )
            continue
        ratio = c.throughput / other.throughput
        worst[path] = min(worst.get(path, ratio), ratio)
        caveats = [
            f"{TARGET_NAMES[x.target]} {note}"
            for x in (c, other)
            for note in x.notes
            if not (x.target == "p4sim" and note.startswith("generator limit"))
        ]
        if c.search and c.search.at_generator_limit:
            caveats.append("p4sim at the generator limit: at least this")
        unsure = unsure or any("not converged" in note for note in caveats)
        lines.append(
            f"  {path} {size:>5} B: p4sim {c.throughput:>9,.0f} / simple_switch_grpc "
            f"{other.throughput:>8,.0f} frames/s = {ratio:5.1f}x"
            + (f"  ({'; '.join(caveats)})" if caveats else "")
        )
    if worst:
        met = all(worst.get(p, 0) >= RATIO_GOAL for p in ("encap", "decap"))
        lowest = ", ".join(f"{p} {r:.1f}x" for p, r in sorted(worst.items()))
        verdict = "met" if met else "NOT met"
        if unsure:
            verdict += ", but a search did not converge or had no valid trial"
        lines.append(
            f"  goal: p4sim >= {RATIO_GOAL:.0f}x simple_switch_grpc on encap and decap: "
            f"{verdict} (lowest: {lowest})"
        )
    return lines


def main() -> None:
    why = can_create_interfaces()
    if why is not None:
        print(f"  skipped: {why}")
        return
    opts = parse_options(sys.argv[1:])
    if opts.gen_cpu == opts.switch_cpu:
        print("  skipped: needs two CPUs (one for the traffic, one for the switch)")
        return
    targets = list(opts.targets)
    if "bmv2" in targets and (missing := bmv2_missing()) is not None:
        print(f"  simple_switch_grpc: skipped, {missing}")
        targets.remove("bmv2")
    print(
        f"  trials of {opts.duration:g} s (+{opts.drain:g} s drain), sizes {opts.sizes} B, "
        f"resolution {opts.resolution:.0%}, traffic on CPU {opts.gen_cpu}, switch on CPU "
        f"{opts.switch_cpu}{f', nice {opts.nice}' if opts.nice else ''}"
        f"{' (quick)' if opts.quick else ''}"
    )
    install_termination_handler()  # SIGTERM stops the switch and removes the veths too
    os.sched_setaffinity(0, {opts.gen_cpu})
    started = time.monotonic()
    runner = Runner(opts)
    cells: list[Cell] = []
    with LabNetwork() as net, tempfile.TemporaryDirectory() as tmp:
        pairs = [net.veth_pair(1), net.veth_pair(2)]
        for target in targets:
            try:
                cells += run_target(runner, target, pairs, Path(tmp))
            except TargetUnavailable as exc:
                print(f"  {TARGET_NAMES[target]}: skipped, {exc}")
    print()
    print("  RFC 2544 throughput (zero loss) and latency at that rate; frame = bytes offered")
    print("  to the switch (no FCS), out = bytes out; Mb/s of frame bytes; achieved = the")
    print("  generator's measured rate in that trial")
    for line in table(cells):
        print(line)
    ratio_lines = ratios(cells)
    if ratio_lines:
        print()
        print("  lossless rate, p4sim / simple_switch_grpc:")
        for line in ratio_lines:
            print(line)
    print(f"  ({time.monotonic() - started:,.0f} s in all)")


if __name__ == "__main__":
    main()
