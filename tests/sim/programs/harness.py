"""Run a test program of this directory on p4sim and, where p4lang's toolchain is installed,
on bmv2, and compare what comes out.

A program carries its test frames in comments, each followed by the frames it must produce:

    // frame: 0 ffffffffffff00000000000a0800 ...      (ingress port, bytes in hex)
    // expect: 1 ffffffffffff00000000000a0800 ...     (egress port, bytes; one line per copy)
    // expect: none                                   (the frame is dropped)

Every table entry a program needs is a `const entries` entry of the program, so both targets
run it as compiled, with no control plane. bmv2 runs `simple_switch_grpc` in its pcap-file
mode (`--use-files`): the frames of a program go in, in order, on one port's input file, and
its log says when each has left or been dropped.
"""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from p4sim import engine
from p4sim.compiler import Program, compile_file

HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[2] / "docs" / "p4sim-compiler.md"
Outputs = list[tuple[int, bytes]]  # (egress port, frame) in the order they leave

P4C_MISSING = None if shutil.which("p4c-bm2-ss") else "p4c-bm2-ss (p4lang's p4c) not installed"
BMV2_MISSING = P4C_MISSING or (
    None
    if shutil.which("simple_switch_grpc")
    else "simple_switch_grpc (p4lang's behavioral-model) not installed"
)


@dataclass
class Frame:
    port: int
    data: bytes
    expect: Outputs | None = None  # None: the program states no expectation for it
    line: int = 0


@dataclass
class Case:
    path: Path
    frames: list[Frame] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem


def load_case(path: Path) -> Case:
    """The frames (and expected outputs) a program's comments give."""
    case = Case(path)
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r"\s*//\s*(frame|expect):\s*(.*)$", line)
        if not m:
            continue
        what, rest = m.group(1), m.group(2).split()
        if what == "frame":
            case.frames.append(Frame(int(rest[0]), bytes.fromhex("".join(rest[1:])), None, n))
            continue
        if not case.frames:
            raise ValueError(f"{path.name}:{n}: 'expect' before any 'frame'")
        frame = case.frames[-1]
        if frame.expect is None:
            frame.expect = []
        if rest != ["none"]:
            frame.expect.append((int(rest[0]), bytes.fromhex("".join(rest[1:]))))
    return case


def programs(prefix: str) -> list[Path]:
    return sorted(HERE.glob(f"{prefix}*.p4"))


# ------------------------------------------------------------------------------- p4sim
def compile_p4sim(path: Path) -> Program:
    return compile_file(path)


def run_p4sim(
    program: Program, frames: list[Frame], *, specialize: bool = False, rounds: int = 1
) -> list[Outputs]:
    """The outputs of each frame of the last of `rounds` runs of the frames, in order,
    through one fresh pipeline. With `specialize`, every packet path is specialised as soon
    as it has been seen once, so that later rounds run the specialised paths."""
    pipeline = engine.load(program, specialize=specialize, record_after=1 if specialize else None)
    out: list[Outputs] = []
    for _ in range(rounds):
        out = [list(pipeline.process(f.port, f.data).outputs) for f in frames]
    return out


# -------------------------------------------------------------------------------- bmv2
def compile_bmv2(path: Path, out_dir: Path) -> tuple[Path, str]:
    """p4c-bm2-ss's JSON for the program (and its diagnostics); raises if p4c rejects it."""
    out = out_dir / f"{path.stem}.json"
    proc = subprocess.run(
        ["p4c-bm2-ss", "--arch", "v1model", "-o", str(out), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(f"p4c-bm2-ss rejects {path.name}:\n{proc.stderr}{proc.stdout}")
    return out, proc.stderr + proc.stdout


PORTS = range(8)


def _write_pcap(path: Path, frames: list[bytes]) -> None:
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def _read_pcap(path: Path) -> list[bytes]:
    data = path.read_bytes() if path.exists() else b""
    out, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack("<IIII", data[pos : pos + 16])[2]
        out.append(data[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_bmv2(config: Path, frames: list[Frame], work: Path, timeout: float = 30.0) -> Outputs:
    """Every frame bmv2 sends, per egress port in order (frames enter on one port)."""
    ports = {f.port for f in frames}
    assert len(ports) == 1, "a program's frames enter on one port (their order is kept)"
    (in_port,) = ports
    work.mkdir(parents=True, exist_ok=True)
    for p in PORTS:
        _write_pcap(work / f"p{p}_in.pcap", [f.data for f in frames] if p == in_port else [])
    argv = ["simple_switch_grpc", "--use-files", "0", "--log-console", "-L", "debug"]
    for p in PORTS:
        argv += ["-i", f"{p}@{work}/p{p}"]
    argv += [str(config), "--", "--grpc-server-addr", f"127.0.0.1:{_free_port()}"]
    log = work / "bmv2.log"
    with log.open("w") as logf:
        proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, cwd=work)
        try:
            deadline = time.monotonic() + timeout
            while True:
                text = log.read_text(errors="replace")
                done = set(
                    re.findall(r"\[(\d+)\.\d+\] \[cxt \d+\] (?:Transmitting|Dropping)", text)
                )
                if len(done) >= len(frames):
                    time.sleep(0.3)  # copies of the last frame still on their way
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"bmv2 did not process every frame; log:\n{text[-3000:]}")
                time.sleep(0.05)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return [(p, fr) for p in PORTS for fr in _read_pcap(work / f"p{p}_out.pcap")]


def by_port(outputs: Outputs) -> dict[int, list[bytes]]:
    """Outputs grouped per egress port, in order (what two targets must agree on)."""
    out: dict[int, list[bytes]] = {}
    for port, frame in outputs:
        out.setdefault(port, []).append(frame)
    return out


def docs_section(title: str) -> str:
    """The text of docs/p4sim-compiler.md under `### <title>` (up to the next heading)."""
    text = DOCS.read_text()
    m = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^#)", text, re.S | re.M)
    assert m, f"docs/p4sim-compiler.md has no '### {title}' section"
    return m.group(1)
