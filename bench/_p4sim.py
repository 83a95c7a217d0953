"""Shared by the P4Runtime benchmarks: the NVGRE program compiled in the large profile and a
p4sim switch run as its own process on loopback, with its CPU time and peak memory read
from /proc (the switch is measured apart from the client that drives it).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from lab import targets
from lab.targets import PipelineFiles, compile_pipeline


def quick() -> bool:
    """Smaller sizes for a smoke run: `--quick` on the command line or NVE_BENCH_QUICK=1."""
    return "--quick" in sys.argv or os.environ.get("NVE_BENCH_QUICK", "") not in ("", "0")


def compile_large(out_dir: Path) -> PipelineFiles:
    """`p4sim compile` of the NVGRE program with -D NVE_PROFILE_LARGE."""
    return compile_pipeline("p4sim", out_dir, {"NVE_PROFILE_LARGE": ""})


@dataclass
class ProcStats:
    cpu_s: float
    peak_rss_mb: float


def proc_stats(pid: int) -> ProcStats:
    """User+system CPU seconds and peak resident memory (VmHWM) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return ProcStats(cpu, hwm)


class P4simProcess(targets.P4simProcess):
    """The harness's p4sim process, with its CPU time and peak memory for the figures."""

    def stats(self) -> ProcStats:
        assert self.proc is not None
        return proc_stats(self.proc.pid)
