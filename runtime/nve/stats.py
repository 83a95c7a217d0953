"""Counters of one switch, named the way operators think: per VSID, drop reason, remote NVE.

Counter indices are the controller's own ids (vsi, tunnel), so the names come from the
compiled state of the switch (`Controller.states`), which reuses the installed ids.

Bytes are the customer frame's, the same both ways: without its 802.1Q tag, the outer
headers or a trailer (what crosses the overlay). The pipeline (3.7.0) counts them in the
`frame_bytes` counters, 64 packets-only cells per vsi or tunnel, one per value of each
hexadecimal digit of the frame length (docs/pipeline.md, Counters):
bytes = sum over digit k and value d of cell(k, d) * d * 16**k. A pipeline without
them (older, or TNA) leaves the bytes each counter adds, the frame as the switch received
it (tag or outer headers included); `SwitchCounters.bytes` says which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from finsy.proto import p4r

from nve.p4info import P4Index, P4InfoError
from nve.p4names import Counter, Drop
from nve.p4rt_client import SwitchClient, SwitchError

if TYPE_CHECKING:
    from nve.controller import Controller

Cell = tuple[int, int]  # (packets, bytes)


def _drop_name(code: int) -> str:
    try:
        return Drop(code).name
    except ValueError:
        return f"reason_{code}"


FRAME_CELLS = 64  # cells per vsi/tunnel in a frame_bytes counter (p4src/include/counters.p4)
CUSTOMER_FRAME = "customer frame"
AS_RECEIVED = "as received"


class CountersJson(TypedDict):
    """`nve stats --json` for one switch: cells as [packets, bytes]."""

    bytes: str
    vsid: dict[str, dict[str, list[int]]]
    drops: dict[str, list[int]]
    remote_nve: dict[str, dict[str, list[int]]]
    storm_dropped: dict[str, int]


@dataclass
class SwitchCounters:
    vsid: dict[int, dict[str, Cell]] = field(
        default_factory=dict
    )  # vsid -> {"encap": .., "decap": ..}
    drops: dict[str, Cell] = field(default_factory=dict)  # reason name -> cell (ingress + egress)
    remote: dict[str, dict[str, Cell]] = field(
        default_factory=dict
    )  # remote NVE -> {"tx": .., "rx": ..}
    storm: dict[int, int] = field(default_factory=dict)  # port -> BUM frames storm control dropped
    bytes: str = CUSTOMER_FRAME  # what vsid/remote bytes count: CUSTOMER_FRAME or AS_RECEIVED

    def as_dict(self) -> CountersJson:
        return {
            "bytes": self.bytes,
            "vsid": {
                f"0x{v:06X}": {k: list(c) for k, c in d.items()} for v, d in self.vsid.items()
            },
            "drops": {k: list(c) for k, c in self.drops.items()},
            "remote_nve": {n: {k: list(c) for k, c in d.items()} for n, d in self.remote.items()},
            "storm_dropped": {str(p): n for p, n in self.storm.items()},
        }


async def read_counter(
    client: SwitchClient, index: P4Index, name: str, cells: Iterable[int] | None = None
) -> dict[int, Cell]:
    """The cells of an indexed counter (index -> (packets, bytes)): every one, or those
    listed in `cells` (a VSI counter has thousands; a switch uses a few). Empty if the
    program lacks it."""
    try:
        info = index.counter(name)
    except P4InfoError:
        return {}
    if cells is None:
        reqs = [p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=info.id))]
    else:
        reqs = [
            p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=info.id, index=p4r.Index(index=i)))
            for i in sorted(set(cells))
        ]
        if not reqs:
            return {}
    out: dict[int, Cell] = {}
    for ent in await client.read_all(reqs):
        ce = ent.counter_entry
        out[ce.index.index] = (ce.data.packet_count, ce.data.byte_count)
    return out


async def read_frame_bytes(
    client: SwitchClient, index: P4Index, name: str, ids: Iterable[int]
) -> dict[int, int] | None:
    """Customer-frame bytes per vsi/tunnel id from a `frame_bytes` counter; None if the
    program lacks it. Only the cells of ``ids`` are read (FRAME_CELLS each): cell
    ``(id << 6) + (k << 4) + d`` counts the frames whose length has d as hexadecimal digit k."""
    try:
        index.counter(name)
    except P4InfoError:
        return None
    wanted = sorted(set(ids))
    cells = [i * FRAME_CELLS + c for i in wanted for c in range(FRAME_CELLS)]
    out = dict.fromkeys(wanted, 0)
    for cell, (packets, _) in (await read_counter(client, index, name, cells)).items():
        digit, value = divmod(cell % FRAME_CELLS, 16)
        out[cell // FRAME_CELLS] += packets * value << (4 * digit)
    return out


def _with_bytes(cells: dict[int, Cell], frame: dict[int, int] | None) -> dict[int, Cell]:
    """The cells with their bytes replaced by the customer-frame bytes (if there are any)."""
    if frame is None:
        return cells
    return {i: (c[0], frame.get(i, 0)) for i, c in cells.items()}


def _add(a: Cell | None, b: Cell | None) -> Cell:
    a = a or (0, 0)
    b = b or (0, 0)
    return (a[0] + b[0], a[1] + b[1])


async def collect(ctl: Controller, name: str) -> SwitchCounters:
    session = ctl.sessions[name]
    client, index = session.client, session.index
    if client is None:
        raise SwitchError(f"{name}: not connected")
    state = ctl.states.get(name)
    out = SwitchCounters()
    vsis = list(state.vsi.values()) if state is not None else []
    tunnels = list(state.tunnel_names) if state is not None else []
    decap_b = await read_frame_bytes(client, index, Counter.COUNTERS_FRAME_BYTES_VSI_DECAP, vsis)
    encap_b = await read_frame_bytes(client, index, Counter.COUNTERS_FRAME_BYTES_VSI_ENCAP, vsis)
    rx_b = await read_frame_bytes(client, index, Counter.COUNTERS_FRAME_BYTES_TUNNEL_RX, tunnels)
    tx_b = await read_frame_bytes(client, index, Counter.COUNTERS_FRAME_BYTES_TUNNEL_TX, tunnels)
    if None in (decap_b, encap_b, rx_b, tx_b):
        out.bytes = AS_RECEIVED
        decap_b = encap_b = rx_b = tx_b = None
    decap = _with_bytes(
        await read_counter(client, index, Counter.COUNTERS_VSI_DECAP, vsis), decap_b
    )
    encap = _with_bytes(
        await read_counter(client, index, Counter.COUNTERS_VSI_ENCAP, vsis), encap_b
    )
    if state is not None:
        for vsid, vsi in sorted(state.vsi.items()):
            out.vsid[vsid] = {"encap": encap.get(vsi, (0, 0)), "decap": decap.get(vsi, (0, 0))}
    din = await read_counter(client, index, Counter.INGRESS_COUNTERS_DROPS)
    deg = await read_counter(client, index, Counter.EGRESS_COUNTERS_DROPS)
    for code in sorted(set(din) | set(deg)):
        cell = _add(din.get(code), deg.get(code))
        if cell != (0, 0):
            out.drops[_drop_name(code)] = cell
    storm = await read_counter(client, index, Counter.STORM_DROPPED)
    out.storm = {port: p for port, (p, _) in sorted(storm.items()) if p}
    rx = _with_bytes(await read_counter(client, index, Counter.COUNTERS_TUNNEL_RX, tunnels), rx_b)
    tx = _with_bytes(await read_counter(client, index, Counter.COUNTERS_TUNNEL_TX, tunnels), tx_b)
    if state is not None:
        for tunnel, remote in sorted(state.tunnel_names.items()):
            prev = out.remote.get(remote, {"tx": (0, 0), "rx": (0, 0)})
            out.remote[remote] = {
                "tx": _add(prev["tx"], tx.get(tunnel)),
                "rx": _add(prev["rx"], rx.get(tunnel)),
            }
    return out


BYTES_NOTE = {
    CUSTOMER_FRAME: "bytes = the customer frame both ways (no 802.1Q tag, no outer headers)",
    AS_RECEIVED: "bytes = frames as received by the switch: encap/tx = customer frame from the "
    "access port (802.1Q tag included), decap/rx = NVGRE packet (outer headers included)",
}


def format_table(name: str, s: SwitchCounters) -> str:
    lines = [
        f"== {name}",
        f"({BYTES_NOTE[s.bytes]})",
        f"{'VSID':<10} {'encap pkts':>12} {'encap bytes':>14} {'decap pkts':>12} {'decap bytes':>14}",
    ]
    for vsid, d in s.vsid.items():
        lines.append(
            f"0x{vsid:06X}  {d['encap'][0]:>12} {d['encap'][1]:>14} {d['decap'][0]:>12} {d['decap'][1]:>14}"
        )
    lines.append(
        f"{'remote NVE':<20} {'tx pkts':>10} {'tx bytes':>12} {'rx pkts':>10} {'rx bytes':>12}"
    )
    for remote, d in s.remote.items():
        lines.append(
            f"{remote:<20} {d['tx'][0]:>10} {d['tx'][1]:>12} {d['rx'][0]:>10} {d['rx'][1]:>12}"
        )
    lines.append(f"{'drop reason':<24} {'packets':>10} {'bytes':>12}")
    for reason, (p, b) in s.drops.items():
        lines.append(f"{reason:<24} {p:>10} {b:>12}")
    if not s.drops:
        lines.append("(no drops)")
    for port, n in s.storm.items():
        lines.append(f"storm control: port {port} dropped {n} BUM frames")
    return "\n".join(lines)
