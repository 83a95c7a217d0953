"""Real p4sim switches for the controller's integration tests: compiled once, one process per switch."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
P4SIM = str(Path(sys.executable).with_name("p4sim"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CompiledPipeline:
    p4info: Path
    device_config: Path


def compile_pipeline(out_dir: Path) -> CompiledPipeline:
    """`p4sim compile` of the project's program in the small profile; skip if p4sim cannot yet."""
    p4info, config = out_dir / "nvgre_nve.p4info.txtpb", out_dir / "nvgre_nve.p4sim.json"
    cmd = [P4SIM, "compile", str(ROOT / "p4src/v1model/nvgre_nve.p4"), "-I", str(ROOT / "p4src/include"),
           "-D", "NVE_PROFILE_SMALL", "--p4info", str(p4info), "-o", str(config)]
    if not (ROOT / "p4src/v1model/nvgre_nve.p4").exists():
        pytest.skip("p4src/v1model/nvgre_nve.p4 is not there yet")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "compiler" in reason and "not" in reason:
            pytest.skip(f"p4sim cannot compile yet: {reason}")
        pytest.fail(f"p4sim compile failed: {proc.stderr.strip()}")
    return CompiledPipeline(p4info, config)


@dataclass
class P4simProcess:
    """One p4sim switch with no program; the controller pushes the pipeline."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> "P4simProcess":
        self.log = log_dir / f"p4sim-{self.port}.log"
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([P4SIM, "--no-p4", "--", "--grpc-server-addr", self.address,
                                      "--cpu-port", "255"], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"p4sim exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"p4sim did not listen on {self.address}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


OVERLAY = """
switches:
  - name: tor1
    address: {tor1}
    election_id: {election}
    pipeline: {{p4info: {p4info}, device_config: {config}}}
    nve_mac: "02:00:0a:00:00:01"
    local_pas: [10.0.0.1]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: access, bindings: [{{vsid: 0x001001, vlan: 50}}]}}
      - {{port: 3, role: network, mtu: 9000}}
    next_hops:
      - {{name: spine, port: 3, mac: "02:00:0b:00:00:01"}}
    underlay_routes:
      - {{prefix: 10.0.0.0/16, via: spine}}
  - name: tor2
    address: {tor2}
    election_id: {election}
    pipeline: {{p4info: {p4info}, device_config: {config}}}
    nve_mac: "02:00:0a:00:00:02"
    local_pas: [10.0.0.2]
    ports:
      - {{port: 1, role: access}}
      - {{port: 2, role: access}}
      - {{port: 3, role: network, mtu: 9000}}
    next_hops:
      - {{name: spine, port: 3, mac: "02:00:0b:00:00:11"}}
    underlay_routes:
      - {{prefix: 10.0.0.0/16, via: spine}}
tenants:
  - name: blue
    vrf: 1
    vpn_gateway: 192.168.20.254
    subnets:
      - {{name: web, vsid: 0x001001, gateway: {{mac: "02:00:00:00:10:01", ipv4: 192.168.10.1/24, ipv6: "fd00:b1::1/64"}}}}
      - {{name: db, vsid: 0x001002, gateway: {{mac: "02:00:00:00:10:02", ipv4: 192.168.20.1/24}}}}
  - name: red
    vrf: 2
    subnets:
      - {{name: app, vsid: 0x002001, gateway: {{mac: "02:00:00:00:20:01", ipv4: 192.168.10.1/24}}}}
endpoints:
  - {{name: web1, vsid: 0x001001, mac: "52:54:00:b1:00:01", ipv4: 192.168.10.11, ipv6: "fd00:b1::11",
     attachment: {{switch: tor1, port: 1, vlan: 100}}}}
  - {{name: web2, vsid: 0x001001, mac: "52:54:00:b1:00:02", ipv4: 192.168.10.12, attachment: {{switch: tor2, port: 1}}}}
  - {{name: db1, vsid: 0x001002, mac: "52:54:00:b2:00:01", ipv4: 192.168.20.21, attachment: {{switch: tor1, port: 1, vlan: 200}}}}
  - {{name: vpn, vsid: 0x001002, mac: "52:54:00:b2:00:fe", ipv4: 192.168.20.254, attachment: {{remote_nve: hv9}}}}
  - {{name: red1, vsid: 0x002001, mac: "52:54:00:c1:00:01", ipv4: 192.168.10.11, attachment: {{switch: tor1, port: 1, vlan: 300}}}}
  - {{name: red2, vsid: 0x002001, mac: "52:54:00:c1:00:02", ipv4: 192.168.10.12, attachment: {{switch: tor2, port: 2}}}}
remote_nves:
  - {{name: hv9, pa: 10.0.9.9, flow_id: false, vsids: [0x001002]}}
"""


def overlay_text(tor1: str, tor2: str, pipeline: CompiledPipeline, election: int = 10) -> str:
    return OVERLAY.format(tor1=tor1, tor2=tor2, p4info=pipeline.p4info, config=pipeline.device_config,
                          election=election)
