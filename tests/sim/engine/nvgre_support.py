"""Helpers shared by the engine tests: compile programs, install entries through the
runtime-state API (the one the P4Runtime server uses), and an independent CRC-16/ARC."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nve_ptf.packets import crc16_arc  # noqa: F401 (the tests' reference CRC-16/ARC, not the engine's)
from p4sim import engine
from p4sim.compiler import compile_file, compile_source
from p4sim.state import CloneSession, MatchKind, TableEntry, build_state

ROOT = Path(__file__).resolve().parents[3]
NVGRE = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
INCLUDE = ROOT / "p4src" / "include"


def csum16_reference(data: bytes) -> int:
    """RFC 1071's Internet checksum written out, the tests' reference for bmv2's csum16
    (an odd last byte padded with zero; all-zero data gives 0xFFFF)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def compile_nvgre(defines: Mapping[str, object] | None = None) -> Any:
    return compile_file(NVGRE, include_dirs=[INCLUDE], defines=defines or {"NVE_PROFILE_SMALL": 1})


def load(program: Any, **kw: Any) -> tuple[Any, Any]:
    """A fresh RuntimeState from the program's P4Info and a pipeline bound to it."""
    state = build_state(program.p4info())
    return engine.load(program, state, **kw), state


def compile_text(text: str) -> Any:
    return compile_source(text, filename="test.p4")


def add_entry(
    state: Any,
    table: str,
    match: Mapping[str, Any],
    action: str,
    params: Mapping[str, int] | None = None,
    priority: int = 0,
) -> TableEntry:
    """Insert an entry naming match fields and action params (as P4Runtime would give them).

    EXACT: int; LPM: (value, prefix_len); TERNARY/OPTIONAL: (value, mask); RANGE: (lo, hi).
    Fields left out are don't-care."""
    t = state.table(table)
    key = []
    for f in t.fields:
        if f.name in match:
            key.append(match[f.name])
        elif f.kind == MatchKind.RANGE:
            key.append((0, f.full_mask))
        elif f.kind == MatchKind.EXACT:
            raise KeyError(f"{table}: exact field {f.name} needs a value")
        else:
            key.append((0, 0))
    a = state.names[action]
    values = tuple((params or {})[p.name] for p in a.params)
    entry = TableEntry(tuple(key), a.id, values, priority)
    t.insert(entry)
    return entry


def set_default(
    state: Any, table: str, action: str, params: Mapping[str, int] | None = None
) -> None:
    a = state.names[action]
    state.table(table).set_default(a.id, tuple((params or {})[p.name] for p in a.params))


def clone_session(state: Any, session: int, replicas: tuple[tuple[int, int], ...]) -> None:
    state.pre.sessions[session] = CloneSession(replicas)


# -- the one-VSI NVGRE fixture the pipeline tests start from ------------------------------------
ACCESS, NETWORK = 1, 2
VSI, VSID, TUNNEL, NEXTHOP = 10, 0x123456, 7, 3
LOCAL_PA, REMOTE_PA = "192.0.2.1", "198.51.100.9"
NH_SMAC, NH_DMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
VM_A, VM_B = "52:54:00:00:00:0a", "52:54:00:00:00:0b"


def ip(a: str) -> int:
    return int.from_bytes(bytes(int(x) for x in a.split(".")), "big")


def mac(m: str) -> int:
    return int(m.replace(":", ""), 16)


def install_vsi(st: Any) -> None:
    """Access port 1 and network port 2 of VSID 0x123456: VM_A local on port 1 (learned),
    VM_B behind remote NVE 7 (198.51.100.9, FlowID on), reached through next hop 3."""
    add_entry(st, "NveIngress.port.role", {"port": ACCESS}, "NveIngress.port.set_access")
    add_entry(st, "NveIngress.port.role", {"port": NETWORK}, "NveIngress.port.set_network")
    add_entry(
        st,
        "NveIngress.access.port_vlan",
        {"port": ACCESS, "tagged": 0, "vid": 0},
        "NveIngress.access.set_vsi",
        {"vsi": VSI},
    )
    add_entry(
        st,
        "NveIngress.vsi.info",
        {"vsi": VSI},
        "NveIngress.vsi.set_info",
        {"vsid": VSID, "vrf": 0, "gw_mac": 0},
    )
    add_entry(
        st,
        "NveIngress.learn.smac",
        {"vsi": VSI, "mac": mac(VM_A), "port": ACCESS},
        "NveIngress.learn.known",
    )
    add_entry(
        st,
        "NveIngress.l2.dmac",
        {"vsi": VSI, "mac": mac(VM_B)},
        "NveIngress.l2.to_tunnel",
        {"tunnel": TUNNEL},
    )
    add_entry(
        st,
        "NveIngress.l2.dmac",
        {"vsi": VSI, "mac": mac(VM_A)},
        "NveIngress.l2.to_port",
        {"port": ACCESS},
    )
    add_entry(
        st,
        "NveIngress.tunnel.remote",
        {"tunnel": TUNNEL},
        "NveIngress.tunnel.set_remote_v4",
        {"src_pa": ip(LOCAL_PA), "dst_pa": ip(REMOTE_PA), "use_flow_id": 1},
    )
    add_entry(
        st,
        "NveIngress.underlay.routes_v4",
        {"dst": (ip("198.51.100.0"), 24)},
        "NveIngress.underlay.set_nexthop",
        {"nexthop": NEXTHOP},
    )
    add_entry(
        st,
        "NveIngress.underlay.nexthop",
        {"nexthop": NEXTHOP},
        "NveIngress.underlay.forward",
        {"port": NETWORK, "smac": mac(NH_SMAC), "dmac": mac(NH_DMAC), "vid": 0},
    )
    # This NVE's MAC is the next hop's source MAC (outer frames are sent to it).
    add_entry(st, "NveIngress.outer.my_mac", {"dst": mac(NH_SMAC)}, "NveIngress.outer.local_mac")
    add_entry(st, "NveIngress.decap.my_pa_v4", {"dst": ip(LOCAL_PA)}, "NveIngress.decap.local_pa")
    add_entry(st, "NveIngress.decap.vsid", {"vsid": VSID}, "NveIngress.decap.set_vsi", {"vsi": VSI})
    add_entry(
        st,
        "NveIngress.decap.peer_v4",
        {"vsid": VSID, "src": ip(REMOTE_PA)},
        "NveIngress.decap.peer",
        {"tunnel": TUNNEL},
    )
    add_entry(
        st, "NveEgress.access.port_vsi", {"port": ACCESS, "vsi": VSI}, "NveEgress.access.untagged"
    )
