"""p4sim engine: CPU instructions per packet of the NVGRE program, counted by valgrind.

Packets per second on a shared 2-core machine vary by ±10 % between runs, and two
compilations of the *same* source, alternated in one process, differed by 5-8 %: smaller
changes to the generated code cannot be judged by time. The number of machine
instructions CPython executes per packet can: callgrind counts it exactly, and it is the
same on every run for a given interpreter build and hash seed (PYTHONHASHSEED=0 here).
It is a proxy (it ignores cache misses and branch mispredictions), so a change is kept only
if its time is no worse either; engine_pps stays the figure of record.

The child process builds the same pipeline as engine_pps but with 10,000 CA mappings
(under valgrind every setup instruction costs about fifty times as much, and a dict lookup
executes the same instructions whatever the dict's size), checks every frame's output (the
first packets of each port also build its specialised paths), sends them all again, then
runs the frames once more inside ``sorted()``'s key function, so that
``--toggle-collect=builtin_sorted`` counts the packets and nothing else. The garbage
collector is off, as in engine_pps. Needs valgrind (Debian package ``valgrind``); without
it, prints one line and returns.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench._p4sim import quick

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = 10_000
PACKETS = 2_000


def child(path: str, packets: int) -> None:
    from bench import engine_pps as B

    B.MAPPINGS = MAPPINGS
    pipeline, _st, remote, local, rng = B.build()
    encap, decap, expected = B.frames(remote, local, rng, 1_000)
    if pipeline.paths is not None:
        # building a path under valgrind takes fifty times its usual time: without this the
        # build-time budget would decide, by wall-clock time, which ports get their paths
        pipeline.paths.budget_start_s = float("inf")
    batch = encap if path == "encap" else decap
    bad = B.wrong_outputs(pipeline, batch, expected)
    if bad:
        raise SystemExit(f"{path}: {len(bad)} frames came out wrong; first: {bad[0]}")
    process = pipeline.process
    for port, data in batch:  # a second pass: the paths of every port are built by now
        process(port, data)
    gc.collect()
    gc.disable()

    def run(_: object) -> int:
        for i in range(packets):
            port, data = batch[i % len(batch)]
            process(port, data)
        return 0

    sorted([0], key=run)
    if pipeline.paths is not None:
        print(f"paths: {pipeline.paths.stats}", file=sys.stderr)


def count(path: str, packets: int) -> tuple[int, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--collect-atstart=no",
        "--toggle-collect=builtin_sorted",
        sys.executable,
        "-m",
        "bench.engine_instructions",
        "--child",
        path,
        str(packets),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    m = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or not m:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"valgrind run failed ({done.returncode}): {' | '.join(tail)}")
    paths = re.search(r"paths: PathStats\((built=\d+, refused=\d+)", done.stderr)
    return int(m.group(1)), (paths.group(1).replace("=", " ") if paths else "no specialised paths")


def main() -> None:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian package valgrind): no instruction counts")
        return
    packets = PACKETS // (10 if quick() else 1)
    for path in ("encap", "decap"):
        total, paths = count(path, packets)
        print(
            f"{path}: {total / packets:,.0f} instructions per packet through Pipeline.process "
            f"({packets:,} packets, {MAPPINGS:,} CA mappings, every frame checked; paths {paths})"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
