"""Forwarding gap while the controller restarts or changes the pipeline: p4sim and simple_switch_grpc.

The switch runs the NVGRE program (small profile) on two veth pairs with the overlay of
:mod:`bench.switch_pps` (port 1 access, port 2 network).  Two steady flows cross it at a
modest rate, far below the target's throughput so that frames are lost only to the change
(1,000 frames/s each on p4sim, 500 on simple_switch_grpc, which loses frames at 2 x 1,000
on this machine): encap (a customer frame in on the access port, NVGRE out of the network
port; it goes through the next-hop table) and decap (NVGRE in, the customer frame out; no
next-hop).  Each is one :mod:`bench._traffic` process that checks every frame out.  About
``--lead`` seconds in, the controller applies a description in this process (what ``nve
apply`` does after its start: load and check the description, connect, push the pipeline
if needed, reconcile, close); the flows go on ``--tail`` seconds after the apply returns.
Cases:

* none: no apply: the noise floor (the flows alone on a shared, loaded machine);
* restart: a new controller applies the same description (same pipeline): it reads the
  switch and finds nothing to change;
* reconcile: the same program with the small profile's next-hop table grown (64 -> 128
  entries) pushed with ``pipeline_update: reconcile`` (RECONCILE_AND_COMMIT; p4sim only:
  simple_switch_grpc cannot, see docs/controller.md "Pipeline changes");
* replace: the grown program pushed with ``pipeline_update: replace`` (VERIFY_AND_COMMIT,
  which empties the switch, then the full restore).

Every round starts a fresh switch and applies the original description first.  Per case
and flow, over ``--rounds`` rounds (3; ``--quick``: 1), median and worst of: frames lost
(offered and never out); the forwarding gap, the longest interval between the receive
times of two consecutive frames out that overlaps the apply (case none: the longest of
all); gaps under 3 frame periods are not told apart and show as 3 periods (3 ms at
1,000 frames/s); the apply's duration and, of it, the connect with the pipeline push (s);
and the longest gap outside the apply (the noise of that round).  The traffic processes
run on one CPU with this process (the controller), the switch on the other.

``python -m bench upgrade_gap [--target p4sim|bmv2] [--cases none,restart,...]
[--rounds N] [--rate F] [--bmv2-rate F] [--lead S] [--tail S] [--quick]``.  Needs root and
two CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from bench._p4sim import quick
from bench._traffic import TrialResult, TrialSpec
from bench.switch_pps import (
    FAR_MAC,
    FAR_PA,
    LOCAL_MAC,
    LOCAL_PA,
    NVE_MAC,
    NVGRE_OVERHEAD,
    OVERLAY,
    REPO,
    SPINE_MAC,
    TARGET_NAMES,
    VSID,
    customer_frame,
    expected_output,
    nvgre_frame,
    pin_process,
)
from lab.netns import LabNetwork, VethPair, can_create_interfaces, install_termination_handler
from lab.targets import (
    PipelineFiles,
    RunningSwitch,
    TargetUnavailable,
    bmv2_missing,
    compile_pipeline,
    start_switch,
)
from nve.controller import Controller
from nve.loader import load_overlay

FRAME_SIZE = 128
SMALL = {"NVE_PROFILE_SMALL": ""}
NEXTHOP_SMALL = "#define NEXTHOP_COUNT        64\n"
NEXTHOP_GROWN = "#define NEXTHOP_COUNT        128\n"
DRAIN_S = 1.0
BMV2_RATE = 500.0  # 2 x 1,000 frames/s is more than it forwards without loss here
PATHS = ("encap", "decap")
WARMUP_NS = 500_000_000
GAP_FLOOR = 3  # gaps shorter than this many frame periods are not told apart
GAP_LOG_MAX = 1000  # bench._traffic keeps this many


@dataclass(frozen=True)
class Case:
    name: str
    pipeline: str  # "old" or "new": what the applied description names; "" = no apply
    update: str  # the switch entry's pipeline_update
    push: str | None  # how the pipeline must be pushed ("reconcile", "replace", None)


CASES = [
    Case("none", "", "auto", None),
    Case("restart", "old", "auto", None),
    Case("reconcile", "new", "reconcile", "reconcile"),
    Case("replace", "new", "replace", "replace"),
]
# simple_switch_grpc answers RECONCILE_AND_COMMIT with UNKNOWN and is then stuck.
BMV2_CASES = ("none", "restart", "replace")


@dataclass
class Options:
    targets: list[str]
    rounds: int
    cases: list[str]
    rate: float
    bmv2_rate: float
    lead: float
    tail: float
    gen_cpu: int
    switch_cpu: int


def parse_options(argv: list[str]) -> Options:
    """Options from the command line; words that are not options (the benchmark names given
    to ``python -m bench``) are ignored."""
    cpus = sorted(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(
        prog="python -m bench upgrade_gap", add_help=False, allow_abbrev=False
    )
    p.add_argument("--target", choices=["all", "p4sim", "bmv2", "simple_switch_grpc"])
    p.add_argument("--rounds", type=int, default=1 if quick() else 3)
    p.add_argument("--cases", default="")
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--bmv2-rate", type=float, default=BMV2_RATE)
    p.add_argument("--lead", type=float, default=1.5)
    p.add_argument("--tail", type=float, default=3.0)
    p.add_argument("--quick", action="store_true")
    args, rest = p.parse_known_args(argv)
    unknown = [a for a in rest if a.startswith("-")]
    if unknown:
        p.error(f"unknown options {' '.join(unknown)} (see the module's docstring)")
    if args.rounds < 1 or args.rate <= 0 or args.bmv2_rate <= 0 or args.lead < 0 or args.tail < 0:
        p.error("--rounds and --rate must be positive, --lead and --tail not negative")
    unknown_cases = set(args.cases.split(",")) - {c.name for c in CASES} - {""}
    if unknown_cases:
        p.error(f"--cases: no case {', '.join(sorted(unknown_cases))}")
    target = {"simple_switch_grpc": "bmv2", None: "all"}.get(args.target, args.target)
    return Options(
        targets=["p4sim", "bmv2"] if target == "all" else [target],
        rounds=args.rounds,
        cases=[c for c in args.cases.split(",") if c.strip()] or [c.name for c in CASES],
        rate=args.rate,
        bmv2_rate=args.bmv2_rate,
        lead=args.lead,
        tail=args.tail,
        gen_cpu=cpus[0],
        switch_cpu=cpus[1] if len(cpus) > 1 else cpus[0],
    )


# -- pipelines, switch and description ---------------------------------------------------------


def source_trees(work: Path) -> tuple[Path, Path]:
    """Two copies of p4src/ taken at once: as it is, and with the small profile's next-hop
    table grown from 64 to 128 entries."""
    old, new = work / "src-old" / "p4src", work / "src-new" / "p4src"
    shutil.copytree(REPO / "p4src", old)
    shutil.copytree(old, new)
    sizes = new / "include" / "sizes.p4"
    text = sizes.read_text()
    if text.count(NEXTHOP_SMALL) != 1:
        raise RuntimeError(f"{sizes}: expected one {NEXTHOP_SMALL.strip()!r} to change")
    sizes.write_text(text.replace(NEXTHOP_SMALL, NEXTHOP_GROWN))
    return old, new


def start_pinned(
    target: str, pairs: list[VethPair], pipeline: PipelineFiles, log_dir: Path, opts: Options
) -> RunningSwitch:
    """Start the switch with this process's affinity set to the switch's CPU for the fork
    (so that every thread it starts inherits it), then pin every thread it has."""
    os.sched_setaffinity(0, {opts.switch_cpu})
    try:
        switch = start_switch(target, pairs, pipeline, log_dir)
    finally:
        os.sched_setaffinity(0, {opts.gen_cpu})
    pin_process(switch.proc.pid, opts.switch_cpu)
    return switch


def write_description(
    path: Path, switch: RunningSwitch, pipeline: PipelineFiles, update: str
) -> Path:
    text = OVERLAY.format(
        address=switch.grpc_addr,
        p4info=pipeline.p4info,
        device_config=pipeline.device_config,
        nve_mac=NVE_MAC,
        spine_mac=SPINE_MAC,
        local_pa=LOCAL_PA,
        far_pa=FAR_PA,
        vsid=VSID,
        local_mac=LOCAL_MAC,
        far_mac=FAR_MAC,
    )
    data = yaml.safe_load(text)
    data["switches"][0]["pipeline_update"] = update
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class Applied:
    push: str | None  # how the pipeline was pushed
    connect_s: float  # connect, arbitrate and push the pipeline (if needed)


async def apply(path: Path) -> Applied:
    """What `nve apply` does after its start."""
    ctl = Controller(load_overlay(path))
    problems = ctl.check()
    if problems:
        raise RuntimeError(f"{path}: invalid: {problems}")
    started = time.perf_counter()
    await ctl.connect()
    connect_s = time.perf_counter() - started
    try:
        report = await ctl.reconcile()
    finally:
        await ctl.close()
    if not report.ok:
        raise RuntimeError(f"{path}: apply failed: {report.failures}")
    return Applied(ctl.sessions["s1"].state.last_push, connect_s)


# -- one round -----------------------------------------------------------------------------------


@dataclass
class Round:
    lost: int  # frames offered and never out
    gap_ms: float  # the longest gap that overlaps the apply (case none: the longest)
    gap_at_ms: float  # when it started, from the apply's start
    other_ms: float  # the longest gap that does not overlap the apply (the noise)
    apply_s: float
    connect_s: float  # of which connecting and pushing the pipeline
    push: str | None
    lag_ms: float = 0.0  # how far behind its schedule the generator fell at worst
    notes: list[str] = field(default_factory=list)


def traffic(spec: TrialSpec) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._traffic"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(asdict(spec)))
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[str], timeout: float) -> TrialResult:
    assert proc.stdout is not None and proc.stderr is not None
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise RuntimeError(f"the traffic process took more than {timeout:.0f} s") from None
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        raise RuntimeError(f"traffic process failed: {err.strip()[-2000:]}")
    return TrialResult(**json.loads(out))


class Bench:
    def __init__(self, opts: Options, pairs: list[VethPair], work: Path) -> None:
        self.opts = opts
        self.pairs = pairs
        self.work = work
        self.trial_id = secrets.randbits(31) | 1
        self.expected_apply_s = 4.0  # the window's allowance for the apply, then learned

    def round(
        self, target: str, case: Case, pipelines: dict[str, PipelineFiles]
    ) -> dict[str, Round]:
        """One round of ``case`` on a fresh switch: a Round per path."""
        opts, work = self.opts, self.work
        switch = start_pinned(target, self.pairs, pipelines["old"], work / "logs", opts)
        procs: dict[str, subprocess.Popen[str]] = {}
        try:
            asyncio.run(
                apply(write_description(work / "old.yaml", switch, pipelines["old"], "auto"))
            )
            description = (
                write_description(
                    work / "change.yaml", switch, pipelines[case.pipeline], case.update
                )
                if case.pipeline
                else None
            )
            duration = opts.lead + self.expected_apply_s + opts.tail + 0.5
            for path in PATHS:
                procs[path] = traffic(self.spec(target, path, duration))
            time.sleep(0.3 + opts.lead)  # the processes' start (~0.1 s), then the lead
            started = time.perf_counter_ns()
            applied = asyncio.run(apply(description)) if description else Applied(None, 0.0)
            ended = time.perf_counter_ns()
            results = {path: finish(proc, duration + DRAIN_S + 60) for path, proc in procs.items()}
        finally:
            for proc in procs.values():  # still running only when something failed
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            switch.stop()
        apply_s = (ended - started) / 1e9
        if description:
            self.expected_apply_s = max(self.expected_apply_s, 2 * apply_s)
        return {
            path: judge(case, res, applied, (started, ended), gap_floor_ns(self.rate(target)), opts)
            for path, res in results.items()
        }

    def rate(self, target: str) -> float:
        return self.opts.bmv2_rate if target == "bmv2" else self.opts.rate

    def spec(self, target: str, path: str, duration: float) -> TrialSpec:
        """A flow on ``path``, checked first (two frames through the switch)."""
        access, network = self.pairs[0].test_if, self.pairs[1].test_if
        tx, rx = (access, network) if path == "encap" else (network, access)
        frame = (
            customer_frame(FRAME_SIZE)
            if path == "encap"
            else nvgre_frame(FRAME_SIZE + NVGRE_OVERHEAD)
        )
        prefix = expected_output(tx, rx, path, frame)
        rate = self.rate(target)
        self.trial_id = (self.trial_id + 1) & 0x7FFFFFFF or 1
        return TrialSpec(
            tx_if=tx,
            rx_if=rx,
            frame_hex=frame.hex(),
            out_prefix_hex=prefix.hex(),
            rate=rate,
            duration=duration,
            drain=DRAIN_S,
            trial_id=self.trial_id,
            cpu=self.opts.gen_cpu,
            # The other flow's frames are seen on each receive interface (outgoing): no
            # waiting for quiet, the switch is fresh.
            settle=0.0,
            gap_log_ns=gap_floor_ns(rate),
        )


def gap_floor_ns(rate: float) -> int:
    return int(GAP_FLOOR * 1e9 / rate)


def judge(
    case: Case,
    res: TrialResult,
    applied: Applied,
    window: tuple[int, int],
    floor_ns: int,
    opts: Options,
) -> Round:
    """The figures of one flow; ``window`` is when the apply ran (perf_counter_ns)."""
    started, ended = window
    notes: list[str] = []
    push = applied.push
    if res.wrong:
        notes.append(f"{res.wrong} wrong frames out")
    if len(res.gaps) >= GAP_LOG_MAX:
        notes.append("gap log full")
    if push != case.push:
        notes.append(f"pushed {push or 'nothing'}, expected {case.push or 'nothing'}")
    if not res.first_rx_ns or (started - res.first_rx_ns) / 1e9 < 0.5 * opts.lead:
        notes.append("little traffic before the apply")
    tail = (res.last_rx_ns - ended) / 1e9
    if tail < 0:
        notes.append("forwarding did not resume")
    elif tail < 0.9 * opts.tail:
        notes.append(f"only {tail:.1f} s of traffic after the apply")
    if res.rx_drops:
        notes.append(f"receiver dropped {res.rx_drops}")
    # The first half second is the traffic processes' start (both on one CPU): not counted.
    gaps = [
        (end - length, length) for end, length in res.gaps if end >= res.first_rx_ns + WARMUP_NS
    ]
    during = [
        (start, length) for start, length in gaps if start <= ended and start + length >= started
    ]
    others = [length for start, length in gaps if (start, length) not in during]
    if not case.pipeline:  # no apply: every gap is noise
        during, others = gaps, [length for _start, length in gaps]
    start, length = max(during, key=lambda g: g[1], default=(started, 0))
    return Round(
        lost=res.offered - res.send_errors - res.received,
        gap_ms=max(length, floor_ns) / 1e6,
        gap_at_ms=(start - started) / 1e6,
        other_ms=max(max(others, default=0), floor_ns) / 1e6,
        apply_s=(ended - started) / 1e9 if case.pipeline else 0.0,
        connect_s=applied.connect_s,
        push=push,
        lag_ms=res.max_lag_ns / 1e6,
        notes=notes,
    )


# -- report --------------------------------------------------------------------------------------


@dataclass
class Row:
    target: str
    case: Case
    path: str
    rounds: list[Round] = field(default_factory=list)
    error: str = ""


def med_worst(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    return f"{format(statistics.median(values), fmt)} / {format(max(values), fmt)}"


def table(rows: list[Row]) -> list[str]:
    head = (
        f"  {'target':<18} {'case':<9} {'path':<5} {'push':<9} {'lost':>11} {'gap ms':>15} "
        f"{'apply s':>11} {'push s':>11} {'other gap ms':>13}  note"
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for r in rows:
        name = TARGET_NAMES[r.target]
        if r.error:
            lines.append(f"  {name:<18} {r.case.name:<9} {r.path:<5} ERROR: {r.error}")
            continue
        pushes = sorted({x.push or "-" for x in r.rounds})
        notes = sorted({n for x in r.rounds for n in x.notes})
        lag = max((x.lag_ms for x in r.rounds), default=0.0)
        if lag > 10:
            notes.append(f"generator held up to {lag:.0f} ms")
        lines.append(
            f"  {name:<18} {r.case.name:<9} {r.path:<5} {','.join(pushes):<9} "
            f"{med_worst([x.lost for x in r.rounds], ',.0f'):>11} "
            f"{med_worst([x.gap_ms for x in r.rounds], ',.1f'):>15} "
            f"{med_worst([x.apply_s for x in r.rounds], '.2f') if r.case.pipeline else '-':>11} "
            f"{med_worst([x.connect_s for x in r.rounds], '.2f') if r.case.pipeline else '-':>11} "
            f"{med_worst([x.other_ms for x in r.rounds], ',.0f'):>13}"
            f"  {'; '.join(notes)}"
        )
    return lines


def run_target(bench: Bench, target: str) -> list[Row]:
    work = bench.work / target
    old_src, new_src = source_trees(work)
    pipelines = {
        "old": compile_pipeline(target, work / "old", SMALL, old_src),
        "new": compile_pipeline(target, work / "new", SMALL, new_src),
    }
    rows: list[Row] = []
    for case in CASES:
        if case.name not in bench.opts.cases or (target == "bmv2" and case.name not in BMV2_CASES):
            continue
        by_path = {path: Row(target, case, path) for path in PATHS}
        try:
            for _ in range(bench.opts.rounds):
                for path, r in bench.round(target, case, pipelines).items():
                    by_path[path].rounds.append(r)
                    print(
                        f"    {TARGET_NAMES[target]} {case.name} {path}: {r.lost} lost, gap "
                        f"{r.gap_ms:,.1f} ms from {r.gap_at_ms:,.0f} ms, other gaps up to "
                        f"{r.other_ms:,.0f} ms, apply {r.apply_s:.2f} s (push "
                        f"{r.connect_s:.2f} s), pushed {r.push or '-'}, generator lag "
                        f"{r.lag_ms:.0f} ms" + (f" ({'; '.join(r.notes)})" if r.notes else "")
                    )
        except (RuntimeError, OSError) as exc:
            for row in by_path.values():
                row.error = str(exc)[-500:]
            print(f"    {TARGET_NAMES[target]} {case.name}: {exc}")
        rows += by_path.values()
    return rows


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
        f"  encap and decap flows of {opts.rate:,.0f} frames/s each ({opts.bmv2_rate:,.0f} on "
        f"simple_switch_grpc), {FRAME_SIZE}-B customer frames; apply {opts.lead:g} s in, "
        f"{opts.tail:g} s after it; {opts.rounds} rounds per case; traffic and controller on "
        f"CPU {opts.gen_cpu}, switch on CPU {opts.switch_cpu}; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    install_termination_handler()
    os.sched_setaffinity(0, {opts.gen_cpu})
    started = time.monotonic()
    rows: list[Row] = []
    with LabNetwork() as net, tempfile.TemporaryDirectory() as tmp:
        bench = Bench(opts, [net.veth_pair(1), net.veth_pair(2)], Path(tmp))
        for target in targets:
            try:
                rows += run_target(bench, target)
            except TargetUnavailable as exc:
                print(f"  {TARGET_NAMES[target]}: skipped, {exc}")
    print()
    print("  median / worst per case and flow: frames lost; forwarding gap (the longest interval")
    print("  between consecutive frames out during the apply; 3 frame periods = none); the")
    print("  controller's apply and its connect + pipeline push; the longest gap outside the apply")
    for line in table(rows):
        print(line)
    print(f"  ({time.monotonic() - started:,.0f} s in all; load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
