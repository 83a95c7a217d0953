"""Switch targets for the packet tests: p4sim (default) and bmv2's simple_switch_grpc.

A target is started on veth pairs (its data-plane ports), with its P4Runtime server on
loopback; the tests push the pipeline and entries over P4Runtime, exactly as on any
switch.  Both targets take simple_switch_grpc's command-line spelling.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from lab.netns import VethPair

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "p4src" / "v1model" / "nvgre_nve.p4"
INCLUDE = REPO / "p4src" / "include"
CPU_PORT = 255


class TargetUnavailable(RuntimeError):
    """The target cannot run here; the message names what is missing."""


def bmv2_missing() -> str | None:
    """What of p4lang's toolchain is missing for the bmv2 target (None: all there)."""
    missing = [
        what
        for exe, what in (
            ("p4c-bm2-ss", "p4c-bm2-ss (p4lang's p4c)"),
            ("simple_switch_grpc", "simple_switch_grpc (p4lang's behavioral-model)"),
        )
        if shutil.which(exe) is None
    ]
    return " and ".join(missing) + " not installed" if missing else None


def p4sim_executable() -> str:
    """The ``p4sim`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("p4sim")
    if beside.exists():
        return str(beside)
    found = shutil.which("p4sim")
    if found is None:
        raise TargetUnavailable("the p4sim console script is not installed (run `make bootstrap`)")
    return found


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"switch exited with status {proc.returncode} before listening on {host}:{port}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"switch did not listen on {host}:{port} within {timeout:.0f} s")


@dataclass
class PipelineFiles:
    """What a controller pushes with SetForwardingPipelineConfig."""

    p4info: Path
    device_config: Path


@dataclass
class RunningSwitch:
    target: str
    grpc_addr: str
    device_id: int
    ports: list[VethPair]
    pipeline: PipelineFiles
    proc: subprocess.Popen[bytes]
    log: Path
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _interface_args(ports: list[VethPair]) -> list[str]:
    args: list[str] = []
    for p in ports:
        args += ["-i", f"{p.port}@{p.switch_if}"]
    return args


def compile_pipeline(
    target: str,
    out_dir: Path,
    defines: dict[str, str] | None = None,
    p4src: Path | None = None,
) -> PipelineFiles:
    """Compile p4src (or a copy of it at ``p4src``, e.g. an edited one) for ``target`` into
    out_dir (P4Info text + the target's device config)."""
    program = PROGRAM if p4src is None else p4src / "v1model" / "nvgre_nve.p4"
    include = INCLUDE if p4src is None else p4src / "include"
    out_dir.mkdir(parents=True, exist_ok=True)
    dflags = [f"-D{k}={v}" if v else f"-D{k}" for k, v in (defines or {}).items()]
    p4info = out_dir / "nvgre_nve.p4info.txtpb"
    if target == "p4sim":
        device = out_dir / "nvgre_nve.p4sim.json"
        cmd = [
            p4sim_executable(),
            "compile",
            str(program),
            "-I",
            str(include),
            *dflags,
            "--p4info",
            str(p4info),
            "-o",
            str(device),
        ]
    elif target == "bmv2":
        if shutil.which("p4c-bm2-ss") is None:
            raise TargetUnavailable("p4c-bm2-ss (p4lang's p4c) is not installed")
        device = out_dir / "nvgre_nve.json"
        cmd = [
            "p4c-bm2-ss",
            "--arch",
            "v1model",
            "-I",
            str(include),
            *dflags,
            "--p4runtime-files",
            str(p4info),
            "-o",
            str(device),
            str(program),
        ]
    else:
        raise ValueError(f"unknown target {target!r}")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr or proc.stdout}")
    return PipelineFiles(p4info, device)


def start_switch(
    target: str,
    ports: list[VethPair],
    pipeline: PipelineFiles,
    log_dir: Path,
    *,
    device_id: int = 0,
    extra_args: list[str] | None = None,
) -> RunningSwitch:
    """Start ``target`` with no program loaded (``--no-p4``), gRPC on a free loopback port."""
    port = free_tcp_port()
    addr = f"127.0.0.1:{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{target}-{port}.log"
    if target == "p4sim":
        exe = [p4sim_executable()]
    elif target == "bmv2":
        found = shutil.which("simple_switch_grpc")
        if found is None:
            raise TargetUnavailable(
                "simple_switch_grpc (p4lang's behavioral-model) is not installed"
            )
        exe = [found]
    else:
        raise ValueError(f"unknown target {target!r}")
    cmd = [
        *exe,
        "--no-p4",
        "--device-id",
        str(device_id),
        *_interface_args(ports),
        *(extra_args or []),
        "--",
        "--grpc-server-addr",
        addr,
        "--cpu-port",
        str(CPU_PORT),
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_for_port("127.0.0.1", port, proc)
    except RuntimeError as exc:
        proc.kill()
        raise RuntimeError(f"{exc}; log:\n{log.read_text(errors='replace')[-4000:]}") from None
    return RunningSwitch(target, addr, device_id, ports, pipeline, proc, log)


@dataclass
class P4simProcess:
    """``p4sim --no-p4`` as its own process, P4Runtime on a loopback port; the client pushes
    the pipeline.  Restartable on the same port (``stop()`` then ``start()``), as a switch
    that reboots.  ``ports`` binds data-plane ports to veths, as ``-i N@IF``."""

    port: int = field(default_factory=free_tcp_port)
    ports: list[VethPair] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    target_args: list[str] = field(default_factory=list)  # more target options (after --)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, log_dir: Path | None = None) -> Self:
        """Start and wait until it listens; its output goes to ``log_dir/p4sim-PORT.log``
        (or to a temporary file)."""
        if log_dir is None:
            log_dir = Path(tempfile.mkdtemp(prefix="p4sim-"))
        self.log = log_dir / f"p4sim-{self.port}.log"
        cmd = [
            p4sim_executable(),
            "--no-p4",
            *_interface_args(self.ports),
            "--",
            "--grpc-server-addr",
            self.address,
            "--cpu-port",
            str(CPU_PORT),
            *self.target_args,
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port("127.0.0.1", self.port, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(
                f"{exc}; log:\n{self.log.read_text(errors='replace')[-2000:]}"
            ) from None
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
