"""p4sim engine: packets/s of the NVGRE program in-process, encap and decap paths.

The large profile (-D NVE_PROFILE_LARGE) with 100,000 CA mappings installed through the
runtime-state API (half of them remote: l2.dmac -> to_tunnel over 1,000 remote NVEs; half
local: l2.dmac -> to_port), the way the P4Runtime server installs them. Frames are built
once; each run sends them round-robin through ``Pipeline.process`` on one core and checks
that every frame came out (a benchmark that silently measures drops would be worthless).
"""

from __future__ import annotations

import gc
import random
import time
from pathlib import Path

from scapy.layers.inet import GRE, IP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from p4sim import engine
from p4sim.compiler import compile_file
from p4sim.state import TableEntry, build_state

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = 100_000
REMOTE_NVES = 1_000
ACCESS_PORTS = 8
NETWORK = 32
VSIS = 100
FRAMES = 2_000
SECONDS = 3.0
RUNS = 3
LOCAL_PA = 0xC0000201


def _insert(st, table: str, key: tuple, action: str, params: tuple = ()) -> None:
    st.table(table).insert(TableEntry(key, st.action_id(action), params))


def build():
    program = compile_file(ROOT / "p4src/v1model/nvgre_nve.p4",
                           include_dirs=[ROOT / "p4src/include"], defines={"NVE_PROFILE_LARGE": 1})
    st = build_state(program.p4info())
    pipeline = engine.load(program, st)
    for port in range(1, ACCESS_PORTS + 1):
        _insert(st, "NveIngress.port.role", (port,), "NveIngress.port.set_access")
    _insert(st, "NveIngress.port.role", (NETWORK,), "NveIngress.port.set_network")
    _insert(st, "NveIngress.decap.my_pa_v4", (LOCAL_PA,), "NveIngress.decap.local_pa")
    for vsi in range(1, VSIS + 1):
        vsid = 0x10000 + vsi
        _insert(st, "NveIngress.vsi.info", (vsi,), "NveIngress.vsi.set_info", (vsid, 0, 0))
        _insert(st, "NveIngress.decap.vsid", (vsid,), "NveIngress.decap.set_vsi", (vsi,))
        for port in range(1, ACCESS_PORTS + 1):
            _insert(st, "NveIngress.access.port_vlan", (port, 1, vsi), "NveIngress.access.set_vsi", (vsi,))
            _insert(st, "NveEgress.access.port_vsi", (port, vsi), "NveEgress.access.untagged")
    for t in range(1, REMOTE_NVES + 1):
        pa = 0x0A000000 + t
        _insert(st, "NveIngress.tunnel.remote", (t,), "NveIngress.tunnel.set_remote_v4", (LOCAL_PA, pa, 1))
        _insert(st, "NveIngress.underlay.routes_v4", ((pa, 32),), "NveIngress.underlay.set_nexthop", (1,))
        for vsi in range(1, VSIS + 1):
            if t % 10 == vsi % 10:
                _insert(st, "NveIngress.decap.peer_v4", (0x10000 + vsi, pa), "NveIngress.decap.peer", (t,))
    _insert(st, "NveIngress.underlay.nexthop", (1,), "NveIngress.underlay.forward",
            (NETWORK, 0x020000000001, 0x020000000002, 0))
    rng = random.Random(7)
    remote, local = [], []
    for i in range(MAPPINGS):
        vsi = 1 + (i // 2) % VSIS
        m = 0x525400000000 + i
        if i % 2:
            t = 1 + rng.randrange(REMOTE_NVES)
            _insert(st, "NveIngress.l2.dmac", (vsi, m), "NveIngress.l2.to_tunnel", (t,))
            remote.append((vsi, m, t))
        else:
            port = 1 + rng.randrange(ACCESS_PORTS)
            _insert(st, "NveIngress.l2.dmac", (vsi, m), "NveIngress.l2.to_port", (port,))
            local.append((vsi, m, port))
            _insert(st, "NveIngress.learn.smac", (vsi, m, port), "NveIngress.learn.known")
    return pipeline, st, remote, local, rng


def _mac(v: int) -> str:
    return ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))


def frames(remote, local, rng):
    encap, decap = [], []
    by_vsi: dict[int, list] = {}
    for entry in local:
        by_vsi.setdefault(entry[0], []).append(entry)
    for _ in range(FRAMES):
        vsi, dmac, _t = rng.choice(remote)
        _v, smac, port = rng.choice(by_vsi[vsi])
        f = (Ether(src=_mac(smac), dst=_mac(dmac)) / Dot1Q(vlan=vsi)
             / IP(src=f"10.{vsi}.0.1", dst=f"10.{vsi}.0.2") / UDP(sport=rng.randrange(65536), dport=80)
             / (b"p" * 64))
        encap.append((port, bytes(f)))
        vsi2, dmac2, _p2 = rng.choice(local)
        t = vsi2 % 10 + 10 * (1 + rng.randrange(REMOTE_NVES // 10 - 1))
        inner = (Ether(src="52:54:00:ff:00:01", dst=_mac(dmac2)) / IP(src="10.9.9.9", dst="10.9.9.8")
                 / UDP(sport=999, dport=80) / (b"q" * 64))
        outer = (Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
                 / IP(src=0x0A000000 + t, dst=LOCAL_PA, proto=47)
                 / GRE(key_present=1, proto=0x6558, key=(0x10000 + vsi2) << 8) / inner)
        decap.append((NETWORK, bytes(outer)))
    return encap, decap


def measure(pipeline, batch) -> tuple[float, int]:
    """Best of RUNS runs of packets per second of CPU time (time.process_time: other
    processes on the machine do not count against the engine)."""
    process = pipeline.process
    best = 0.0
    outputs = 0
    gc.disable()
    try:
        for _ in range(RUNS):
            sent = 0
            start = time.process_time()
            deadline = start + SECONDS / RUNS
            while time.process_time() < deadline:
                for port, data in batch:
                    outputs += len(process(port, data).outputs)
                sent += len(batch)
            best = max(best, sent / (time.process_time() - start))
    finally:
        gc.enable()
    return best, outputs


def main() -> None:
    t0 = time.perf_counter()
    pipeline, st, remote, local, rng = build()
    print(f"setup: {MAPPINGS} CA mappings installed (large profile) in {time.perf_counter() - t0:.1f} s")
    encap, decap = frames(remote, local, rng)
    for name, batch in (("encap", encap), ("decap", decap)):
        pps, outs = measure(pipeline, batch)
        ok = "all frames forwarded" if outs and outs % len(batch) == 0 else f"ONLY {outs} outputs"
        print(f"{name}: {pps:,.0f} packets/s of CPU time on one core, best of {RUNS} ({ok})")


if __name__ == "__main__":
    main()
