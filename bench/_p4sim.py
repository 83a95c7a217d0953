"""Shared by the P4Runtime benchmarks: the NVGRE program compiled in the large profile and a
p4sim switch run as its own process on loopback, with its CPU time and peak memory read
from /proc (the switch is measured apart from the client that drives it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
P4SIM = str(Path(sys.executable).with_name("p4sim"))
PROGRAM = ROOT / "p4src/v1model/nvgre_nve.p4"
INCLUDE = ROOT / "p4src/include"


def quick() -> bool:
    """Smaller sizes for a smoke run: `--quick` on the command line or NVE_BENCH_QUICK=1."""
    return "--quick" in sys.argv or os.environ.get("NVE_BENCH_QUICK", "") not in ("", "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Compiled:
    p4info: Path
    device_config: Path


def compile_large(out_dir: Path) -> Compiled:
    """`p4sim compile` of the NVGRE program with -D NVE_PROFILE_LARGE."""
    p4info, config = out_dir / "nvgre_nve.p4info.txtpb", out_dir / "nvgre_nve.p4sim.json"
    subprocess.run([P4SIM, "compile", str(PROGRAM), "-I", str(INCLUDE), "-D", "NVE_PROFILE_LARGE",
                    "--p4info", str(p4info), "-o", str(config)], check=True, capture_output=True)
    return Compiled(p4info, config)


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


@dataclass
class P4simProcess:
    """A p4sim switch with no program (the client pushes the pipeline), as `p4sim --no-p4`."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    _log: object = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "P4simProcess":
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([P4SIM, "--no-p4", "--", "--grpc-server-addr", self.address,
                                      "--cpu-port", "255"], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.seek(0)  # type: ignore[attr-defined]
                raise RuntimeError(f"p4sim exited: {self._log.read().decode(errors='replace')[-2000:]}")  # type: ignore[attr-defined]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"p4sim did not listen on {self.address}")

    def stats(self) -> ProcStats:
        assert self.proc is not None
        return proc_stats(self.proc.pid)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
