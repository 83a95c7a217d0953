"""p4sim engine: packets/s of the NVGRE program in-process, encap and decap paths.

The large profile (-D NVE_PROFILE_LARGE) with 100,000 CA mappings installed through the
runtime-state API (half of them remote: l2.dmac -> to_tunnel over 1,000 remote NVEs; half
local: l2.dmac -> to_port), the way the P4Runtime server installs them. Frames are built
once, and each is checked once against what its path must produce (the NVGRE packet toward
the mapping's remote PA with the VSID in the key and a valid outer checksum around the
untagged customer frame; the bare inner frame on the mapping's local port); each run then
sends them round-robin through ``Pipeline.process`` on one core and counts outputs. No rate
is reported unless every frame was right and every run forwarded every frame (a benchmark
that silently measures drops or wrong output would be worthless).
"""

from __future__ import annotations

import gc
import random
import time
from pathlib import Path
from typing import Any

from scapy.layers.inet import GRE, IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import checksum

from bench._p4sim import quick
from nve.p4names import Action, Table
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
# More distinct flows than a hash call site's memo holds (engine.algorithms.CRC16_MEMO_LIMIT):
# every FlowID/ECMP hash is computed afresh, as with traffic of very many flows.
FRAMES_MANY_FLOWS = 40_000
SECONDS = 3.0
RUNS = 3
LOCAL_PA = 0xC0000201


def _insert(st, table: str, key: tuple, action: str, params: tuple = ()) -> None:
    st.table(table).insert(TableEntry(key, st.action_id(action), params))


def build():
    program = compile_file(
        ROOT / "p4src/v1model/nvgre_nve.p4",
        include_dirs=[ROOT / "p4src/include"],
        defines={"NVE_PROFILE_LARGE": 1},
    )
    st = build_state(program.p4info())
    pipeline = engine.load(program, st)
    for port in range(1, ACCESS_PORTS + 1):
        _insert(st, Table.PORT_ROLE, (port,), Action.PORT_SET_ACCESS)
    _insert(st, Table.PORT_ROLE, (NETWORK,), Action.PORT_SET_NETWORK)
    _insert(st, Table.OUTER_MY_MAC, (0x020000000001,), Action.OUTER_LOCAL_MAC)
    _insert(st, Table.DECAP_MY_PA_V4, (LOCAL_PA,), Action.DECAP_LOCAL_PA)
    for vsi in range(1, VSIS + 1):
        vsid = 0x10000 + vsi
        _insert(st, Table.VSI_INFO, (vsi,), Action.VSI_SET_INFO, (vsid, 0, 0))
        _insert(st, Table.DECAP_VSID, (vsid,), Action.DECAP_SET_VSI, (vsi,))
        for port in range(1, ACCESS_PORTS + 1):
            _insert(
                st,
                Table.ACCESS_PORT_VLAN,
                (port, 1, vsi),
                Action.ACCESS_SET_VSI,
                (vsi,),
            )
            _insert(st, Table.ACCESS_PORT_VSI, (port, vsi), Action.ACCESS_UNTAGGED)
    for t in range(1, REMOTE_NVES + 1):
        pa = 0x0A000000 + t
        _insert(
            st,
            Table.TUNNEL_REMOTE,
            (t,),
            Action.TUNNEL_SET_REMOTE_V4,
            (LOCAL_PA, pa, 1),
        )
        _insert(
            st,
            Table.UNDERLAY_ROUTES_V4,
            ((pa, 32),),
            Action.UNDERLAY_SET_NEXTHOP,
            (1,),
        )
        for vsi in range(1, VSIS + 1):
            if t % 10 == vsi % 10:
                _insert(
                    st,
                    Table.DECAP_PEER_V4,
                    (0x10000 + vsi, pa),
                    Action.DECAP_PEER,
                    (t,),
                )
    _insert(
        st,
        Table.UNDERLAY_NEXTHOP,
        (1,),
        Action.UNDERLAY_FORWARD,
        (NETWORK, 0x020000000001, 0x020000000002, 0),
    )
    rng = random.Random(7)
    remote, local = [], []
    for i in range(MAPPINGS):
        vsi = 1 + (i // 2) % VSIS
        m = 0x525400000000 + i
        if i % 2:
            t = 1 + rng.randrange(REMOTE_NVES)
            _insert(st, Table.L2_DMAC, (vsi, m), Action.L2_TO_TUNNEL, (t,))
            remote.append((vsi, m, t))
        else:
            port = 1 + rng.randrange(ACCESS_PORTS)
            _insert(st, Table.L2_DMAC, (vsi, m), Action.L2_TO_PORT, (port,))
            local.append((vsi, m, port))
            _insert(st, Table.LEARN_SMAC, (vsi, m, port), Action.LEARN_KNOWN)
    return pipeline, st, remote, local, rng


def _mac(v: int) -> str:
    return ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))


def frames(remote, local, rng, count: int = FRAMES):
    """(encap, decap, expected): frame lists of (port, bytes) and, per frame, what must come out."""
    encap: list[tuple[int, bytes]] = []
    decap: list[tuple[int, bytes]] = []
    expected: dict[tuple[int, bytes], tuple[Any, ...]] = {}
    by_vsi: dict[int, list] = {}
    for entry in local:
        by_vsi.setdefault(entry[0], []).append(entry)
    for _ in range(count):
        vsi, dmac, t = rng.choice(remote)
        _v, smac, port = rng.choice(by_vsi[vsi])
        payload = (
            IP(src=f"10.{vsi}.0.1", dst=f"10.{vsi}.0.2")
            / UDP(sport=rng.randrange(65536), dport=80)
            / (b"p" * 64)
        )
        f = bytes(Ether(src=_mac(smac), dst=_mac(dmac)) / Dot1Q(vlan=vsi) / payload)
        encap.append((port, f))
        expected[(port, f)] = (
            "encap",
            0x0A000000 + t,
            0x10000 + vsi,
            bytes(Ether(src=_mac(smac), dst=_mac(dmac)) / payload),
        )
        vsi2, dmac2, port2 = rng.choice(local)
        t = vsi2 % 10 + 10 * (1 + rng.randrange(REMOTE_NVES // 10 - 1))
        inner = bytes(
            Ether(src="52:54:00:ff:00:01", dst=_mac(dmac2))
            / IP(src="10.9.9.9", dst="10.9.9.8")
            / UDP(sport=999, dport=80)
            / (b"q" * 64)
        )
        outer = (
            Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
            / IP(src=0x0A000000 + t, dst=LOCAL_PA, proto=47)
            / GRE(key_present=1, proto=0x6558, key=(0x10000 + vsi2) << 8)
            / inner
        )
        decap.append((NETWORK, bytes(outer)))
        expected[(NETWORK, bytes(outer))] = ("decap", port2, inner)
    return encap, decap, expected


def wrong_outputs(pipeline, batch, expected) -> list[str]:
    """Run each frame once; describe every output that is not what its path must produce."""
    bad = []
    for port, data in batch:
        outs = pipeline.process(port, data).outputs
        exp = expected[(port, data)]
        if exp[0] == "decap":
            if outs != [(exp[1], exp[2])]:
                bad.append(f"decap frame from port {port}: {outs!r:.120}")
            continue
        _, pa, vsid, inner = exp
        ok = len(outs) == 1 and outs[0][0] == NETWORK
        if ok:
            p = Ether(outs[0][1])
            ok = (
                IP in p
                and GRE in p
                and p[IP].dst == _ip(pa)
                and p[IP].src == _ip(LOCAL_PA)
                and p[GRE].key >> 8 == vsid
                and bytes(p[GRE].payload) == inner
                and checksum(bytes(p[IP])[: p[IP].ihl * 4]) == 0
            )
        if not ok:
            bad.append(f"encap frame from port {port}: {outs!r:.120}")
    return bad


def _ip(v: int) -> str:
    return ".".join(str(b) for b in v.to_bytes(4, "big"))


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
    pipeline, _st, remote, local, rng = build()
    print(
        f"setup: {MAPPINGS} CA mappings installed (large profile) in {time.perf_counter() - t0:.1f} s"
    )
    encap, decap, expected = frames(remote, local, rng)
    many = FRAMES_MANY_FLOWS // (10 if quick() else 1)
    encap_many, _, expected_many = frames(remote, local, rng, many)
    expected.update(expected_many)
    for name, batch in (
        (f"encap, {len(encap):,} flows repeated", encap),
        (f"encap, {len(encap_many):,} distinct flows (hash memo always misses)", encap_many),
        (f"decap, {len(decap):,} frames repeated", decap),
    ):
        bad = wrong_outputs(pipeline, batch, expected)
        if bad:
            print(
                f"{name}: {len(bad)} of {len(batch)} frames came out WRONG, no rate reported; first: {bad[0]}"
            )
            continue
        pps, outs = measure(pipeline, batch)
        if not outs or outs % len(batch):
            print(f"{name}: ONLY {outs} outputs in the timed runs, no rate reported")
            continue
        paths = pipeline.paths
        built = (
            f"; specialised paths built so far: {paths.stats.built}, refused {paths.stats.refused}, "
            f"{paths.stats.build_seconds:.2f} s"
            if paths is not None
            else "; paths off"
        )
        print(
            f"{name}: {pps:,.0f} packets/s of CPU time on one core, best of {RUNS} "
            f"(every frame checked, all forwarded{built})"
        )


if __name__ == "__main__":
    main()
