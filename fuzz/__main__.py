"""``python -m fuzz``: p4sim against bmv2's simple_switch_grpc, batch by batch.

Both targets run the same program (small profile) with the same entries (one generated
overlay, installed by ``nve apply``), each on its own veths; every batch of frames goes to
both at once, and their outputs are compared per port, plus packet-ins, counters and
learning digests. Needs root, p4c-bm2-ss and simple_switch_grpc. See docs/fuzzing.md.

    python -m fuzz --frames 100000 --seed 1 --batch 500
    python -m fuzz --seed 1 --only-batch 17          # replay one batch of a run
    python -m fuzz --seed 1 --replay 5:00005e...     # one frame into port 5, outputs shown
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from fuzz.compare import BatchOutput, compare_batch, compare_digests
from fuzz.frames import Frame, FrameGenerator
from fuzz.overlay import World, generate_world
from fuzz.report import Isolated, Report, describe_output
from fuzz.runner import RunnerError, TargetRunner
from lab.netns import (
    LabNetwork,
    can_create_interfaces,
    install_termination_handler,
    sweep_stale_ledgers,
)
from lab.targets import TargetUnavailable, bmv2_missing, compile_pipeline

REPO = Path(__file__).resolve().parents[1]
ISOLATE_BASE = 1 << 30  # batch numbers of the single-frame replays
DIGEST_FLUSH_S = 1.0  # digest lists still buffered after the last batch (bmv2: 10 ms timer)
Pair = tuple[TargetRunner, TargetRunner]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fuzz", description="p4sim vs bmv2 differential fuzzer (needs root)"
    )
    p.add_argument("--frames", type=int, default=100_000, help="frames to send (default 100000)")
    p.add_argument("--seed", type=int, default=1, help="overlay and frame seed (default 1)")
    p.add_argument("--batch", type=int, default=500, help="frames per batch (default 500)")
    p.add_argument(
        "--only-batch",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="replay only batch N of this seed, batch size and frame count (repeatable)",
    )
    p.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="PORT:HEX",
        help="send these frames (port 255: a packet-out, header first) as one batch and "
        "show what each target made of them (repeatable)",
    )
    p.add_argument(
        "--isolate",
        type=int,
        default=3,
        metavar="N",
        help="replay the frames of the first N differing batches one by one (default 3)",
    )
    p.add_argument(
        "--targets",
        default="p4sim,bmv2",
        help="the two targets (default p4sim,bmv2; p4sim,p4sim checks the harness itself)",
    )
    p.add_argument(
        "--burst",
        type=int,
        default=0,
        help="frames between pacing markers (default: what bmv2's egress queues hold)",
    )
    p.add_argument("--profile", default="NVE_PROFILE_SMALL", help="pipeline profile define")
    p.add_argument(
        "--report",
        type=Path,
        default=None,
        help="JSON report (default out/fuzz/report-seed<SEED>.json)",
    )
    p.add_argument("--work", type=Path, default=None, help="keep pipelines and switch logs here")
    return p


@contextmanager
def _targets(args: argparse.Namespace, names: tuple[str, str], world: World) -> Iterator[Pair]:
    """Both targets running the overlay on their own veths; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="nve-fuzz-") as tmp, LabNetwork() as net:
        work = args.work or Path(tmp)
        pipelines = {
            t: compile_pipeline(t, work / f"build-{t}", {args.profile: ""}) for t in set(names)
        }
        runners = (
            TargetRunner(names[0], pipelines[names[0]], net, work / "a", world),
            TargetRunner(names[1], pipelines[names[1]], net, work / "b", world),
        )
        try:
            for r in runners:
                r.start()
            # The same bursts and markers for both, so that their counters compare.
            burst = args.burst or min(r.burst for r in runners)
            for r in runners:
                r.burst = burst
            yield runners
        finally:
            for r in runners:
                r.close()


def _both(
    pool: ThreadPoolExecutor, runners: Pair, batch: int, frames: list[tuple[int, bytes]]
) -> tuple[BatchOutput, BatchOutput]:
    fa = pool.submit(runners[0].run_batch, batch, frames)
    fb = pool.submit(runners[1].run_batch, batch, frames)
    return fa.result(), fb.result()


def _isolate(
    pool: ThreadPoolExecutor,
    runners: Pair,
    batch: int,
    frames: list[Frame],
    next_id: list[int],
    limit: int = 5,
) -> list[Isolated]:
    """Send each frame of a differing batch alone; the ones that still differ."""
    found: list[Isolated] = []
    for i, f in enumerate(frames):
        if not all(r.alive() for r in runners):
            break
        next_id[0] += 1
        outs = _both(pool, runners, next_id[0], [(f.port, f.data)])
        diffs = [d for d in compare_batch(*outs) if d.kind != "digest"]
        if diffs:
            found.append(Isolated(batch, i, f, diffs))
            if len(found) >= limit:
                break
    return found


def _batch_frames(args: argparse.Namespace, gen: FrameGenerator, batch: int) -> list[Frame]:
    """Batch ``batch`` of the run (the last one may be short)."""
    left = args.frames - batch * args.batch
    return gen.batch(batch, args.batch if left <= 0 else min(args.batch, left))


def _fuzz(
    args: argparse.Namespace, runners: Pair, gen: FrameGenerator, report: Report, t0: float
) -> None:
    n_batches = max(1, -(-args.frames // args.batch))
    batches = args.only_batch or list(range(n_batches))
    print(
        f"fuzz: seed {args.seed}, {len(gen.world.endpoints)} endpoints, "
        f"{len(gen.world.remote_nves)} remote NVEs, bursts of {runners[0].burst}; "
        f"{len(batches)} batches of {args.batch} frames to {report.names[0]} and "
        f"{report.names[1]}",
        flush=True,
    )
    differing: dict[int, list[Frame]] = {}
    with ThreadPoolExecutor(2) as pool:
        for n, b in enumerate(batches):
            frames = _batch_frames(args, gen, b)
            started = time.monotonic()
            outs = _both(pool, runners, b, [(f.port, f.data) for f in frames])
            diffs = compare_batch(*outs)
            report.add_batch(frames, outs, diffs, time.monotonic() - started)
            if diffs:
                differing[b] = frames
                print(f"  batch {b}: {len(diffs)} differences", flush=True)
            if (n + 1) % 20 == 0:
                print(
                    f"  {n + 1}/{len(batches)} batches, {report.frames_sent:,} frames, "
                    f"{len(report.differences)} differences, {time.monotonic() - t0:.0f} s",
                    flush=True,
                )
            if not all(r.alive() for r in runners):
                dead = [r.target for r in runners if not r.alive()]
                print(f"fuzz: {', '.join(dead)} exited in batch {b}; stopping", file=sys.stderr)
                break
        if all(r.alive() for r in runners):
            for r in runners:
                r.drain_digests(batches[-1], DIGEST_FLUSH_S)
            report.differences.extend(
                compare_digests(runners[0].digests_seen, runners[1].digests_seen)
            )
            report.distinct_digests = {
                label: len(r.digests_seen) for label, r in zip(report.names, runners)
            }
        next_id = [ISOLATE_BASE]
        for b in list(differing)[: args.isolate]:
            print(f"  isolating batch {b} frame by frame", flush=True)
            report.isolated += _isolate(pool, runners, b, differing[b], next_id)


def _replay(args: argparse.Namespace, runners: Pair) -> int:
    frames: list[tuple[int, bytes]] = []
    for spec in args.replay:
        port, _, hexdata = spec.partition(":")
        frames.append((int(port), bytes.fromhex(hexdata)))
    with ThreadPoolExecutor(2) as pool:
        outs = _both(pool, runners, ISOLATE_BASE, frames)
    print("(counters include the batch's sentinels and pacing markers)")
    for r, out in zip(runners, outs):
        print(f"{r.target}:")
        print(describe_output(out))
    diffs = compare_batch(*outs)
    print(f"differences: {len(diffs)}")
    for d in diffs:
        print(f"  {d.kind} at {d.where}")
    return 1 if diffs else 0


def run(args: argparse.Namespace) -> int:
    names = tuple(args.targets.split(","))
    if len(names) != 2 or any(n not in ("p4sim", "bmv2") for n in names):
        print("fuzz: --targets takes two of p4sim, bmv2 (e.g. p4sim,bmv2)", file=sys.stderr)
        return 64
    why = can_create_interfaces()
    if why is None and "bmv2" in names:
        why = bmv2_missing()
    if why is not None:
        print(f"fuzz: cannot run: {why}", file=sys.stderr)
        return 2
    install_termination_handler()
    sweep_stale_ledgers()
    # Closing a P4Runtime stream leaves a gRPC task behind that asyncio reports as an error.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    t0 = time.monotonic()
    world = generate_world(args.seed)
    labels = (names[0], names[1]) if names[0] != names[1] else (f"{names[0]}-a", f"{names[1]}-b")
    report = Report(args.seed, args.batch, labels)
    try:
        with _targets(args, (names[0], names[1]), world) as runners:
            if args.replay:
                return _replay(args, runners)
            _fuzz(args, runners, FrameGenerator(world, args.seed), report, t0)
    except RunnerError as exc:
        print(f"fuzz: {exc}", file=sys.stderr)
        return 2
    report.seconds = time.monotonic() - t0
    print(report.text())
    path = args.report or REPO / "out" / "fuzz" / f"report-seed{args.seed}.json"
    report.write(path)
    print(f"report: {path}")
    return 1 if report.differences else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except TargetUnavailable as exc:
        print(f"fuzz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fuzz: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
